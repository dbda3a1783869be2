"""Who is looking: the session cookie, the CSRF check on every form, and the role's scope.

The scope is a SQL condition put into every query a page runs (lists, counts, search,
previews, exports), so a lead never receives another team's rows, whatever the page shows."""
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy import ColumnElement, true

from api.deps import SessionDep
from campaign import accounts
from campaign.models import Account, DashboardSession, Role, Volunteer
from onramp.settings import get_settings

SESSION_COOKIE = "onramp_session"
LOGIN_CSRF_COOKIE = "onramp_login_csrf"


class NeedsSignIn(Exception):
    """No live session: the page sends the browser to the sign-in page."""


@dataclass
class Viewer:
    account: Account
    session: DashboardSession

    @property
    def csrf(self) -> str:
        return self.session.csrf_token

    @property
    def sees_everything(self) -> bool:
        return self.account.sees_everything

    @property
    def is_admin(self) -> bool:
        return self.account.role == Role.admin

    def people(self) -> ColumnElement[bool]:
        """The volunteers this viewer may see."""
        return true() if self.sees_everything else (Volunteer.team_id == self.account.team_id)

    def team(self, column) -> ColumnElement[bool]:
        return true() if self.sees_everything else (column == self.account.team_id)


def secure_cookies() -> bool:
    return get_settings().base_url.startswith("https://")


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure_cookies(),
                        path="/dashboard")


def viewer(request: Request, session: SessionDep) -> Viewer:
    found = accounts.current(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NeedsSignIn()
    return Viewer(found.account, found)


ViewerDep = Annotated[Viewer, Depends(viewer)]


async def checked_form(request: Request, who: ViewerDep) -> dict:
    """The posted form, refused with 403 unless it carries this session's CSRF token."""
    form = await request.form()
    token = form.get("csrf_token") or ""
    if not secrets.compare_digest(str(token).encode(), who.csrf.encode()):
        raise HTTPException(403, "this form has expired or did not come from the dashboard: reload the page")
    return dict(form)


FormDep = Annotated[dict, Depends(checked_form)]


def organizers_only(who: ViewerDep) -> Viewer:
    if not who.sees_everything:
        raise HTTPException(403, "organizers only")
    return who


def admins_only(who: ViewerDep) -> Viewer:
    if not who.is_admin:
        raise HTTPException(403, "admins only")
    return who


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
