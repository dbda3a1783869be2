"""Reminders and follow-ups on a controlled clock (time-machine): planned at the right local times,
moved by quiet hours, skipped or expired with their reasons, checked again when sent."""
import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from campaign import consent, handoffs, reminders, shifts
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, Shift, Team, utcnow
from campaign.schedule import Cadence
from campaign.volunteers import identify
from onramp.settings import get_settings
from worker.sender import OutboxWorker

NY = ZoneInfo("America/New_York")
CADENCE = Cadence(timezone="America/New_York")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def _person(session, name="sam", language="en", team=None):
    team = team or session.scalars(select(Team)).first()
    if team is None:
        team = Team(slug="astoria", name="Astoria", capacity=50, languages=["en"])
        session.add(team)
        session.flush()
    identity = identify(session, "webchat", f"session-{name}-{language}")
    volunteer = identity.volunteer
    volunteer.name, volunteer.language, volunteer.language_source = name.title(), language, "chosen"
    volunteer.team_id, volunteer.stage = team.id, "assigned"
    identity.last_inbound_at = utcnow()
    # the consent record: they wrote to us first (automated messages need it)
    volunteer.first_contact_channel, volunteer.first_contact_at = identity.channel, utcnow()
    session.flush()
    return identity, volunteer


def _shift(session, starts: datetime, hours: float = 2, capacity: int = 10) -> Shift:
    team = session.scalars(select(Team)).first()
    shift = Shift(team_id=team.id, starts_at=starts, ends_at=starts + timedelta(hours=hours), place="Astoria Park",
                  capacity=capacity)
    session.add(shift)
    session.flush()
    return shift


def _rows(session, volunteer_id) -> dict[str, OutboxRow]:
    rows = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id).order_by(OutboxRow.id))
    return {row.key: row for row in rows}


def _send_due() -> None:
    asyncio.run(OutboxWorker(get_settings()).send_due())


def _sent_keys(session, volunteer_id) -> list[str]:
    return list(session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == volunteer_id,
                                                            OutboxRow.status == "sent").order_by(OutboxRow.id)))


