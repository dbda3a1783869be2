"""Two-step sign-in for one's own account (/dashboard/security): enrol an authenticator app, and
make new recovery codes.

The QR code is drawn here (segno, an SVG in a data: URI, which the dashboard's CSP allows): no
request goes out to draw it, so the secret reaches only this page. The page is
reached signed in, or by a sign-in whose role requires a second step the account has not set
up: then it is the only page open to it, and confirming the first code makes the session."""
from dataclasses import dataclass

import segno
from fastapi import APIRouter, Depends, Request

from api.dashboard.auth import SESSION_COOKIE, NeedsSignIn, Viewer, client_address
from api.dashboard.pages.sign_in import check_csrf, signed_in, waiting_step
from api.dashboard.templating import page
from api.deps import SessionDep, SettingsDep
from campaign import accounts, second_factor
from campaign.models import Account
from campaign.models.account import SignInStep

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@dataclass
class Holder:
    """Whose security page this is: a signed-in viewer, or a sign-in waiting for enrolment."""
    account: Account
    csrf: str
    viewer: Viewer | None
    step: SignInStep | None


def holder(request: Request, session: SessionDep) -> Holder:
    step = waiting_step(request, session, "enrol")
    if step is not None and step.account.totp_secret is None:
        return Holder(step.account, step.csrf_token, None, step)
    found = accounts.current(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NeedsSignIn()
    return Holder(found.account, found.csrf_token, Viewer(found.account, found), None)


HolderDep = Depends(holder)


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def security_page(request: Request, session, settings, who: Holder, error: str | None = None, status_code: int = 200):
    account = who.account
    context = {"csrf": who.csrf, "error": error, "waiting": who.step is not None,
               "required": second_factor.required(session, account.role), "active": "security"}
    if account.totp_secret is not None:
        return page(request, "security.html", who.viewer, status_code=status_code, enrolled=True,
                    enrolled_at=account.totp_enrolled_at, left=second_factor.recovery_codes_left(session, account), **context)
    secret = second_factor.pending_secret(session, account)
    uri = second_factor.provisioning_uri(secret, account.email, settings.campaign_name)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")
    return page(request, "security.html", who.viewer, status_code=status_code, enrolled=False, qr=qr,
                secret=grouped(secret), email=account.email, issuer=settings.campaign_name, **context)


@router.get("/security")
def security(request: Request, session: SessionDep, settings: SettingsDep, who: Holder = HolderDep):
    return security_page(request, session, settings, who)


@router.post("/security/enrol")
async def enrol(request: Request, session: SessionDep, settings: SettingsDep, who: Holder = HolderDep):
    form = await request.form()
    check_csrf(form, who.csrf)
    code = str(form.get("code", ""))
    try:
        if who.step is not None:
            signed, codes = accounts.finish_enrolment(session, who.step, code, settings)
        else:
            signed, codes = None, second_factor.confirm_enrolment(session, who.account, code)
    except second_factor.CodeRefused as error:
        return security_page(request, session, settings, who, str(error), status_code=422)
    accounts.record_access(session, who.account, "2fa_enrolled", who.account.email)  # on the Accounts page
    response = page(request, "recovery_codes.html", who.viewer, codes=codes, enrolled=True, active="security")
    return signed_in(response, signed, settings) if signed is not None else response


@router.post("/security/recovery-codes")
async def new_recovery_codes(request: Request, session: SessionDep, settings: SettingsDep, who: Holder = HolderDep):
    """Ten new recovery codes (the old ones stop working), for a code from the app."""
    form = await request.form()
    check_csrf(form, who.csrf)
    if who.viewer is None or who.account.totp_secret is None:
        return security_page(request, session, settings, who, "Set up two-step sign-in first.", status_code=409)
    try:
        accounts.check_code(session, who.account, str(form.get("code", "")), client_address(request), settings)
    except accounts.Throttled as error:
        return security_page(request, session, settings, who, str(error), status_code=429)
    except second_factor.CodeRefused as error:
        return security_page(request, session, settings, who, str(error), status_code=401)
    codes = second_factor.new_recovery_codes(session, who.account)
    accounts.record_access(session, who.account, "recovery_codes_renewed", who.account.email)
    return page(request, "recovery_codes.html", who.viewer, codes=codes, enrolled=False, active="security")
