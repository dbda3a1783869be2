"""Answers to a reminder, typed or tapped, in every language: read against the open offer that
names the booking, in the app, before anything reaches the model."""
import asyncio
import uuid
from datetime import timedelta

import time_machine
from sqlalchemy import select

from bot.pipeline.process import process
from campaign import reminders, shifts
from campaign.db import session_scope
from campaign.models import Booking, Message, OutboxRow, Team, Volunteer
from onramp.settings import get_settings
from worker.sender import OutboxWorker
from tests.support.fake_rasa import FakeRasa
from tests.test_reminders import CADENCE, _person, _sent_keys, _shift, _send_due, local

SHIFT_AT = local(2026, 12, 5, 14, 0)
REMINDED_AT = local(2026, 12, 4, 10, 0, 30)

# Fresh phrasings, written for this test (not the lexicon's own list order)
CANT = {"en": "sorry, I can't make it anymore", "es": "no puedo", "fr": "je ne pourrai pas, désolée",
        "zh": "抱歉，我去不了了", "bn": "দুঃখিত, আমি আসতে পারব না", "ar": "آسف، لا أستطيع الحضور",
        "ur": "معذرت، میں نہیں آ سکتا", "hi": "माफ़ कीजिए, मैं नहीं आ पाऊँगा"}
YES = {"en": "yes, I'll be there!", "es": "sí, ahí estaré", "fr": "oui je serai là", "zh": "好的，我会去",
       "bn": "হ্যাঁ, আমি আসব", "ar": "نعم سأكون هناك", "ur": "جی ہاں، میں آؤں گا", "hi": "हाँ, मैं आऊँगा"}


def _reminded(session, language="en", waitlisted_too=False):
    """A person booked for Saturday, with Friday's reminder sent; optionally a second person on
    the waitlist and another fitting shift to offer."""
    identity, volunteer = _person(session, language=language)
    shift = _shift(session, SHIFT_AT, capacity=1)
    _shift(session, SHIFT_AT + timedelta(days=7))  # another shift to offer
    booking = shifts.book(session, volunteer, shift.id, CADENCE)
    other = None
    if waitlisted_too:
        _, other = _person(session, name="wes")
        assert shifts.book(session, other, shift.id, CADENCE).status == "waitlisted"
    return identity, volunteer, booking, other


def _inbound(identity, text=None, button=None) -> int:
    with session_scope() as session:
        message = Message(direction="in", channel=identity.channel, provider_id=uuid.uuid4().hex, identity_id=identity.id,
                          volunteer_id=identity.volunteer_id, body=text or button, payload={"button": button} if button else {})
        session.add(message)
        session.flush()
        return message.id


def _process(message_id) -> FakeRasa:
    rasa = FakeRasa()
    asyncio.run(process(message_id, rasa.client(), get_settings()))
    return rasa


def _replies(session, message_id) -> list[str]:
    return list(session.scalars(select(OutboxRow.key).where(OutboxRow.source_message_id == message_id).order_by(OutboxRow.seq)))


def _answered_in_every_language(replies: dict[str, str]) -> tuple[list, dict[str, int]]:
    """One person per language, each reminded about their own booking, each answering in their
    language; returns what reached the model and each language's booking."""
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        people = {language: _reminded(session, language)[::2] for language in replies}
        bookings = {language: booking.id for language, (_, booking) in people.items()}
    received = []
    with time_machine.travel(REMINDED_AT, tick=False):
        _send_due()
        for language, (identity, _) in people.items():
            received += _process(_inbound(identity, replies[language])).received
    return received, bookings


def test_typed_cant_make_it_after_a_reminder_cancels_that_booking_in_every_language(db):
    received, bookings = _answered_in_every_language(CANT)
    assert received == []  # never guessed by the model without the offer
    with session_scope() as session:
        assert {language: session.get(Booking, b).status for language, b in bookings.items()} == {
            language: "cancelled" for language in CANT}
        for message_id in session.scalars(select(Message.id).where(Message.direction == "in")):
            assert _replies(session, message_id) == ["shift_cancelled", "shift_offers"]
        # their reminders go with them
        assert set(session.scalars(select(OutboxRow.status).where(OutboxRow.key == "reminder_two_hours"))) == {"cancelled"}


def test_typed_yes_after_a_reminder_confirms_the_booking_in_every_language(db):
    received, bookings = _answered_in_every_language(YES)
    assert received == []
    with session_scope() as session:
        assert {language: session.get(Booking, b).status for language, b in bookings.items()} == {
            language: "confirmed" for language in YES}


