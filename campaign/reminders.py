"""Reminders and follow-ups: outbox rows planned when their cause happens (a booking, a shift
change, an answer about attendance), and checked again by the worker when they are due.

Planning puts each row inside the sending window, before its deadline, or records it as
skipped with the reason, so an organizer sees why a reminder will not come. Every rule that
can change between planning and sending (consent, the booking, a handoff, the daily cap) is
checked in `ready`, at send time.
"""
from collections.abc import Collection
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import handoffs, outbox
from campaign.booking_status import HOLDING, BookingStatus
from campaign.leads import ensure_lead_contact
from campaign.models import Booking, OutboxRow, Shift, Team, Volunteer, utcnow
from campaign.models.outbox import AUTOMATED_KINDS, OutboxKind
# the shifts a follow-up offers; when: reminder_replies.py and others still say reminders.when
from campaign.openings import offer_choices, upcoming_fitting, when
from campaign.outbox_status import OPEN, OutboxStatus, move
from campaign.schedule import Cadence, place
from campaign.volunteers import reach

DAY_BEFORE, TWO_HOURS, POST_SHIFT = "reminder_day_before", "reminder_two_hours", "post_shift_check"
NO_SHOW, ATTENDED, SIGNUP_NUDGE = "follow_up_no_show", "follow_up_attended", "signup_nudge"
LEAD_DIGEST, SHIFT_CHANGED, SHIFT_CANCELLED = "lead_shift_digest", "shift_changed", "shift_cancelled_notice"
WAITLIST_SHIFT_CHANGED = "waitlist_shift_changed"  # the shift someone waits for moved: they may no longer want it
FOLLOW_UPS = (NO_SHOW, ATTENDED)
# Which automated message goes first when the daily cap is reached (lower goes first); shift
# changes are notifications and are never held by the cap.
PRIORITY = {DAY_BEFORE: 1, TWO_HOURS: 2, POST_SHIFT: 3, NO_SHOW: 4, ATTENDED: 4, SIGNUP_NUDGE: 4}
ATTENDANCE = ("attended", "no_show")
LEAD, SUPPORTER = "lead", "supporter"

# What a reminder offers. Resolved in the app against the open offer naming the booking
# (campaign/reminder_replies.py), never by a bare intent.
CONFIRM, CANT_MAKE_IT, OTHER_TIME = "/booking_confirm", "/booking_cancel", "/booking_other_time"
WENT, MISSED = "/attended", "/missed"
DAY_BEFORE_CHOICES = [{"key": "choice_still_coming", "payload": CONFIRM},
                      {"key": "choice_cant_make_it", "payload": CANT_MAKE_IT},
                      {"key": "choice_other_time", "payload": OTHER_TIME}]
POST_SHIFT_CHOICES = [{"key": "choice_made_it", "payload": WENT}, {"key": "choice_missed_it", "payload": MISSED}]
MY_SHIFT_CHOICES = [{"key": "choice_cant_make_it", "payload": CANT_MAKE_IT},
                    {"key": "choice_other_time", "payload": OTHER_TIME}]


def shift_params(shift: Shift) -> dict:
    # starts_at is kept so that a row planned for an older time of the shift is never sent
    return {"when": when(shift.starts_at), "place": shift.place, "starts_at": shift.starts_at.isoformat()}


def _planned(session: Session, booking: Booking, key: str, kind: str, slot, deadline: datetime,
             skip_reason: str | None = None, choices: list | None = None, params: dict | None = None) -> dict:
    identity = reach(session, booking.volunteer_id)
    reason = skip_reason or slot.skip_reason
    if identity is None:
        return {"key": key, "skipped": "unreachable"}
    outbox.enqueue(session, identity, key=key, kind=kind, params=params or shift_params(booking.shift),
                   choices=choices or [], send_after=slot.send_after if slot.send_after else utcnow(), deadline=deadline,
                   booking_id=booking.id, shift_id=booking.shift_id, subject_kind="booking", subject_id=booking.id,
                   status=OutboxStatus.SKIPPED if reason else OutboxStatus.PENDING, reason=reason)
    return {"key": key, "send_after": slot.send_after, "skipped": reason}


class _NoSlot:
    send_after = None
    skip_reason = None


