"""Booking within capacity (the rest go on a waitlist), and changing or cancelling a shift.

Which shifts fit a volunteer, and the choices that offer them, are in campaign/openings.py.
"""
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.db import lock_for_update
from campaign import leads, offers, outbox, reminders
from campaign.booking_status import ACTIVE, HOLDING, BookingStatus, move
from campaign.models import Booking, Shift, Team, Volunteer, utcnow
from campaign.models.outbox import OutboxKind
from campaign.openings import offer_choices, upcoming_fitting
# Callers (api/routes/volunteers.py, tests) still reach these as shifts.alternatives and
# shifts.slot_of; they moved to campaign/openings.py with the other offering queries.
from campaign.openings import alternatives, slot_of  # noqa: F401
from campaign.schedule import Cadence
from campaign.volunteers import reach

# the place the lead must hear about at once when a booking is cancelled this close to the shift
LEAD_TOLD_WITHIN = timedelta(hours=24)


def booked_count(session: Session, shift_id: int) -> int:
    query = select(func.count()).select_from(Booking).where(Booking.shift_id == shift_id, Booking.status.in_(HOLDING))
    return session.scalar(query) or 0


def wish_for_shift(session: Session, volunteer: Volunteer, cadence: Cadence) -> bool:
    """The person asked to be told when a shift that fits opens: their team lead is told now
    (an announcement in the outbox, like a new member). False when there is no lead to tell."""
    team = session.get(Team, volunteer.team_id) if volunteer.team_id else None
    if team is None:
        return False
    leads.announce_shift_wish(session, volunteer, team, cadence)
    return True


class NotBookable(ValueError):
    """This person may not book this shift; `reason` says why in a few words (the API's 409)."""

    def __init__(self, shift_id: int, reason: str):
        super().__init__(f"shift {shift_id} cannot be booked: {reason}")
        self.reason = reason


class ShiftUnavailable(NotBookable):
    """Nobody may book this shift any more."""

    CANCELLED, STARTED = "shift cancelled", "shift already started"


def book(session: Session, volunteer: Volunteer, shift_id: int, cadence: Cadence) -> Booking:
    """Book a place, or the waitlist when the shift is full. Safe under concurrent bookings.
    A place booked plans its reminders (booking.planned says which, for the confirmation).

    Only a shift of the person's own team, or one they were offered, and only while it is open
    (not cancelled, not started): a forged payload or an old offer must not put anyone on it.
    Every way of booking (the API, so the chat, and anything else) comes here for that check."""
    # One booking decision per shift at a time, and the same lock as cancel_shift(): a booking
    # either commits first (and the cancellation then cancels it) or sees the shift cancelled.
    shift = lock_for_update(session, Shift, shift_id)
    if shift is None:
        raise LookupError(f"shift {shift_id} does not exist")
    if shift.cancelled_at is not None:
        raise ShiftUnavailable(shift_id, ShiftUnavailable.CANCELLED)
    if shift.starts_at <= utcnow():
        raise ShiftUnavailable(shift_id, ShiftUnavailable.STARTED)
    if shift.team_id != volunteer.team_id and shift_id not in offers.offered_shift_ids(session, volunteer.id):
        raise NotBookable(shift_id, "not of this volunteer's team and never offered to them")
    existing = session.scalars(
        select(Booking).where(Booking.shift_id == shift_id, Booking.volunteer_id == volunteer.id)
    ).one_or_none()
    if existing is not None and existing.status != BookingStatus.CANCELLED:
        existing.planned = []
        return existing
    status = BookingStatus.BOOKED if booked_count(session, shift_id) < shift.capacity else BookingStatus.WAITLISTED
    if existing is None:
        booking = Booking(shift_id=shift_id, volunteer_id=volunteer.id, status=str(status))
    else:
        booking = existing
        move(booking, status)
    booking.created_at = utcnow()  # a place on the waitlist is kept in order of asking
    session.add(booking)
    booking.attendance = booking.attendance_source = None
    session.flush()
    booking.planned = []
    if status == BookingStatus.BOOKED:
        volunteer.stage = "booked"
        leads.announce_booking(session, volunteer, shift, cadence)
        booking.planned = reminders.plan_booking(session, booking, cadence)
    session.flush()
    return booking


def cancel(session: Session, volunteer: Volunteer, cadence: Cadence) -> Booking | None:
    """Cancel the volunteer's next booking; returns it, or None when there was nothing to cancel."""
    booking = session.scalars(
        select(Booking).join(Shift)
        .where(Booking.volunteer_id == volunteer.id, Booking.status.in_(ACTIVE), Shift.starts_at > utcnow())
        .order_by(Shift.starts_at)
    ).first()
    if booking is None:
        return None
    cancel_booking(session, booking, cadence)
    return booking


