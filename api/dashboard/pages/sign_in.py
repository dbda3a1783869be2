"""Signing in and out, and the dashboard's front door.

A right password alone makes a session only for an account without two-step sign-in. Otherwise
it starts a sign-in step (its own cookie, 10 minutes): the code page (/dashboard/login/code), or,
when the account's role requires a second step it has not set up, the enrolment page
(/dashboard/security, api/dashboard/pages/security.py). Any other page sends the browser to
/dashboard/login, which sends a waiting step on to its page."""
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from api.dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, FormDep, ViewerDep, client_address, set_cookie
from api.dashboard.templating import page
from api.deps import SessionDep, SettingsDep
from campaign import accounts, second_factor
from campaign.models.account import SignInStep

router = APIRouter(prefix="/dashboard", include_in_schema=False)

STEP_COOKIE = "onramp_sign_in_step"
STEP_PAGES = {"code": "/dashboard/login/code", "enrol": "/dashboard/security"}
EXPIRED = (f"This sign-in waited more than {accounts.SECOND_STEP_MINUTES} minutes for its second step: "
           "type your email and password again.")
FORGED = "this form has expired or did not come from the dashboard: reload the page"


def waiting_step(request: Request, session, kind: str) -> SignInStep | None:
    """This browser's sign-in waiting for its second step of this kind, if any."""
    step = accounts.waiting_step(session, request.cookies.get(STEP_COOKIE))
    return step if step is not None and step.kind == kind else None


def check_csrf(form, expected: str) -> None:
    if not secrets.compare_digest(str(form.get("csrf_token", "")).encode(), expected.encode()):
        raise HTTPException(403, FORGED)


def signed_in(response, signed: accounts.SignedIn, settings):
    """The session cookie on `response`, and the sign-in step's cookie gone."""
    set_cookie(response, SESSION_COOKIE, signed.token, max_age=settings.dashboard_session_days * 86400)
    response.delete_cookie(STEP_COOKIE, path="/dashboard")
    return response


@router.get("/login")
def login_form(request: Request, session: SessionDep):
    step = accounts.waiting_step(session, request.cookies.get(STEP_COOKIE))
    if step is not None:
        return RedirectResponse(STEP_PAGES[step.kind], status_code=303)
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
    if not expected:
        raise HTTPException(403, FORGED)
    check_csrf(form, expected)
    try:
        signed = accounts.sign_in(session, str(form.get("email", "")), str(form.get("password", "")), client_address(request),
                                  settings)
    except accounts.Throttled as error:
        return login_page(request, str(error), status_code=429)
    if signed is None:
        return login_page(request, "Wrong email or password.", status_code=401)
    if isinstance(signed, accounts.SecondStep):
        response = RedirectResponse(STEP_PAGES[signed.kind], status_code=303)
        set_cookie(response, STEP_COOKIE, signed.token)
        response.delete_cookie(SESSION_COOKIE, path="/dashboard")  # a new sign-in: not someone else's session
        return response
    return signed_in(RedirectResponse("/dashboard/inbox", status_code=303), signed, settings)


@router.get("/login/code")
def code_form(request: Request, session: SessionDep):
    step = waiting_step(request, session, "code")
    if step is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    return code_page(request, step)


def code_page(request: Request, step: SignInStep, error: str | None = None, status_code: int = 200):
    return page(request, "login_code.html", None, status_code=status_code, csrf=step.csrf_token, error=error,
                email=step.account.email)


@router.post("/login/code")
async def login_code(request: Request, session: SessionDep, settings: SettingsDep):
    form = await request.form()
    step = waiting_step(request, session, "code")
    if step is None:
        return login_page(request, EXPIRED, status_code=401)
    check_csrf(form, step.csrf_token)
    try:
        signed = accounts.finish_with_code(session, step, str(form.get("code", "")), client_address(request), settings)
    except accounts.Throttled as error:
        return code_page(request, step, str(error), status_code=429)
    except second_factor.CodeRefused as error:
        return code_page(request, step, str(error), status_code=401)
    return signed_in(RedirectResponse("/dashboard/inbox", status_code=303), signed, settings)


@router.post("/login/cancel")
async def login_cancel(request: Request, session: SessionDep):
    """Leaves a sign-in waiting for its second step (another account, or later)."""
    form = await request.form()
    token = request.cookies.get(STEP_COOKIE, "")
    step = accounts.waiting_step(session, token)
    if step is not None:
        check_csrf(form, step.csrf_token)
        accounts.end_step(session, token)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(STEP_COOKIE, path="/dashboard")
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