def plan_booking(session: Session, booking: Booking, cadence: Cadence, now: datetime | None = None) -> list[dict]:
    """Plan the day-before and two-hour reminders and the "did you make it?" of a booking (its
    earlier plan is cancelled first). Returns what was planned, for the confirmation."""
    now = now or utcnow()
    shift = booking.shift or session.get(Shift, booking.shift_id)
    outbox.cancel_for(session, "re-planned", booking_id=booking.id)
    planned = []
    start = shift.starts_at
    day_before = cadence.at(cadence.local(start).date() - timedelta(days=1), time(cadence.day_before_hour))
    if day_before <= now:
        planned.append(_planned(session, booking, DAY_BEFORE, OutboxKind.REMINDER, _NoSlot, start,
                                skip_reason="booked_after_day_before", choices=DAY_BEFORE_CHOICES))
    else:
        slot = place(cadence, day_before, now, deadline=start)
        planned.append(_planned(session, booking, DAY_BEFORE, OutboxKind.REMINDER, slot, start, choices=DAY_BEFORE_CHOICES))
    nudge = start - timedelta(hours=cadence.hours_before)
    if nudge <= now:
        planned.append(_planned(session, booking, TWO_HOURS, OutboxKind.REMINDER, _NoSlot, start, skip_reason="booked_too_late"))
    else:
        slot = place(cadence, nudge, now, deadline=start, max_early=timedelta(hours=cadence.max_early_hours))
        planned.append(_planned(session, booking, TWO_HOURS, OutboxKind.REMINDER, slot, start))
    after = shift.ends_at + timedelta(hours=cadence.post_shift_hours)
    deadline = shift.ends_at + timedelta(hours=24)
    slot = place(cadence, after, now, deadline=deadline, earliest=shift.ends_at)
    planned.append(_planned(session, booking, POST_SHIFT, OutboxKind.FOLLOW_UP, slot, deadline, choices=POST_SHIFT_CHOICES))
    plan_lead_digest(session, shift, cadence, now)
    return planned


def confirmation_note(planned: list[dict]) -> dict:
    """The confirmation's sentence about reminders, as a catalog message parameter."""
    going = {p["key"]: p["send_after"] for p in planned if not p.get("skipped") and p.get("send_after")}
    day_before, nudge = going.get(DAY_BEFORE), going.get(TWO_HOURS)
    if day_before and nudge:
        return {"type": "message", "key": "reminders_both", "params": {"day_before": when(day_before), "nudge": when(nudge)}}
    if day_before or nudge:
        return {"type": "message", "key": "reminders_one", "params": {"at": when(day_before or nudge)}}
    return {"type": "message", "key": "reminders_none", "params": {}}


def note_for(session: Session, booking: Booking) -> dict:
    """The confirmation's sentence for a booking, from the reminders still planned for it."""
    rows = session.scalars(select(OutboxRow).where(OutboxRow.booking_id == booking.id,
                                                   OutboxRow.key.in_((DAY_BEFORE, TWO_HOURS)), OutboxRow.status.in_(OPEN)))
    return confirmation_note([{"key": r.key, "send_after": r.send_after} for r in rows])


def cancel_booking_rows(session: Session, booking: Booking, reason: str = "booking_cancelled") -> int:
    return outbox.cancel_for(session, reason, booking_id=booking.id)


def plan_lead_digest(session: Session, shift: Shift, cadence: Cadence, now: datetime | None = None) -> None:
    """One digest to the team lead the evening before the shift (who confirmed, who has not
    answered, who cancelled), planned once per shift; its contents are read when it is sent."""
    now = now or utcnow()
    open_digest = session.scalar(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.shift_id == shift.id, OutboxRow.key == LEAD_DIGEST, OutboxRow.status.in_(OPEN)))
    if open_digest:
        return
    team = session.get(Team, shift.team_id)
    lead = ensure_lead_contact(session, team) if team else None
    identity = reach(session, lead.id) if lead else None
    if identity is None:
        return
    evening = cadence.at(cadence.local(shift.starts_at).date() - timedelta(days=1), time(cadence.lead_digest_hour))
    if evening <= now:
        return  # booked on the eve: the lead has had each booking announced already
    slot = place(cadence, evening, now, deadline=shift.starts_at)
    if slot.send_after is None:
        return
    outbox.enqueue(session, identity, key=LEAD_DIGEST, kind=OutboxKind.NOTIFICATION, params=shift_params(shift),
                   send_after=slot.send_after, deadline=shift.starts_at, shift_id=shift.id)