def release_opted_out(session: Session, cadence: Cadence, now: datetime | None = None) -> int:
    """Whoever opted out (by STOP, CANCEL, a provider's report, an organizer) gives up their
    upcoming places: the waitlist moves up and the lead is told. Swept by the worker, so every
    way of opting out is covered. Returns how many bookings were released."""
    now = now or utcnow()
    held = session.scalars(select(Booking).join(Shift).join(Volunteer, Volunteer.id == Booking.volunteer_id).where(
        Volunteer.consent_status == "opted_out", Booking.status.in_(ACTIVE), Shift.starts_at > now)).all()
    for booking in held:
        cancel_booking(session, booking, cadence, tell_lead="always")
    return len(held)


def cancel_booking(session: Session, booking: Booking, cadence: Cadence, tell_lead: bool | str = True) -> Booking | None:
    """Cancel this booking and its planned rows. A place freed goes to the first on the
    waitlist, who is told; inside 24 hours of the shift the lead is told too. Returns the
    promoted booking, if any."""
    freed = booking.status in HOLDING
    move(booking, BookingStatus.CANCELLED)
    reminders.cancel_booking_rows(session, booking)
    volunteer = session.get(Volunteer, booking.volunteer_id)
    _no_place_left(session, volunteer)
    session.flush()
    if not freed:
        return None
    shift = session.get(Shift, booking.shift_id)
    if tell_lead == "always" or (tell_lead and shift.starts_at - utcnow() < LEAD_TOLD_WITHIN):
        leads.announce_cancellation(session, volunteer, shift)
    return promote_waitlist(session, booking.shift_id, cadence)


def _no_place_left(session: Session, volunteer: Volunteer) -> None:
    """Someone left without a place on any upcoming shift is no longer at the booked stage."""
    session.flush()
    still_booked = session.scalar(select(func.count()).select_from(Booking).join(Shift).where(
        Booking.volunteer_id == volunteer.id, Booking.status.in_(HOLDING), Shift.starts_at > utcnow()))
    if volunteer.stage == "booked" and not still_booked:
        volunteer.stage = "assigned"


def promote_waitlist(session: Session, shift_id: int, cadence: Cadence) -> Booking | None:
    shift = lock_for_update(session, Shift, shift_id)
    if booked_count(session, shift_id) >= shift.capacity:
        return None
    first = session.scalars(
        select(Booking).where(Booking.shift_id == shift_id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.created_at, Booking.id)
    ).first()
    if first is None:
        return None
    move(first, BookingStatus.BOOKED)
    promoted = session.get(Volunteer, first.volunteer_id)
    promoted.stage = "booked"
    identity = reach(session, promoted.id)
    if identity is not None:
        when = {"type": "datetime", "value": shift.starts_at.isoformat()}
        outbox.enqueue(session, identity, key="waitlist_promoted", params={"when": when, "place": shift.place}, kind="notification")
    leads.announce_booking(session, promoted, shift, cadence)
    session.flush()
    reminders.plan_booking(session, first, cadence)
    return first


MOVED_TO_WAITLIST = "shift_capacity_waitlisted"


def waitlist_over_capacity(session: Session, shift: Shift) -> list[Booking]:
    """The rule when a shift has fewer places than people holding one: first come keeps its
    place, and the latest bookings go back to the waitlist, where they come before everyone who
    asked after them (the waitlist is kept in order of asking). Their reminders are cancelled
    and each is told, in their language. Once the shift has started nobody is moved.
    Returns the bookings moved."""
    if shift.starts_at <= utcnow():
        return []
    holding = list(session.scalars(select(Booking).where(Booking.shift_id == shift.id, Booking.status.in_(HOLDING))
                                   .order_by(Booking.created_at, Booking.id)))
    over = holding[max(shift.capacity, 0):]
    for booking in over:
        move(booking, BookingStatus.WAITLISTED)
        reminders.cancel_booking_rows(session, booking, reason="moved_to_waitlist")
        _no_place_left(session, session.get(Volunteer, booking.volunteer_id))
        identity = reach(session, booking.volunteer_id)
        if identity is not None:  # not tied to the booking: a notice to someone without a place must still go
            outbox.enqueue(session, identity, key=MOVED_TO_WAITLIST, kind=OutboxKind.NOTIFICATION,
                           params=reminders.shift_params(shift), deadline=shift.starts_at, shift_id=shift.id)
    session.flush()
    return over


