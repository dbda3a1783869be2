"""Which local team a volunteer joins, and why.

The team whose turf covers the volunteer's ZIP or neighborhood, if it has room; otherwise the
nearest team with room. Among equals, a team that speaks the volunteer's language wins.
"""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.models import Neighborhood, Team, Volunteer, ZipCode, utcnow
from campaign.turf import distance_km


class AssignmentError(ValueError):
    """The volunteer cannot be placed; the message says what is missing."""


@dataclass(frozen=True)
class Assignment:
    team: Team
    reason: str
    code: str  # covers | nearest_with_room | override


def members(session: Session, team_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.team_id == team_id)) or 0


def has_room(session: Session, team: Team) -> bool:
    return members(session, team.id) < team.capacity


def _origin(session: Session, volunteer: Volunteer) -> Neighborhood | None:
    if volunteer.neighborhood_id is not None:
        return session.get(Neighborhood, volunteer.neighborhood_id)
    if volunteer.zip_code:
        row = session.get(ZipCode, volunteer.zip_code)
        return row.neighborhood if row else None
    return None


def choose_team(session: Session, volunteer: Volunteer) -> Assignment:
    origin = _origin(session, volunteer)
    if origin is None:
        raise AssignmentError("the volunteer has no known neighborhood or ZIP code yet")
    place = volunteer.zip_code if volunteer.zip_code else origin.name
    covering = origin.team
    if has_room(session, covering):
        return Assignment(covering, f"covers {place}", "covers")

    candidates: list[tuple[float, int, Team]] = []
    for team in session.scalars(select(Team).where(Team.id != covering.id)):
        if not has_room(session, team):
            continue
        distances = [
            distance_km(origin.lat, origin.lon, hood.lat, hood.lon)
            for hood in team.neighborhoods
            if None not in (origin.lat, origin.lon, hood.lat, hood.lon)
        ]
        if distances:
            speaks = 0 if volunteer.language in (team.languages or []) else 1
            candidates.append((min(distances), speaks, team))
    if not candidates:
        raise AssignmentError("every team is full")
    candidates.sort(key=lambda c: (round(c[0], 1), c[1]))
    km, _, team = candidates[0]
    return Assignment(team, f"{covering.name} is full; nearest team with room, {km:.1f} km", "nearest_with_room")


def assign(session: Session, volunteer: Volunteer, team: Team | None = None, reason: str | None = None) -> Assignment:
    """Assign (or, with `team`, override) and record why."""
    result = Assignment(team, reason or "set by an organizer", "override") if team else choose_team(session, volunteer)
    volunteer.team_id = result.team.id
    volunteer.assignment_reason = result.reason
    volunteer.assigned_at = utcnow()
    if volunteer.stage in ("new", "onboarding"):
        volunteer.stage = "assigned"
    return result
