"""Teams and their shifts."""
from datetime import datetime

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from api.schemas import Moment, PathId, QueryId
from api.deps import SessionDep
from api.routes.volunteers import shift_out
from api.schemas import BoroughListOut, ShiftOut, TeamOut
from campaign.models import Neighborhood, Shift, Team, utcnow

router = APIRouter(prefix="/v1", tags=["teams and shifts"])


@router.get("/teams", response_model=list[TeamOut])
def list_teams(session: SessionDep):
    return list(session.scalars(select(Team).order_by(Team.name)))


@router.get("/teams/{team_id}", response_model=TeamOut)
def get_team(session: SessionDep, team_id: PathId):
    team = session.get(Team, team_id)
    if team is None:
        raise HTTPException(404, f"team {team_id} does not exist")
    return team


@router.get("/boroughs", response_model=list[BoroughListOut])
def list_boroughs(session: SessionDep):
    """Each borough with the neighborhoods of its teams (for a supporter who picks from a list)."""
    rows = session.execute(select(Team.borough, Neighborhood.name).join(Neighborhood, Neighborhood.team_id == Team.id)
                           .where(Team.borough.is_not(None)).order_by(Team.borough, Neighborhood.name))
    boroughs: dict[str, list[str]] = {}
    for borough, name in rows:
        boroughs.setdefault(borough, []).append(name)
    return [BoroughListOut(name=name, neighborhoods=hoods) for name, hoods in boroughs.items()]


@router.get("/shifts", response_model=list[ShiftOut])
def list_shifts(session: SessionDep, team_id: QueryId | None = None, after: Moment | None = None):
    """Upcoming shifts (from now, or from `after`), soonest first."""
    if after is not None and after.tzinfo is None:
        raise HTTPException(422, "after: give a time zone, e.g. 2026-12-01T09:00:00-05:00")
    query = select(Shift).where(Shift.starts_at > (after or utcnow()), Shift.cancelled_at.is_(None)).order_by(Shift.starts_at)
    if team_id is not None:
        query = query.where(Shift.team_id == team_id)
    return [shift_out(session, shift) for shift in session.scalars(query.limit(500))]
