"""A long SMS goes as several Twilio calls. Each accepted part is recorded, so a retry (after a
503 on part 2, or after the worker died between two parts) sends only the parts not yet sent,
never part 1 twice; a call that may have reached the person leaves the row `unknown`. Delivery
reports find their row by the part's own id."""
import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot.channels import sms_text
from bot.channels.twilio import TwilioChannel
from campaign import outbox, outbox_parts
from campaign.db import session_scope
from campaign.models import OutboxRow, ProviderMessage, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.channels.harness import post
from tests.channels.test_twilio import PROVIDER, STATUS_PATH, status
from tests.fakes import twilio as fake_twilio
from worker.sender import OutboxWorker

PHONE = "+17185550123"
# 11 SMS segments: Twilio takes at most 10 in one call, so this goes as two calls
LONG = " ".join(f"word{n:04d}" for n in range(180))


class Killed(BaseException):
    """The worker process dies here: nothing after this point runs."""


@pytest.fixture
def fake(channel_env, monkeypatch):
    from tests.support import databases

    with fake_twilio.running() as running:
        monkeypatch.setenv("TWILIO_API_BASE", running.url)
        databases.reset_caches()
        yield running


def queue_long() -> int:
    with session_scope() as session:
        return outbox.enqueue(session, identify(session, "sms", PHONE, phone=PHONE), text=LONG, kind="notification")


def send_due(worker: OutboxWorker | None = None) -> None:
    asyncio.run((worker or OutboxWorker(get_settings())).send_due())


def make_due(row_id: int) -> None:
    with session_scope() as session:
        session.get(OutboxRow, row_id).send_after = utcnow() - timedelta(seconds=1)


def bodies(fake) -> list[str]:
    return [sent["Body"] for sent in fake.recorder.sent]


def row_state(row_id: int) -> tuple[str, list[str]]:
    with session_scope() as session:
        return session.get(OutboxRow, row_id).status, outbox_parts.ids(session, row_id)


def test_the_long_message_is_two_calls():
    assert len(sms_text.segments(LONG)) == 11 and len(sms_text.sends(LONG)) == 2


def test_a_503_on_part_2_is_retried_with_part_2_only(fake):
    fake.recorder.modes_for[PHONE] = ["ok", "503"]
    row_id = queue_long()
    send_due()
    assert bodies(fake) == sms_text.sends(LONG)[:1]
    status_, ids = row_state(row_id)
    assert (status_, ids) == ("pending", [fake.recorder.sent[0]["sid"]])  # waits to retry, part 1 kept

    make_due(row_id)
    send_due()
    assert bodies(fake) == sms_text.sends(LONG)  # each part once: part 1 was not sent again
    assert row_state(row_id) == ("sent", [s["sid"] for s in fake.recorder.sent])


def test_a_worker_killed_between_two_parts_sends_only_the_rest_after_the_restart(fake, monkeypatch):
    real = outbox_parts.starting

    def dying(session, outbox_id, part, channel):
        if part == 1:  # part 1 accepted and recorded; part 2's call not started yet
            raise Killed
        return real(session, outbox_id, part, channel)

    monkeypatch.setattr(outbox_parts, "starting", dying)
    row_id = queue_long()
    with pytest.raises(Killed):
        send_due()
    monkeypatch.setattr(outbox_parts, "starting", real)
    assert row_state(row_id)[0] == "sending" and len(fake.recorder.sent) == 1

    restarted = OutboxWorker(get_settings())
    assert restarted.recover(older_than_seconds=0) == 1  # no call was in flight: safe to go on
    send_due(restarted)
    assert bodies(fake) == sms_text.sends(LONG)
    assert row_state(row_id) == ("sent", [s["sid"] for s in fake.recorder.sent])


def test_a_worker_killed_during_a_part_leaves_the_row_unknown_and_sends_nothing_again(fake, monkeypatch):
    real = TwilioChannel._create
    calls = []

    async def dies_after_the_request(self, *args, **kwargs):
        calls.append(1)
        sid = await real(self, *args, **kwargs)
        if len(calls) == 2:  # the second part reached Twilio, then the process died
            raise Killed
        return sid

    monkeypatch.setattr(TwilioChannel, "_create", dies_after_the_request)
    row_id = queue_long()
    with pytest.raises(Killed):
        send_due()
    restarted = OutboxWorker(get_settings())
    assert restarted.recover(older_than_seconds=0) == 0
    send_due(restarted)
    assert bodies(fake) == sms_text.sends(LONG)  # nothing twice
    with session_scope() as session:
        row = session.get(OutboxRow, row_id)
        assert (row.status, row.reason) == ("unknown", "interrupted while sending; not sent again")
        assert outbox_parts.ids(session, row_id) == [fake.recorder.sent[0]["sid"]]  # the part known to be accepted