def test_a_booking_plans_the_day_before_and_two_hour_reminders_at_the_right_local_times(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        booking = shifts.book(session, volunteer, shift.id, CADENCE)
        rows = _rows(session, volunteer.id)
        assert rows["reminder_day_before"].send_after == local(2026, 12, 4, 10, 0)
        assert rows["reminder_two_hours"].send_after == local(2026, 12, 5, 12, 0)
        assert rows["post_shift_check"].send_after == local(2026, 12, 5, 17, 0)
        assert {rows[k].status for k in ("reminder_day_before", "reminder_two_hours", "post_shift_check")} == {"pending"}
        assert rows["reminder_day_before"].deadline == shift.starts_at
        note = reminders.confirmation_note(booking.planned)
        assert note["key"] == "reminders_both"


def test_a_booking_at_22_for_9_the_next_morning_sends_only_the_confirmation(db):
    with time_machine.travel(local(2026, 12, 1, 22, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 2, 9, 0))
        booking = shifts.book(session, volunteer, shift.id, CADENCE)
        rows = _rows(session, volunteer.id)
        assert (rows["reminder_day_before"].status, rows["reminder_day_before"].reason) == ("skipped", "booked_after_day_before")
        assert (rows["reminder_two_hours"].status, rows["reminder_two_hours"].reason) == ("skipped", "quiet_hours")
        assert reminders.confirmation_note(booking.planned)["key"] == "reminders_none"
        volunteer_id = volunteer.id
    for moment in (local(2026, 12, 2, 7, 0), local(2026, 12, 2, 8, 59)):
        with time_machine.travel(moment, tick=False):
            _send_due()
    with session_scope() as session:
        assert _sent_keys(session, volunteer_id) == []


DST_CASES = [
    (local(2027, 3, 14, 14, 0), 15),  # spring forward on the 14th: the eve (the 13th) is still EST
    (local(2027, 3, 15, 14, 0), 14),  # the eve is the change day itself, already EDT
    (local(2026, 11, 1, 14, 0), 14),  # fall back on the 1st: the eve (Oct 31) is EDT
    (local(2026, 11, 2, 14, 0), 15),  # the eve is the change day, already EST
]


def test_daylight_saving_keeps_the_local_hour_of_the_day_before_reminder(db):
    for shift_start, day_before_utc_hour in DST_CASES:
        with time_machine.travel(shift_start - timedelta(days=7), tick=False), session_scope() as session:
            _, volunteer = _person(session, name=f"dst{shift_start:%m%d}")
            shift = _shift(session, shift_start)
            booking = shifts.book(session, volunteer, shift.id, CADENCE)
            rows = {r.key: r for r in session.scalars(select(OutboxRow).where(OutboxRow.booking_id == booking.id))}
            day_before = rows["reminder_day_before"].send_after
            assert day_before.astimezone(NY).hour == 10
            assert day_before.utcoffset() == timedelta(0) and day_before.hour == day_before_utc_hour
            # two real hours before the shift, whatever the offset
            assert shift.starts_at - rows["reminder_two_hours"].send_after == timedelta(hours=2)


def test_quiet_hours_move_a_reminder_earlier_within_its_deadline(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        late = _shift(session, local(2026, 12, 5, 23, 0))  # the nudge would be at 21:00... at 21:00 exactly
        later = _shift(session, local(2026, 12, 6, 23, 30))  # the nudge at 21:30 moves to 21:00
        shifts.book(session, volunteer, late.id, CADENCE)
        shifts.book(session, volunteer, later.id, CADENCE)
        nudges = session.scalars(select(OutboxRow).where(OutboxRow.key == "reminder_two_hours").order_by(OutboxRow.id)).all()
        assert [n.send_after.astimezone(NY) for n in nudges] == [local(2026, 12, 5, 21, 0), local(2026, 12, 6, 21, 0)]
        early = Cadence(timezone="America/New_York", day_before_hour=7)  # before the window opens
        shift = _shift(session, local(2026, 12, 9, 14, 0))
        other = identify(session, "webchat", "session-early-bird")
        other.volunteer.team_id = shift.team_id
        booking = shifts.book(session, other.volunteer, shift.id, early)
        row = _rows(session, booking.volunteer_id)["reminder_day_before"]
        assert row.send_after.astimezone(NY) == local(2026, 12, 7, 21, 0)  # the evening before 07:00


def test_a_row_past_its_deadline_is_expired_never_sent(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        shifts.book(session, volunteer, shift.id, CADENCE)
        volunteer_id = volunteer.id
    with time_machine.travel(local(2026, 12, 5, 14, 30), tick=False):  # the worker was down until after the start
        _send_due()
    with session_scope() as session:
        rows = _rows(session, volunteer_id)
        for key in ("reminder_day_before", "reminder_two_hours"):
            assert (rows[key].status, rows[key].reason) == ("expired", "deadline_passed")
        assert _sent_keys(session, volunteer_id) == []


def test_an_opt_out_between_planning_and_sending_skips_the_reminder(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        shifts.book(session, volunteer, shift.id, CADENCE)
        volunteer_id = volunteer.id
        consent.opt_out(session, volunteer, "webchat", "STOP")
    with time_machine.travel(local(2026, 12, 4, 10, 0), tick=False):
        _send_due()
    with session_scope() as session:
        row = _rows(session, volunteer_id)["reminder_day_before"]
        assert (row.status, row.reason) == ("skipped", "opted_out")
        assert session.scalars(select(Message).where(Message.direction == "out")).all() == []


def test_an_opt_out_after_a_row_was_picked_is_still_caught_at_send_time(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        shifts.book(session, volunteer, shift.id, CADENCE)
        volunteer_id = volunteer.id
    with time_machine.travel(local(2026, 12, 4, 10, 0), tick=False):
        with session_scope() as session:  # opted out without the usual sweep (another process, a provider report)
            session.get(type(volunteer), volunteer_id).consent_status = "opted_out"
        _send_due()
    with session_scope() as session:
        row = _rows(session, volunteer_id)["reminder_day_before"]
        assert (row.status, row.reason) == ("skipped", "opted_out")


def test_the_day_before_reminder_goes_out_in_the_persons_language_with_its_choices_as_an_offer(db):
    from campaign.models import OpenOffer

    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        identity, volunteer = _person(session, language="es")
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        booking = shifts.book(session, volunteer, shift.id, CADENCE)
        volunteer_id, booking_id, identity_id = volunteer.id, booking.id, identity.id
    with time_machine.travel(local(2026, 12, 4, 10, 0, 30), tick=False):
        _send_due()
    with session_scope() as session:
        body = session.scalars(select(Message.body).where(Message.direction == "out")).one()
        assert body.startswith("Mañana") and "Astoria Park" in body
        offer = session.scalars(select(OpenOffer).where(OpenOffer.identity_id == identity_id)).one()
        assert (offer.subject_kind, offer.subject_id) == ("booking", booking_id)
        assert [c["title"] for c in offer.choices] == ["Sí, allí estaré", "No puedo ir", "Otro horario"]
        assert all(word not in c["title"].upper() for c in offer.choices for word in ("CANCEL", "STOP", "END", "QUIT"))
        assert _sent_keys(session, volunteer_id) == ["reminder_day_before"]


def test_an_open_handoff_holds_a_reminder_until_it_closes(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        shifts.book(session, volunteer, shift.id, CADENCE)
        volunteer_id = volunteer.id
        handoff = handoffs.open_for(session, volunteer.id, "asked", settings=get_settings())
        handoff_id = handoff.id
    with time_machine.travel(local(2026, 12, 4, 10, 0), tick=False):
        _send_due()
        with session_scope() as session:
            row = _rows(session, volunteer_id)["reminder_day_before"]
            assert (row.status, row.reason) == ("waiting", "handoff")
            handoffs.close(session, session.get(type(handoff), handoff_id))
        worker = OutboxWorker(get_settings())
        worker.housekeeping()
        asyncio.run(worker.send_due())
    with session_scope() as session:
        assert _sent_keys(session, volunteer_id) == ["reminder_day_before"]


def test_at_most_three_automated_messages_a_day_the_lowest_priority_waits_for_the_next_day(db):
    with time_machine.travel(local(2026, 12, 1, 8, 0), tick=False), session_scope() as session:
        identity, volunteer = _person(session)
        shift = _shift(session, local(2026, 12, 2, 14, 0))
        tomorrow = shifts.book(session, volunteer, shift.id, CADENCE)
        past = _shift(session, local(2026, 12, 1, 8, 30), hours=0.25)
        old = shifts.book(session, volunteer, past.id, CADENCE)
        # a "did you make it?" of an earlier shift and two other follow-ups, all due this morning too
        for row in session.scalars(select(OutboxRow).where(OutboxRow.booking_id == old.id)):
            row.send_after = local(2026, 12, 1, 9, 0)
        from campaign import outbox

        for _ in range(2):
            outbox.enqueue(session, identity, key="thanks", kind="follow_up", send_after=local(2026, 12, 1, 9, 0),
                           deadline=local(2026, 12, 3, 9, 0))
        day_before = session.scalars(select(OutboxRow).where(OutboxRow.booking_id == tomorrow.id,
                                                             OutboxRow.key == "reminder_day_before")).one()
        day_before_id, volunteer_id = day_before.id, volunteer.id
        day_before.send_after = local(2026, 12, 1, 10, 0)  # due later today, and first in priority
    with time_machine.travel(local(2026, 12, 1, 9, 1), tick=False):
        _send_due()
    with time_machine.travel(local(2026, 12, 1, 10, 1), tick=False):
        _send_due()
    with session_scope() as session:
        sent = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.status == "sent",
                                                       OutboxRow.kind.in_(("reminder", "follow_up")))).all()
        assert len(sent) == 3 and day_before_id in [r.id for r in sent]
        deferred = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id,
                                                           OutboxRow.reason == "daily_cap")).all()
        assert deferred and all(r.send_after.astimezone(NY) == local(2026, 12, 2, 9, 0) for r in deferred
                                if r.status == "pending")



def test_an_unfinished_sign_up_gets_one_nudge_after_23_hours_and_none_after_signing_up(db):
    from campaign.reminders import plan_signup_nudge

    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        identity, volunteer = _person(session, name="nia")
        volunteer.stage = "onboarding"
        plan_signup_nudge(session, volunteer, CADENCE)
        volunteer_id = volunteer.id
    with time_machine.travel(local(2026, 12, 1, 12, 30), tick=False), session_scope() as session:
        plan_signup_nudge(session, session.get(type(volunteer), volunteer_id), CADENCE)  # wrote again
        (nudge,) = session.scalars(select(OutboxRow).where(OutboxRow.key == "signup_nudge")).all()
        assert nudge.send_after == local(2026, 12, 2, 11, 30) and nudge.deadline == local(2026, 12, 2, 12, 30)
    with time_machine.travel(local(2026, 12, 2, 11, 31), tick=False):
        _send_due()
    with time_machine.travel(local(2026, 12, 2, 12, 0), tick=False), session_scope() as session:
        assert _sent_keys(session, volunteer_id) == ["signup_nudge"]
        plan_signup_nudge(session, session.get(type(volunteer), volunteer_id), CADENCE)  # at most one, ever
        assert len(session.scalars(select(OutboxRow).where(OutboxRow.key == "signup_nudge")).all()) == 1
        other, signed = _person(session, name="ora")
        signed.stage = "onboarding"
        plan_signup_nudge(session, signed, CADENCE)
        signed.stage = "assigned"  # finished before the nudge was due
        signed_id = signed.id
    with time_machine.travel(local(2026, 12, 3, 11, 1), tick=False):
        _send_due()
    with session_scope() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == signed_id)).one()
        assert (row.status, row.reason) == ("skipped", "signed_up")


