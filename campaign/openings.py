"""The shifts that may be offered to a person, and how they are offered: as choices that a tap
books. Read only: booking, waitlists and changes to a shift are in campaign/shifts.py.

Apart from shifts.py so that the reminders can offer shifts (a follow-up offers the next fitting
ones, campaign/reminders.py) while shifts.py plans reminders: both import this module, and it
imports neither.
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.availability import DAYS, part_of_day
from campaign.booking_status import BookingStatus
from campaign.models import Booking, Neighborhood, Shift, Volunteer, ZipCode, utcnow
from campaign.turf import distance_km


def when(moment: datetime) -> dict:
    """A moment as a catalog parameter, rendered in the reader's language and the campaign's
    time zone (bot/catalog.py): a shift's time in a choice, a reminder, a notice."""
    return {"type": "datetime", "value": moment.isoformat()}


def slot_of(starts_at: datetime, timezone: str) -> str:
    local = starts_at.astimezone(ZoneInfo(timezone))
    return f"{DAYS[local.weekday()]}:{part_of_day(local.hour)}"


def open_shifts(after: datetime | None = None):
    """The shifts that may still be offered: not cancelled and not started (book() refuses the
    others). Every query that offers shifts starts here."""
    return select(Shift).where(Shift.cancelled_at.is_(None), Shift.starts_at > (after or utcnow()))


def upcoming_fitting(session: Session, volunteer: Volunteer, timezone: str, limit: int = 3,
                     after: datetime | None = None) -> list[Shift]:
    """The next shifts of the volunteer's team whose time fits their availability."""
    if volunteer.team_id is None:
        return []
    slots = set(volunteer.availability or [])
    taken = select(Booking.shift_id).where(Booking.volunteer_id == volunteer.id, Booking.status != BookingStatus.CANCELLED)
    query = open_shifts(after).where(Shift.team_id == volunteer.team_id, Shift.id.not_in(taken)).order_by(Shift.starts_at)
    found = []
    for shift in session.scalars(query):
        if slots and slot_of(shift.starts_at, timezone) not in slots:
            continue
        found.append(shift)
        if len(found) == limit:
            break
    return found


def offer_choices(shifts: list[Shift]) -> list[dict]:
    """Shifts as choices; a tap books that shift (the assistant's rule for a tapped shift)."""
    return [{"key": "choice_shift", "params": {"when": when(s.starts_at)}, "payload": f'/affirm{{"shift_id": {s.id}}}'}
            for s in shifts]


# How far ahead alternatives are looked for, and how near another team must be to be offered.
ALTERNATIVES_DAYS = 14
NEARBY_TEAM_KM = 8.0


def _team_distances(session: Session, volunteer: Volunteer) -> dict[int, float]:
    """Each other team's distance from the volunteer's neighborhood (its nearest neighborhood)."""
    home = session.get(Neighborhood, volunteer.neighborhood_id) if volunteer.neighborhood_id else None
    if home is None and volunteer.zip_code:
        home = session.scalars(select(Neighborhood).join(ZipCode).where(ZipCode.zip_code == volunteer.zip_code)).first()
    if home is None or home.lat is None or home.lon is None:
        return {}
    distances: dict[int, float] = {}
    for hood in session.scalars(select(Neighborhood).where(Neighborhood.team_id != volunteer.team_id)):
        if hood.lat is not None and hood.lon is not None:
            km = distance_km(home.lat, home.lon, hood.lat, hood.lon)
            distances[hood.team_id] = min(km, distances.get(hood.team_id, km))
    return distances


def alternatives(session: Session, volunteer: Volunteer, timezone: str, limit: int = 3) -> list[Shift]:
    """When no shift of the team fits: the team's own shifts at other times, and nearby teams'
    shifts that fit, within the next two weeks, soonest first (a plain "yes" takes the first)."""
    if volunteer.team_id is None:
        return []
    until = utcnow() + timedelta(days=ALTERNATIVES_DAYS)
    slots = set(volunteer.availability or [])
    taken = select(Booking.shift_id).where(Booking.volunteer_id == volunteer.id, Booking.status != BookingStatus.CANCELLED)
    upcoming = open_shifts().where(Shift.starts_at <= until, Shift.id.not_in(taken)).order_by(Shift.starts_at)
    nearby = sorted((km, team_id) for team_id, km in _team_distances(session, volunteer).items() if km <= NEARBY_TEAM_KM)
    fitting: list[Shift] = []
    for _, team_id in nearby:  # one per team, nearest team first: several places, not one calendar
        fitting += [s for s in session.scalars(upcoming.where(Shift.team_id == team_id))
                    if slot_of(s.starts_at, timezone) in slots][:1]
        if len(fitting) == limit:
            break
    own = list(session.scalars(upcoming.where(Shift.team_id == volunteer.team_id).limit(limit)))
    # at least one of the team's own times when it has any: the person joined this team
    mine = min(len(own), max(1, limit - len(fitting)))
    return sorted(fitting[:limit - mine] + own[:mine], key=lambda s: s.starts_at)