def record_attendance(session: Session, booking: Booking, attendance: str, source: str, cadence: Cadence,
                      now: datetime | None = None) -> bool:
    """Store attendance on the booking. A lead's marking wins over the supporter's own answer.
    The follow-up that fits is (re-)planned. False when the answer changed nothing."""
    if attendance not in ATTENDANCE:
        raise ValueError(f"attendance must be one of {ATTENDANCE}")
    if booking.attendance_source == LEAD and source != LEAD:
        return False
    if booking.attendance == attendance and booking.attendance_source == source:
        return False
    now = now or utcnow()
    booking.attendance, booking.attendance_source, booking.attendance_at = attendance, source, now
    for row in session.scalars(select(OutboxRow).where(OutboxRow.booking_id == booking.id,
                                                       OutboxRow.key.in_((*FOLLOW_UPS, POST_SHIFT)),
                                                       OutboxRow.status.in_(OPEN))):
        move(row, OutboxStatus.CANCELLED, "attendance_known")
    shift = booking.shift or session.get(Shift, booking.shift_id)
    local_day = cadence.local(shift.ends_at).date()
    key, days = (NO_SHOW, cadence.no_show_days) if attendance == "no_show" else (ATTENDED, cadence.attended_days)
    ideal = cadence.at(local_day + timedelta(days=days), time(cadence.day_before_hour))
    deadline = ideal + timedelta(days=1)
    slot = place(cadence, max(ideal, now), now, deadline=deadline)
    _planned(session, booking, key, OutboxKind.FOLLOW_UP, slot, deadline, params={"place": shift.place})
    session.flush()
    return True


def plan_signup_nudge(session: Session, volunteer: Volunteer, cadence: Cadence, now: datetime | None = None) -> None:
    """A supporter who stops mid-onboarding gets one nudge after 23 hours (inside WhatsApp's 24),
    re-planned at each of their messages, and none after the first was sent."""
    if volunteer.stage not in ("new", "onboarding") or volunteer.opted_out:
        return
    now = now or utcnow()
    rows = list(session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer.id,
                                                        OutboxRow.key == SIGNUP_NUDGE)))
    if any(row.status in (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.UNKNOWN) for row in rows):
        return  # at most one nudge, ever
    deadline = now + timedelta(hours=24)
    slot = place(cadence, now + timedelta(hours=cadence.signup_nudge_hours), now, deadline=deadline,
                 earliest=now + timedelta(hours=cadence.signup_nudge_hours / 2))
    waiting = next((row for row in rows if row.status == OutboxStatus.PENDING), None)
    if waiting is not None and slot.send_after is not None:  # they wrote again: the nudge moves later
        waiting.send_after, waiting.deadline = slot.send_after, deadline
        return
    for row in rows:
        if row.status in OPEN:
            move(row, OutboxStatus.CANCELLED, "re-planned")
    identity = reach(session, volunteer.id)
    if identity is None:
        return
    outbox.enqueue(session, identity, key=SIGNUP_NUDGE, kind=OutboxKind.FOLLOW_UP, send_after=slot.send_after or now,
                   deadline=deadline, status=OutboxStatus.SKIPPED if slot.skip_reason else OutboxStatus.PENDING,
                   reason=slot.skip_reason)


# --- send time ----------------------------------------------------------------------------

def ready(session: Session, row: OutboxRow, cadence: Cadence, now: datetime,
          going: Collection[OutboxRow] = ()) -> bool:
    """The send-time rules. True: send it now. False: the row was moved (skipped, expired,
    waiting) or deferred, with its reason. `going`: rows of the same pass that these rules
    already let go, not claimed yet (they count towards the daily cap)."""
    if row.deadline is not None and now > row.deadline:
        move(row, OutboxStatus.EXPIRED, "deadline_passed")
        return False
    automated = row.kind in AUTOMATED_KINDS
    reason = _cause_gone(session, row)
    if reason:
        move(row, OutboxStatus.SKIPPED, reason)
        return False
    if automated and row.volunteer_id is not None and handoffs.open_handoff(session, row.volunteer_id) is not None:
        move(row, OutboxStatus.WAITING, "handoff")
        return False
    if automated and not cadence.in_window(now):
        return _defer(row, cadence.earliest_allowed_after(now), "quiet_hours")
    if automated and _over_daily_cap(session, row, cadence, now, going):
        return _defer(row, cadence.next_day_start(now), "daily_cap")
    return _refresh(session, row, cadence, now)


def _defer(row: OutboxRow, to: datetime, reason: str) -> bool:
    if row.deadline is not None and to > row.deadline:
        move(row, OutboxStatus.EXPIRED, reason)
    else:
        move(row, OutboxStatus.PENDING, reason)
        row.send_after = to
    return False


