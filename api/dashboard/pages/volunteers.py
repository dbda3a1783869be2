"""The people: the list with its search and filters, the CSV export of the same rows, and one
person's page. Every view and export is written to the access log."""
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from api import csv_cells
from api.dashboard import transcript
from api.dashboard.auth import Viewer, ViewerDep
from api.dashboard.templating import PAGE_SIZE, page
from api.deps import SessionDep
from api.schemas import PathId, QueryId
from campaign import accounts, handoffs
from campaign.models import Identity, Message, Team, Volunteer
from onramp.settings import get_settings

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _volunteer_query(who: Viewer, q: str = "", language: str = "", team: str = "", stage: str = ""):
    last = (select(Message.volunteer_id, func.max(Message.created_at).label("last"))
            .where(Message.direction == "in").group_by(Message.volunteer_id).subquery())
    query = (select(Volunteer, Team, last.c.last).outerjoin(Team, Team.id == Volunteer.team_id)
             .outerjoin(last, last.c.volunteer_id == Volunteer.id)
             .where(who.people(), Volunteer.signup_source.is_(None) | (Volunteer.signup_source != "lead")))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Volunteer.name.ilike(like), Volunteer.zip_code.ilike(like),
                                Volunteer.id.in_(select(Identity.volunteer_id).where(Identity.external_id.ilike(like)))))
    if language:
        query = query.where(Volunteer.language == language)
    if team:
        query = query.where(Team.slug == team)
    if stage:
        query = query.where(Volunteer.stage == stage)
    return query.order_by(last.c.last.desc().nulls_last(), Volunteer.id.desc())


@router.get("/volunteers")
def volunteers(request: Request, session: SessionDep, who: ViewerDep, q: str = "", language: str = "", team: str = "",
               stage: str = ""):
    rows = session.execute(_volunteer_query(who, q, language, team, stage).limit(PAGE_SIZE)).all()
    total = session.scalar(select(func.count()).select_from(_volunteer_query(who, q, language, team, stage).subquery()))
    teams = session.scalars(select(Team).where(who.team(Team.id)).order_by(Team.name)).all()
    return page(request, "volunteers.html", who, rows=rows, total=total, page_size=PAGE_SIZE, teams=teams, languages=get_settings().languages,
                filters=dict(q=q, language=language, team=team, stage=stage),
                stages=("new", "onboarding", "assigned", "booked"))


@router.get("/volunteers.csv")
def volunteers_csv(session: SessionDep, who: ViewerDep, q: str = "", language: str = "", team: str = "", stage: str = "",
                   id: QueryId | None = None):
    query = _volunteer_query(who, q, language, team, stage)
    if id is not None:
        query = query.where(Volunteer.id == id)
    rows = session.execute(query).all()
    if id is not None and not rows:
        raise HTTPException(404, "no such volunteer")
    text = csv_cells.table(
        ["id", "name", "language", "neighborhood", "zip_code", "team", "stage", "source", "last_message"],
        ([volunteer.id, volunteer.name or "", volunteer.language or "", volunteer.neighborhood_name or "",
          volunteer.zip_code or "", team_row.name if team_row else "", volunteer.stage,
          volunteer.signup_source or "", last.isoformat() if last else ""] for volunteer, team_row, last in rows))
    accounts.record_access(session, who.account, "csv_exported",
                           f"{len(rows)} volunteers; filters q={q!r} language={language!r} team={team!r} stage={stage!r} id={id}")
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="volunteers.csv"'})


@router.get("/volunteers/{volunteer_id}")
def person(request: Request, session: SessionDep, who: ViewerDep, volunteer_id: PathId):
    volunteer = session.scalars(select(Volunteer).where(Volunteer.id == volunteer_id, who.people())).one_or_none()
    if volunteer is None:
        raise HTTPException(404, "no such volunteer")
    accounts.record_access(session, who.account, "person_viewed", f"volunteer {volunteer.id}")
    handoff = handoffs.open_handoff(session, volunteer.id)
    return page(request, "person.html", who, volunteer=volunteer, handoff=handoff,
                identities=session.scalars(select(Identity).where(Identity.volunteer_id == volunteer.id)).all(),
                lines=transcript.lines(session, volunteer, get_settings()))
