"""Shifts that fit a volunteer, and booking within capacity (the rest go on a waitlist)."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.availability import DAYS, part_of_day
from campaign.db import lock_for_update
from campaign import leads, offers, outbox
from campaign.models import Booking, Shift, Volunteer, utcnow
from campaign.volunteers import reach


def slot_of(starts_at: datetime, timezone: str) -> str:
    local = starts_at.astimezone(ZoneInfo(timezone))
    return f"{DAYS[local.weekday()]}:{part_of_day(local.hour)}"


def booked_count(session: Session, shift_id: int) -> int:
    query = select(func.count()).select_from(Booking).where(Booking.shift_id == shift_id, Booking.status == "booked")
    return session.scalar(query) or 0


def upcoming_fitting(session: Session, volunteer: Volunteer, timezone: str, limit: int = 3,
                     after: datetime | None = None) -> list[Shift]:
    """The next shifts of the volunteer's team whose time fits their availability."""
    if volunteer.team_id is None:
        return []
    slots = set(volunteer.availability or [])
    taken = select(Booking.shift_id).where(Booking.volunteer_id == volunteer.id, Booking.status != "cancelled")
    query = (
        select(Shift)
        .where(Shift.team_id == volunteer.team_id, Shift.starts_at > (after or utcnow()), Shift.id.not_in(taken))
        .order_by(Shift.starts_at)
    )
    found = []
    for shift in session.scalars(query):
        if slots and slot_of(shift.starts_at, timezone) not in slots:
            continue
        found.append(shift)
        if len(found) == limit:
            break
    return found


class NotBookable(ValueError):
    """This person may not book this shift: it has started, or it was never theirs to book."""


def book(session: Session, volunteer: Volunteer, shift_id: int) -> Booking:
    """Book a place, or the waitlist when the shift is full. Safe under concurrent bookings.

    Only a shift of the person's own team, or one they were offered, and only before it starts:
    a forged payload must not put anyone on another team's shift."""
    shift = lock_for_update(session, Shift, shift_id)  # one booking decision per shift at a time
    if shift is None:
        raise LookupError(f"shift {shift_id} does not exist")
    if shift.starts_at <= utcnow():
        raise NotBookable(f"shift {shift_id} has already started")
    if shift.team_id != volunteer.team_id and shift_id not in offers.offered_shift_ids(session, volunteer.id):
        raise NotBookable(f"shift {shift_id} is not of this volunteer's team and was never offered to them")
    existing = session.scalars(
        select(Booking).where(Booking.shift_id == shift_id, Booking.volunteer_id == volunteer.id)
    ).one_or_none()
    if existing is not None and existing.status != "cancelled":
        return existing
    status = "booked" if booked_count(session, shift_id) < shift.capacity else "waitlisted"
    booking = existing or Booking(shift_id=shift_id, volunteer_id=volunteer.id)
    booking.status = status
    booking.created_at = utcnow()  # a place on the waitlist is kept in order of asking
    session.add(booking)
    if status == "booked":
        volunteer.stage = "booked"
        leads.announce_booking(session, volunteer, shift)
    session.flush()
    return booking


def cancel(session: Session, volunteer: Volunteer) -> Booking | None:
    """Cancel the volunteer's next booking; returns it, or None when there was nothing to cancel.
    A place freed goes to the first on the waitlist, who is told."""
    booking = session.scalars(
        select(Booking).join(Shift)
        .where(Booking.volunteer_id == volunteer.id, Booking.status.in_(("booked", "waitlisted")), Shift.starts_at > utcnow())
        .order_by(Shift.starts_at)
    ).first()
    if booking is None:
        return None
    freed = booking.status == "booked"
    booking.status = "cancelled"
    if volunteer.stage == "booked":
        volunteer.stage = "assigned"
    session.flush()
    if freed:
        promote_waitlist(session, booking.shift_id)
    return booking


def promote_waitlist(session: Session, shift_id: int) -> Booking | None:
    shift = lock_for_update(session, Shift, shift_id)
    if booked_count(session, shift_id) >= shift.capacity:
        return None
    first = session.scalars(
        select(Booking).where(Booking.shift_id == shift_id, Booking.status == "waitlisted").order_by(Booking.created_at, Booking.id)
    ).first()
    if first is None:
        return None
    first.status = "booked"
    promoted = session.get(Volunteer, first.volunteer_id)
    promoted.stage = "booked"
    identity = reach(session, promoted.id)
    if identity is not None:
        when = {"type": "datetime", "value": shift.starts_at.isoformat()}
        outbox.enqueue(session, identity, key="waitlist_promoted", params={"when": when, "place": shift.place}, kind="notification")
    leads.announce_booking(session, promoted, shift)
    session.flush()
    return first
