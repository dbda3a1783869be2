"""The inbox: the open handoffs the viewer may see, by folder, urgent first."""
from fastapi import APIRouter, Request
from sqlalchemy import select

from api.dashboard.auth import Viewer, ViewerDep
from api.dashboard.templating import page
from api.deps import SessionDep
from campaign import handoffs
from campaign.models import Account, Handoff, Identity, Team, Volunteer

router = APIRouter(prefix="/dashboard", include_in_schema=False)
FOLDERS = ("mine", "unassigned", "team", "all")


def _inbox_rows(session, who: Viewer, folder: str):
    query = (select(Handoff, Volunteer, Team).join(Volunteer, Volunteer.id == Handoff.volunteer_id)
             .outerjoin(Team, Team.id == Volunteer.team_id)
             .where(Handoff.status == handoffs.Status.open, who.people()))
    if folder == "mine":
        query = query.where(Handoff.assigned_account_id == who.account.id)
    elif folder == "unassigned":
        query = query.where(Handoff.assigned_account_id.is_(None))
    elif folder == "team" and who.account.team_id:
        query = query.where(Volunteer.team_id == who.account.team_id)
    rows = session.execute(query.order_by(Handoff.urgent.desc(), Handoff.opened_at)).all()
    channels = {vid: ch for vid, ch in session.execute(
        select(Identity.volunteer_id, Identity.channel).where(Identity.volunteer_id.in_([v.id for _, v, _ in rows]))
        .order_by(Identity.last_inbound_at.asc().nulls_first()))}
    owners = {a.id: a.email for a in session.scalars(select(Account))}
    return [dict(handoff=h, volunteer=v, team=t, channel=channels.get(v.id, "?"), owner=owners.get(h.assigned_account_id))
            for h, v, t in rows]


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, who: ViewerDep, folder: str = "all"):
    folder = folder if folder in FOLDERS else "all"
    return page(request, "inbox.html", who, folder=folder, rows=_inbox_rows(session, who, folder), folders=FOLDERS)


@router.get("/inbox/rows")
def inbox_rows(request: Request, session: SessionDep, who: ViewerDep, folder: str = "all"):
    """The inbox's table body, polled by the page so that it updates by itself."""
    folder = folder if folder in FOLDERS else "all"
    return page(request, "_inbox_rows.html", who, rows=_inbox_rows(session, who, folder))