def test_the_team_lead_gets_one_digest_the_evening_before_with_who_confirmed_who_has_not_and_who_cancelled(db):
    from bot.channels.webchat import WebChat

    class Recorder(WebChat):
        name, idempotent, sent = "sms", False, []

        async def send(self, row, message):
            self.sent.append(message.text)
            return f"SM{row.id}"

    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        team = Team(slug="astoria", name="Astoria", capacity=50, languages=["en"], lead_name="Lee",
                    lead_phone="+17185550125", lead_language="es")
        session.add(team)
        session.flush()
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        people = [_person(session, name=n)[1] for n in ("ana", "bo", "cy")]
        bookings = [shifts.book(session, p, shift.id, CADENCE) for p in people]
        bookings[0].status = "confirmed"
        shifts.cancel_booking(session, bookings[2], CADENCE)
        digests = session.scalars(select(OutboxRow).where(OutboxRow.key == "lead_shift_digest")).all()
        assert len(digests) == 1 and digests[0].send_after == local(2026, 12, 4, 18, 0)
        for row in session.scalars(select(OutboxRow).where(OutboxRow.key == "lead_new_booking")):
            row.status = "sent"  # announced already; this test is about the digest
    recorder = Recorder()
    with time_machine.travel(local(2026, 12, 4, 18, 0, 30), tick=False):
        asyncio.run(OutboxWorker(get_settings(), channels={"webchat": WebChat(), "sms": recorder}).send_due())
    (text,) = [t for t in recorder.sent if "Ana" in t]
    assert text.startswith("Turno de mañana") and "Confirmados: Ana" in text
    assert "Sin respuesta: Bo" in text and "Cancelados: Cy" in text
