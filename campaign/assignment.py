"""Which local team a volunteer joins, and why.

The team whose turf covers the volunteer's neighborhood or ZIP, if it has room. Otherwise the
nearest team with room (by the distance between the volunteer's neighborhood centroid or ZIP
coordinates and the team's neighborhoods); among teams about as near, one whose lead speaks the
volunteer's language wins. Every assignment stores a short reason an organizer can read.
"""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import leads
from campaign.models import Neighborhood, Team, Volunteer, ZipCode, utcnow
from campaign.schedule import Cadence
from campaign.turf import distance_km, zip_coordinates

# Teams within this much of the nearest one count as "about as near": language decides.
LANGUAGE_SLACK_KM = 1.5


class AssignmentError(ValueError):
    """The volunteer cannot be placed; the message says what is missing."""


@dataclass(frozen=True)
class Assignment:
    team: Team
    reason: str
    code: str  # covers | nearest_with_room | override


@dataclass(frozen=True)
class Origin:
    """Where a volunteer is, as far as we know it."""

    label: str  # "11372" or "Jackson Heights": what the reason names
    lat: float | None
    lon: float | None
    covering_team_id: int | None


class Assigner:
    """Teams, their turf and their head counts, loaded once: assigning many volunteers in a row
    (a bulk import, the benchmark) costs one query, not one per volunteer."""

    def __init__(self, session: Session):
        self.session = session
        self.teams: dict[int, Team] = {t.id: t for t in session.scalars(select(Team))}
        self.hoods: dict[int, Neighborhood] = {n.id: n for n in session.scalars(select(Neighborhood))}
        self.zips: dict[str, int] = dict(session.execute(select(ZipCode.zip_code, ZipCode.neighborhood_id)).all())
        counts = session.execute(select(Volunteer.team_id, func.count()).where(Volunteer.team_id.is_not(None)).group_by(Volunteer.team_id))
        self.members: dict[int, int] = {team_id: n for team_id, n in counts}
        self.points: dict[int, list[tuple[float, float]]] = {}
        for hood in self.hoods.values():
            if hood.lat is not None and hood.lon is not None:
                self.points.setdefault(hood.team_id, []).append((hood.lat, hood.lon))

    def origin(self, neighborhood_id: int | None, zip_code: str | None) -> Origin:
        hood_id = neighborhood_id if neighborhood_id in self.hoods else self.zips.get(zip_code or "")
        if hood_id is not None:
            hood = self.hoods[hood_id]
            return Origin(zip_code or hood.name, hood.lat, hood.lon, hood.team_id)
        if zip_code:
            point = zip_coordinates(zip_code)
            if point is not None:
                return Origin(zip_code, point[0], point[1], None)
            raise AssignmentError(f"ZIP code {zip_code} is not a known US ZIP code")
        raise AssignmentError("the volunteer has no known neighborhood or ZIP code yet")

    def has_room(self, team_id: int) -> bool:
        return self.members.get(team_id, 0) < self.teams[team_id].capacity

    def choose(self, origin: Origin, language: str | None) -> tuple[int, str, str]:
        """(team id, reason, code) for a volunteer at `origin` who speaks `language`."""
        covering = origin.covering_team_id
        if covering is not None and self.has_room(covering):
            return covering, f"covers {origin.label}", "covers"
        if origin.lat is None or origin.lon is None:
            raise AssignmentError(f"{self.teams[covering].name} is full and {origin.label} has no coordinates")
        candidates = []
        for team_id, points in self.points.items():
            if team_id == covering or not self.has_room(team_id):
                continue
            km = min(distance_km(origin.lat, origin.lon, lat, lon) for lat, lon in points)
            candidates.append((km, team_id))
        if not candidates:
            raise AssignmentError("every team is full")
        nearest = min(km for km, _ in candidates)
        near = [(km, team_id) for km, team_id in candidates if km <= nearest + LANGUAGE_SLACK_KM]

        def preference(item):
            km, team_id = item
            team = self.teams[team_id]
            return (team.lead_language != language, language not in (team.languages or []), km)

        km, team_id = min(near, key=preference)
        reason = f"nearest team with room, {km:.1f} km"
        if km > nearest + 0.05:
            reason += f"; its lead speaks {language}"
        if covering is not None:
            reason = f"{self.teams[covering].name} is full; {reason}"
        return team_id, reason, "nearest_with_room"

    def take(self, team_id: int) -> None:
        self.members[team_id] = self.members.get(team_id, 0) + 1


def assign(session: Session, volunteer: Volunteer, cadence: Cadence, team: Team | None = None,
           reason: str | None = None) -> Assignment:
    """Assign (or, with `team`, override) and record why; a new team's lead is told."""
    if team is not None:
        result = Assignment(team, reason or "set by an organizer", "override")
    else:
        assigner = Assigner(session)
        if volunteer.team_id is not None:
            assigner.members[volunteer.team_id] -= 1  # re-assigning: do not count them twice
        team_id, why, code = assigner.choose(assigner.origin(volunteer.neighborhood_id, volunteer.zip_code), volunteer.language)
        result = Assignment(assigner.teams[team_id], why, code)
    changed = volunteer.team_id != result.team.id
    volunteer.team_id = result.team.id
    volunteer.assignment_reason = result.reason
    volunteer.assigned_at = utcnow()
    if volunteer.stage in ("new", "onboarding"):
        volunteer.stage = "assigned"
    if changed:
        leads.announce_member(session, volunteer, result.team, cadence)
    return result
