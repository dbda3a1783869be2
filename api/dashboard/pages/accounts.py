"""Dashboard accounts and the access log (admins only)."""
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from api.dashboard.auth import FormDep, Viewer, admins_only
from api.dashboard.templating import page
from api.deps import SessionDep
from api.schemas import PathId
from campaign import accounts
from campaign.models import Account, Team

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/accounts")
def accounts_page(request: Request, session: SessionDep, who: Viewer = Depends(admins_only)):
    teams = {t.id: t.name for t in session.scalars(select(Team))}
    return page(request, "accounts.html", who, accounts=accounts.list_all(session), teams=teams, log=accounts.access_log(session))


@router.post("/accounts/{account_id}/disable")
def account_disable(session: SessionDep, form: FormDep, account_id: PathId, who: Viewer = Depends(admins_only)):
    account = session.get(Account, account_id)
    if account is None:
        raise HTTPException(404, "no such account")
    accounts.disable(session, account.email)
    return RedirectResponse("/dashboard/accounts", status_code=303)