def test_a_stalled_call_times_out_and_the_row_is_unknown_not_sent_again(fake, monkeypatch):
    from tests.support import databases

    monkeypatch.setenv("PROVIDER_READ_TIMEOUT_SECONDS", "0.3")
    databases.reset_caches()
    fake.recorder.slow_seconds = 0.8
    fake.recorder.modes_for[PHONE] = ["slow"]
    with session_scope() as session:
        row_id = outbox.enqueue(session, identify(session, "sms", PHONE, phone=PHONE), text="Your shift is Saturday",
                                kind="notification")
    send_due()
    assert row_state(row_id)[0] == "unknown"  # the request went out: it may have arrived
    for _ in range(50):
        if fake.recorder.sent:
            break
        asyncio.run(asyncio.sleep(0.05))
    make_due(row_id)
    send_due()
    assert bodies(fake) == ["Your shift is Saturday"]  # it did arrive, once


def test_delivery_reports_for_each_part_find_their_row_and_no_other(fake, client):
    with session_scope() as session:
        other = outbox.enqueue(session, identify(session, "sms", "+17185550999", phone="+17185550999"), text="hi")
    row_id = queue_long()
    send_due()
    first, second = [s["sid"] for s in fake.recorder.sent if s["To"] == PHONE]
    with session_scope() as session:  # an earlier message with an id that merely contains the one reported
        session.add(ProviderMessage(outbox_id=other, part=1, channel="sms", provider_id=second + "0",
                                    accepted_at=utcnow()))
    assert post(client, PROVIDER, status(second, "delivered"), path=STATUS_PATH).status_code == 200
    assert post(client, PROVIDER, status(first, "sent"), path=STATUS_PATH).status_code == 200
    with session_scope() as session:
        assert session.get(OutboxRow, row_id).delivery_status == "delivered"
        assert session.get(OutboxRow, other).delivery_status is None  # "SM…0" contains the id: not the same id


def test_a_delivery_report_finds_its_part_through_the_index(db):
    with session_scope() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:  # on a near-empty table PostgreSQL would scan anyway
            session.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = select(ProviderMessage.outbox_id).where(ProviderMessage.channel == "sms",
                                                           ProviderMessage.provider_id == "SMx")
        sql = str(compiled.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(r) for r in session.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql)))
    assert "ix_provider_messages_channel_provider_id" in plan, plan


def test_a_worker_stalled_past_its_lease_sends_no_part_once_another_took_the_row_over(fake, monkeypatch):
    """Worker A sends part 1, records it, and stalls (a long GC pause, a frozen VM) before part 2.
    Its lease runs out; worker B reclaims the row (no call in flight: it may) and sends part 2.
    When A wakes up, its claim is fenced off (each claim has its own attempt number): it sends
    nothing and writes nothing for the row. Every part reaches Twilio once."""
    import threading

    from worker.part_log import Parts

    row_id = queue_long()
    stalled, wake = threading.Event(), threading.Event()
    real_start = Parts._start

    def stalls_once(self, part):
        if not stalled.is_set():
            stalled.set()
            assert wake.wait(30)
        real_start(self, part)

    monkeypatch.setattr(Parts, "_start", stalls_once)
    worker_a = threading.Thread(target=send_due)
    worker_a.start()
    assert stalled.wait(30)  # part 1 accepted and recorded; part 2 not started
    worker_b = OutboxWorker(get_settings())
    assert worker_b.recover(older_than_seconds=0) == 1  # re-queued: nothing in flight
    make_due(row_id)
    send_due(worker_b)
    wake.set()
    worker_a.join(30)
    assert bodies(fake) == sms_text.sends(LONG)  # each part once
    assert row_state(row_id) == ("sent", [s["sid"] for s in fake.recorder.sent])
