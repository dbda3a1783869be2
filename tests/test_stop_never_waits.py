"""STOP never waits behind the model; a model that stays away hands the person to an organizer."""
import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from bot.pipeline.runner import InboundRunner
from bot.compose import compose
from campaign.db import session_scope
from campaign.models import Handoff, Message, OutboxRow, Volunteer
from onramp.settings import get_settings
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import run_until_idle


def _sms(text: str, sid: str, phone: str = "+17185550123") -> None:
    with session_scope() as session:
        receive(session, Inbound(channel="sms", external_id=phone, provider_id=sid, text=text, phone=phone))


class DownRasa(FakeRasa):
    """Rasa that does not answer: every request is a 503."""

    async def handler(self, request):
        self.received.append(("?", request.url.path))
        return httpx.Response(503, json={"error": "loading"})


def _run(rasa, seconds: float, until=None) -> None:
    """Run the inbound runner for `seconds`, or until `until()` holds (at most 30 s)."""
    async def main():
        runner = InboundRunner(get_settings(), rasa.client())
        task = asyncio.create_task(runner.run_forever())
        deadline = asyncio.get_running_loop().time() + (30 if until else seconds)
        while asyncio.get_running_loop().time() < deadline and not (until and await asyncio.to_thread(until)):
            await asyncio.sleep(0.1)
        runner.stop()
        await task
    asyncio.run(main())


def _handed_over() -> bool:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Message).where(Message.status == "received")) == 0


def test_stop_behind_a_message_waiting_for_rasa_is_honoured_when_it_is_stored(db):
    _sms("hi, I want to volunteer", "SM-wait-1")
    _sms("STOP", "SM-wait-2")  # nothing has run: Rasa was never asked
    with session_scope() as session:
        volunteer = session.scalars(select(Volunteer)).one()
        assert volunteer.opted_out and volunteer.opt_out_words == "STOP"
        statuses = session.scalars(select(Message.status).where(Message.direction == "in").order_by(Message.id)).all()
        assert statuses == ["processed", "processed"]  # the "hi" will never be answered now
        assert session.scalars(select(OutboxRow.key)).all() == ["opt_out_confirmed"]
    rasa = FakeRasa()
    _run(rasa, 0.5)
    assert rasa.received == []  # neither message went to the model


def test_the_first_contact_is_recorded_for_consent(db):
    _sms("hola quiero ayudar", "SM-first-1")
    _sms("second", "SM-first-2")
    with session_scope() as session:
        volunteer = session.scalars(select(Volunteer)).one()
        assert (volunteer.first_contact_channel, volunteer.first_contact_text) == ("sms", "hola quiero ayudar")
        assert volunteer.first_contact_at is not None


def test_the_first_reply_to_a_new_sms_contact_says_once_how_to_stop(db):
    _sms("hello", "SM-notice-1")
    _sms("are you there", "SM-notice-2")
    run_until_idle(FakeRasa())
    with session_scope() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.kind == "reply").order_by(OutboxRow.id)).all()
        texts = [compose(session, row, get_settings()).text for row in rows]
    assert len(texts) == 4
    assert texts[0].endswith(f"{get_settings().campaign_name}: reply STOP to stop.")
    assert sum("reply STOP to stop" in t for t in texts) == 1


@pytest.fixture
def two_tries(monkeypatch):
    monkeypatch.setenv("RASA_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_when_rasa_stays_away_the_person_hears_once_and_an_organizer_takes_over(db, two_tries):
    _sms("hi", "SM-down-1")
    _sms("hello?", "SM-down-2")
    _run(DownRasa(), 0, until=_handed_over)  # tries at once, then after a 1 s backoff: the cap of 2 is reached
    with session_scope() as session:
        first, second = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
        assert (first.status, first.error) == ("failed", "bot_unavailable")
        assert second.status == "for_organizer"  # later messages wait for the organizer, in order
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.reason, handoff.status) == ("bot_unavailable", "open")
        keys = session.scalars(select(OutboxRow.key).where(OutboxRow.kind == "reply")).all()
        assert keys == ["bot_unavailable"]


def test_a_message_waiting_for_rasa_is_tried_again_not_failed(db):
    _sms("hi", "SM-later-1")
    _run(DownRasa(), 0.5)
    with session_scope() as session:
        assert session.scalars(select(Message.status)).one() == "received"
    run_until_idle(FakeRasa())
    with session_scope() as session:
        assert session.scalars(select(Message.status)).one() == "processed"
        assert session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "reply")) == 2


def test_a_process_whose_lease_passed_to_another_never_records_the_answer(db):
    from bot.pipeline.process import LeaseLost, _record
    from campaign import inbox

    _sms("hi", "SM-lease-1")
    with session_scope() as session:
        message = session.scalars(select(Message)).one()
        message_id, identity_id = message.id, message.identity_id
        assert inbox.claim_contact(session, identity_id, "process-a", 60)
    replies = [{"custom": {"key": "welcome"}}]
    with session_scope() as session:  # A's lease ran out and B took the contact
        from campaign.models import Identity

        session.get(Identity, identity_id).lease_owner = "process-b"
    with pytest.raises(LeaseLost):
        _record(message_id, replies, ("process-a", 60))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 0
        assert session.get(Message, message_id).status == "received"
    _record(message_id, replies, ("process-b", 60))  # the holder records it, once
    _record(message_id, replies, ("process-b", 60))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 1
        assert session.get(Message, message_id).status == "processed"