def test_cant_make_it_inside_24_hours_promotes_the_waitlist_tells_the_lead_and_offers_other_shifts(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        team = Team(slug="astoria", name="Astoria", capacity=50, languages=["en"], lead_name="Lee", lead_phone="+17185550123")
        session.add(team)
        session.flush()
        identity, volunteer, booking, waiting = _reminded(session, waitlisted_too=True)
        booking_id, waiting_id = booking.id, waiting.id
    with time_machine.travel(REMINDED_AT, tick=False):
        _send_due()
        with session_scope() as session:
            choice = session.scalars(select(OutboxRow).where(OutboxRow.key == "reminder_day_before",
                                                             OutboxRow.booking_id == booking_id)).one().choices[1]
    with time_machine.travel(SHIFT_AT - timedelta(hours=5), tick=False):  # the next morning: inside 24 hours
        _process(_inbound(identity, button=choice["payload"]))  # a tap on "I can't make it"
    with session_scope() as session:
        assert session.get(Booking, booking_id).status == "cancelled"
        promoted = session.scalars(select(Booking).where(Booking.volunteer_id == waiting_id)).one()
        assert promoted.status == "booked"
        told = session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == waiting_id)).all()
        assert "waitlist_promoted" in told and "reminder_two_hours" in told  # told, and now reminded too
        lead = session.scalars(select(Volunteer).where(Volunteer.name == "Lee")).one()
        assert "lead_booking_cancelled" in session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == lead.id)).all()
        offered = session.scalars(select(OutboxRow).where(OutboxRow.key == "shift_offers")).one()
        assert offered.choices and offered.volunteer_id == identity.volunteer_id


def test_a_tap_never_offered_goes_on_as_text_and_a_bare_no_puedo_without_a_reminder_reaches_the_model(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        identity, _, booking, _ = _reminded(session, "es")
        booking_id = booking.id
    with time_machine.travel(local(2026, 12, 2, 12, 0), tick=False):  # no reminder sent yet: no offer
        rasa = _process(_inbound(identity, "no puedo"))
    assert [text for _, text in rasa.received] == ["no puedo"]
    with session_scope() as session:
        assert session.get(Booking, booking_id).status == "booked"


def test_did_you_make_it_stores_attendance_and_plans_the_follow_up_a_leads_marking_wins(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        identity, _, booking, _ = _reminded(session)
        booking_id = booking.id
    with time_machine.travel(local(2026, 12, 5, 17, 0, 30), tick=False):
        _send_due()
        with session_scope() as session:
            assert "post_shift_check" in _sent_keys(session, identity.volunteer_id)
        rasa = _process(_inbound(identity, "yes I made it, it was great"))
    assert rasa.received == []
    # the lead marks attendance that same evening: the product reads the one clock, so this
    # block must travel too (it ran on the real date and failed once that was past 6 December)
    with time_machine.travel(local(2026, 12, 5, 19, 0), tick=False), session_scope() as session:
        booking = session.get(Booking, booking_id)
        assert (booking.attendance, booking.attendance_source) == ("attended", "supporter")
        follow = session.scalars(select(OutboxRow).where(OutboxRow.booking_id == booking_id,
                                                         OutboxRow.key == "follow_up_attended")).one()
        assert follow.send_after == local(2026, 12, 8, 10, 0) and follow.status == "pending"
        # the lead says they did not come: the lead's word wins, and the follow-up follows it
        reminders.record_attendance(session, booking, "no_show", reminders.LEAD, CADENCE)
        assert not reminders.record_attendance(session, booking, "attended", reminders.SUPPORTER, CADENCE)
        rows = {r.key: r.status for r in session.scalars(select(OutboxRow).where(OutboxRow.booking_id == booking_id))}
        assert rows["follow_up_attended"] == "cancelled" and rows["follow_up_no_show"] == "pending"
    with time_machine.travel(local(2026, 12, 6, 10, 0, 30), tick=False):
        _send_due()
    with session_scope() as session:
        sent = session.scalars(select(OutboxRow).where(OutboxRow.key == "follow_up_no_show")).one()
        assert sent.status == "sent" and sent.choices  # with the next fitting shifts


def test_my_shifts_lists_upcoming_bookings_with_a_choice_for_each(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        identity, volunteer, booking, _ = _reminded(session, "fr")
        booking_id = booking.id
    with time_machine.travel(local(2026, 12, 1, 12, 5), tick=False):
        message_id = _inbound(identity, "mes créneaux ?")
        rasa = _process(message_id)
    assert rasa.received == []
    with session_scope() as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.source_message_id == message_id)).one()
        assert row.key == "my_shifts"
        assert f'"booking_id": {booking_id}' in row.choices[0]["payload"]


def test_a_bare_cancel_opts_out_releases_the_booking_and_tells_the_lead(db):
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        team = Team(slug="astoria", name="Astoria", capacity=50, languages=["en"], lead_name="Lee", lead_phone="+17185550124")
        session.add(team)
        session.flush()
        identity, volunteer, booking, waiting = _reminded(session, waitlisted_too=True)
        booking_id, waiting_id, volunteer_id = booking.id, waiting.id, volunteer.id
    with time_machine.travel(REMINDED_AT, tick=False):
        _send_due()
        rasa = _process(_inbound(identity, "CANCEL"))
        worker = OutboxWorker(get_settings())
        worker.housekeeping()
    assert rasa.received == []
    with session_scope() as session:
        assert session.get(Volunteer, volunteer_id).consent_status == "opted_out"
        assert session.get(Booking, booking_id).status == "cancelled"
        assert session.scalars(select(Booking.status).where(Booking.volunteer_id == waiting_id)).one() == "booked"
        lead = session.scalars(select(Volunteer).where(Volunteer.name == "Lee")).one()
        assert "lead_booking_cancelled" in session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == lead.id)).all()