def change_shift(session: Session, shift: Shift, cadence: Cadence, starts_at: datetime | None = None,
                 ends_at: datetime | None = None, place: str | None = None, capacity: int | None = None) -> list[Booking]:
    """Change a shift's time, place or capacity; the API and the file import both come here.

    A new time or place re-plans the rows of everyone holding a place, and each is told, in
    their language. Fewer places than people booked: the latest go to the waitlist
    (waitlist_over_capacity). More places: the waitlist moves up, first come first, and each
    promoted person is told. Whoever is still waiting after that is told of a new time or place
    too (they asked for the old one), once: one message each, whatever else changed. A value
    equal to the shift's own changes nothing, so the same change made twice tells nobody twice.
    Returns the bookings whose people were told."""
    lock_for_update(session, Shift, shift.id)  # one decision about this shift's places at a time, as in book()
    new_start = starts_at if starts_at is not None else shift.starts_at
    if starts_at is not None and ends_at is None:
        ends_at = new_start + (shift.ends_at - shift.starts_at)  # the same length, moved
    new_end = ends_at if ends_at is not None else shift.ends_at
    moved = new_start != shift.starts_at or new_end != shift.ends_at or (place is not None and place != shift.place)
    shift.starts_at, shift.ends_at = new_start, new_end
    shift.place = place if place is not None else shift.place
    resized = capacity is not None and capacity != shift.capacity
    if capacity is not None:
        shift.capacity = capacity
    session.flush()
    told: list[Booking] = []
    if moved:
        outbox.cancel_for(session, "shift_changed", shift_id=shift.id)  # earlier notices, the lead's digest
    if resized:
        told += waitlist_over_capacity(session, shift)  # first: they hear of the waitlist, not of a new time
    if moved:
        booked = list(session.scalars(select(Booking).where(Booking.shift_id == shift.id, Booking.status.in_(HOLDING))))
        for booking in booked:
            reminders.plan_booking(session, booking, cadence)  # first: it cancels the booking's older rows
            identity = reach(session, booking.volunteer_id)
            if identity is not None:
                outbox.enqueue(session, identity, key=reminders.SHIFT_CHANGED, kind=OutboxKind.NOTIFICATION,
                               params=reminders.shift_params(shift), deadline=shift.starts_at,
                               booking_id=booking.id, shift_id=shift.id)
            told.append(booking)
    while capacity is not None and shift.starts_at > utcnow():
        promoted = promote_waitlist(session, shift.id, cadence)  # after: they hear of their place, at its new time
        if promoted is None:
            break
        told.append(promoted)
    if moved:
        told += _tell_waiting(session, shift, already=told)
    return told


def _tell_waiting(session: Session, shift: Shift, already: list[Booking]) -> list[Booking]:
    """Tell the people still on the shift's waitlist its new time or place."""
    told_ids = {booking.id for booking in already}
    told = []
    waiting = session.scalars(select(Booking).where(Booking.shift_id == shift.id, Booking.status == BookingStatus.WAITLISTED)
                              .order_by(Booking.created_at, Booking.id))
    for booking in waiting:
        identity = None if booking.id in told_ids else reach(session, booking.volunteer_id)
        if identity is not None:
            outbox.enqueue(session, identity, key=reminders.WAITLIST_SHIFT_CHANGED, kind=OutboxKind.NOTIFICATION,
                           params=reminders.shift_params(shift), deadline=shift.starts_at,
                           booking_id=booking.id, shift_id=shift.id)
            told.append(booking)
    return told


def cancel_shift(session: Session, shift: Shift, cadence: Cadence) -> list[Booking]:
    """Cancel a shift: its rows (reminders, the lead's digest) are cancelled, it leaves every open
    offer, and everyone booked or waiting is told and offered other shifts. One transaction."""
    # book()'s lock: a booking that got in first is read below and cancelled; one that waited
    # finds the shift cancelled. Without it, a booking committing meanwhile kept its place.
    lock_for_update(session, Shift, shift.id)
    bookings = list(session.scalars(select(Booking).where(Booking.shift_id == shift.id, Booking.status.in_(ACTIVE))))
    shift.cancelled_at = utcnow()
    outbox.cancel_for(session, "shift_cancelled", shift_id=shift.id)
    offers.withdraw_shift(session, shift.id)  # a tap on an offer shown before is no answer any more
    for booking in bookings:
        move(booking, BookingStatus.CANCELLED)
        volunteer = session.get(Volunteer, booking.volunteer_id)
        _no_place_left(session, volunteer)
        identity = reach(session, booking.volunteer_id)
        if identity is not None:
            others = [s for s in upcoming_fitting(session, volunteer, cadence.timezone) if s.id != shift.id]
            outbox.enqueue(session, identity, key=reminders.SHIFT_CANCELLED, kind=OutboxKind.NOTIFICATION,
                           params=reminders.shift_params(shift), choices=offer_choices(others), shift_id=shift.id)
    session.flush()
    return bookings


def create_shift(session: Session, team_id: int, starts_at: datetime, ends_at: datetime, place: str,
                 capacity: int) -> Shift:
    """A new shift of a team, offered from now on to whoever fits it. Nothing is planned until
    someone books it (the booking plans its reminders)."""
    if ends_at <= starts_at:
        raise ValueError("a shift ends after it starts")
    if capacity < 1:
        raise ValueError("a shift has at least one place")
    shift = Shift(team_id=team_id, starts_at=starts_at, ends_at=ends_at, place=place, capacity=capacity)
    session.add(shift)
    session.flush()
    return shift