def _cause_gone(session: Session, row: OutboxRow) -> str | None:
    if row.key == SIGNUP_NUDGE:
        volunteer = session.get(Volunteer, row.volunteer_id)
        return "signed_up" if volunteer is None or volunteer.stage not in ("new", "onboarding") else None
    if row.booking_id is None:
        return None
    booking = session.get(Booking, row.booking_id)
    if row.key == WAITLIST_SHIFT_CHANGED:  # told only while still waiting: a place or a cancellation says more
        return None if booking is not None and booking.status == BookingStatus.WAITLISTED else "no_longer_waiting"
    if booking is None or booking.status not in HOLDING:
        return "booking_cancelled"
    shift = session.get(Shift, booking.shift_id)
    planned_for = (row.params or {}).get("starts_at")
    if planned_for and datetime.fromisoformat(planned_for) != shift.starts_at:
        return "shift_changed"
    if row.key == POST_SHIFT and booking.attendance is not None:
        return "attendance_known"
    if row.key in FOLLOW_UPS and {NO_SHOW: "no_show", ATTENDED: "attended"}[row.key] != booking.attendance:
        return "attendance_changed"
    return None


def _over_daily_cap(session: Session, row: OutboxRow, cadence: Cadence, now: datetime,
                    going: Collection[OutboxRow] = ()) -> bool:
    """At most `daily_cap` automated messages a local day to one person; higher-priority rows
    still due today keep their places, so the lowest waits for the next day."""
    start, end = cadence.day_bounds(now)
    mine_going = {r.id for r in going if r.volunteer_id == row.volunteer_id and r.kind in AUTOMATED_KINDS}
    sent = session.scalar(select(func.count()).select_from(OutboxRow).where(
        OutboxRow.volunteer_id == row.volunteer_id, OutboxRow.kind.in_(AUTOMATED_KINDS),
        OutboxRow.status.in_((OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)),
        OutboxRow.claimed_at >= start, OutboxRow.claimed_at < end))
    mine = PRIORITY.get(row.key or "", 5)
    ahead = [r for r in session.scalars(select(OutboxRow).where(
        OutboxRow.volunteer_id == row.volunteer_id, OutboxRow.kind.in_(AUTOMATED_KINDS), OutboxRow.id != row.id,
        OutboxRow.status == OutboxStatus.PENDING, OutboxRow.send_after < end))
        if PRIORITY.get(r.key or "", 5) < mine and r.id not in mine_going]
    return (sent or 0) + len(mine_going) + len(ahead) >= cadence.daily_cap


def _refresh(session: Session, row: OutboxRow, cadence: Cadence, now: datetime) -> bool:
    """Contents read when sent: the shifts a follow-up offers, the names in a lead's digest."""
    if row.key in FOLLOW_UPS:
        volunteer = session.get(Volunteer, row.volunteer_id)
        found = upcoming_fitting(session, volunteer, cadence.timezone, limit=3, after=now)
        if not found:
            move(row, OutboxStatus.SKIPPED, "no_shift_to_offer")
            return False
        row.choices = offer_choices(found)
    elif row.key == LEAD_DIGEST:
        digest = lead_digest_params(session, row.shift_id)
        if set(digest.values()) == {"-"}:
            move(row, OutboxStatus.SKIPPED, "nobody_booked")
            return False
        row.params = {**row.params, **digest}
    return True


def lead_digest_params(session: Session, shift_id: int) -> dict:
    rows = session.execute(select(Volunteer.name, Booking.status).join(Booking, Booking.volunteer_id == Volunteer.id)
                           .where(Booking.shift_id == shift_id).order_by(Booking.created_at)).all()

    def names(*statuses: str) -> str:
        return ", ".join(name or "?" for name, status in rows if status in statuses) or "-"

    return {"confirmed": names("confirmed"), "unanswered": names("booked"), "cancelled": names("cancelled")}


def release_waiting(session: Session, now: datetime) -> int:
    """Rows held by a handoff go back to pending once it is closed (and expire past their deadline)."""
    released = 0
    for row in session.scalars(select(OutboxRow).where(OutboxRow.status == OutboxStatus.WAITING)):
        if row.deadline is not None and now > row.deadline:
            move(row, OutboxStatus.EXPIRED, "deadline_passed")
        elif row.volunteer_id is None or handoffs.open_handoff(session, row.volunteer_id) is None:
            move(row, OutboxStatus.PENDING, "handoff closed")
            released += 1
    return released


def scheduled(session: Session, volunteer_id: int) -> list[OutboxRow]:
    """What is planned for a person (reminders, follow-ups, notices), soonest first."""
    return list(session.scalars(select(OutboxRow).where(
        OutboxRow.volunteer_id == volunteer_id,
        OutboxRow.kind.in_((*AUTOMATED_KINDS, OutboxKind.NOTIFICATION))).order_by(OutboxRow.send_after, OutboxRow.id)))
