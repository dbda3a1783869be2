"""Signing in and out, and the dashboard's front door."""
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from api.dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, FormDep, ViewerDep, client_address, set_cookie
from api.dashboard.templating import page
from api.deps import SessionDep, SettingsDep
from campaign import accounts

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/login")
def login_form(request: Request):
    return login_page(request)


def login_page(request: Request, error: str | None = None, status_code: int = 200):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", None, status_code=status_code, csrf=token, error=error)
    set_cookie(response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep):
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(str(form.get("csrf_token", "")).encode(), expected.encode()):
        raise HTTPException(403, "this form has expired or did not come from the dashboard: reload the page")
    try:
        signed = accounts.sign_in(session, str(form.get("email", "")), str(form.get("password", "")), client_address(request),
                                  settings)
    except accounts.Throttled as error:
        return login_page(request, str(error), status_code=429)
    if signed is None:
        return login_page(request, "Wrong email or password.", status_code=401)
    response = RedirectResponse("/dashboard/inbox", status_code=303)
    set_cookie(response, SESSION_COOKIE, signed.token, max_age=settings.dashboard_session_days * 86400)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, who: ViewerDep, form: FormDep):
    accounts.sign_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response


@router.get("")
@router.get("/")
def home(who: ViewerDep):
    return RedirectResponse("/dashboard/inbox", status_code=303)
