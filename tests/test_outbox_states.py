"""Outbox statuses: one table of allowed moves, claims that two workers cannot both win, and a
failing row that touches only itself."""
import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.channels.base import SendError
from bot.channels.webchat import WebChat
from campaign import outbox
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, utcnow
from campaign.outbox import claim, move_where
from campaign.outbox_status import MOVES, TERMINAL, IllegalMove, OutboxStatus, allowed, move
from campaign.volunteers import identify
from onramp.settings import get_settings
from worker.sender import OutboxWorker

S = OutboxStatus
EXPECTED = {
    S.PENDING: {S.SENDING, S.PENDING, S.CANCELLED, S.SKIPPED, S.EXPIRED, S.WAITING, S.DIGESTED, S.FAILED},
    S.SENDING: {S.SENT, S.PENDING, S.FAILED, S.UNKNOWN},
    S.WAITING: {S.PENDING, S.CANCELLED, S.SKIPPED, S.EXPIRED},
}


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_moves_in_the_table_are_allowed(source, target):
    row = SimpleNamespace(id=1, status=str(source), reason=None)
    if target in EXPECTED.get(source, set()):
        move(row, target, "why")
        assert (row.status, row.reason) == (target, "why")
    else:
        with pytest.raises(IllegalMove):
            move(row, target)
        assert row.status == source


def test_unknown_sent_and_the_other_ends_are_final():
    assert {S.SENT, S.UNKNOWN, S.FAILED, S.CANCELLED, S.SKIPPED, S.EXPIRED, S.DIGESTED} == TERMINAL
    assert not any(allowed(S.UNKNOWN, to) for to in S)  # never sent again automatically
    assert set(MOVES) == set(S)


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_a_person_may_also_retry_or_put_away_a_failed_or_unknown_row_and_nothing_else(source, target):
    by_hand = {S.FAILED: {S.PENDING, S.CANCELLED}, S.UNKNOWN: {S.PENDING, S.CANCELLED}}
    row = SimpleNamespace(id=1, status=str(source), reason=None)
    if target in EXPECTED.get(source, set()) | by_hand.get(source, set()):
        move(row, target, "by robin", by_hand=True)
        assert row.status == target
    else:
        with pytest.raises(IllegalMove):
            move(row, target, by_hand=True)


def test_asking_to_move_rows_only_from_statuses_that_cannot_move_there_is_refused(db):
    with session_scope() as session:
        with pytest.raises(IllegalMove, match="sent -> cancelled"):
            move_where(session, S.CANCELLED, OutboxRow.id == 1, only_from={S.SENT}, by_hand=True)
        with pytest.raises(IllegalMove, match="unknown -> pending"):
            move_where(session, S.PENDING, OutboxRow.id == 1, only_from={S.UNKNOWN})  # not by the worker


def test_two_workers_claiming_the_same_row_on_one_database_only_one_wins(db):
    with session_scope() as session:
        row_id = outbox.enqueue(session, identify(session, "webchat", "session-claim-1"), key="ask_name")
    wins = []
    for _ in range(2):  # two workers, each in its own transaction
        with session_scope() as session:
            wins.append(claim(session, row_id, utcnow()))
    assert wins == [True, False]
    with session_scope() as session:
        row = session.get(OutboxRow, row_id)
        assert (row.status, row.attempts) == ("sending", 1)


class Flaky(WebChat):
    """The web chat, except that one recipient's sends fail in the way the test says."""

    def __init__(self, poison: str, error: Exception):
        self.poison, self.error, self.sent = poison, error, []

    async def send(self, row, message):
        if row.recipient == self.poison:
            raise self.error
        self.sent.append(row.recipient)
        return f"outbox-{row.id}"


def _queue(session, names, key="ask_name"):
    return [outbox.enqueue(session, identify(session, "webchat", f"session-{name}"), key=key) for name in names]


def test_a_row_with_a_missing_catalog_key_fails_alone_and_the_rest_are_sent(db):
    with session_scope() as session:
        good = _queue(session, ["good-0001", "good-0002"])
        (poison,) = _queue(session, ["poison-01"], key="no_such_key_anywhere")
        more = _queue(session, ["good-0003"])
    asyncio.run(OutboxWorker(get_settings()).send_due())
    with session_scope() as session:
        statuses = {row_id: session.get(OutboxRow, row_id).status for row_id in good + more + [poison]}
        assert statuses == {**{i: "sent" for i in good + more}, poison: "failed"}
        assert session.get(OutboxRow, poison).reason == "render_failed"


def test_an_ambiguous_provider_failure_marks_only_that_row_unknown_never_sent_again(db):
    channel = Flaky("session-poison-02", TimeoutError("read timed out after the request went out"))
    channel.idempotent = False
    with session_scope() as session:
        ids = _queue(session, ["poison-02", "good-0004"])
    worker = OutboxWorker(get_settings(), channels={"webchat": channel})
    asyncio.run(worker.send_due())
    asyncio.run(worker.send_due())
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in ids] == ["unknown", "sent"]
    assert channel.sent == ["session-good-0004"]


def test_rate_limit_storage_failing_once_holds_the_pass_a_moment_and_costs_no_row_an_attempt(db, monkeypatch):
    with session_scope() as session:
        ids = _queue(session, ["redis-0001", "redis-0002"])
    worker = OutboxWorker(get_settings())
    calls = {"n": 0}
    real = worker.limiter.hit

    def hit(limit, *keys):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("redis is down")
        return real(limit, *keys)

    monkeypatch.setattr(worker.limiter, "hit", hit)
    assert asyncio.run(worker.send_due()) == 0  # no row is at fault: the pass stops, rows wait
    with session_scope() as session:
        assert [(session.get(OutboxRow, i).status, session.get(OutboxRow, i).attempts) for i in ids] == [("pending", 0)] * 2
    asyncio.run(worker.send_due())
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in ids] == ["sent", "sent"]


def test_a_commit_failure_after_the_provider_accepted_touches_only_that_row(db, monkeypatch):
    import worker.sender as sender

    with session_scope() as session:
        ids = _queue(session, ["commit-001", "commit-002"])
    real = sender.record_outbound

    def failing(session, sent):
        if any(row.id == ids[0] for row, _, _ in sent):
            raise RuntimeError("the database went away")
        return real(session, sent)

    monkeypatch.setattr(sender, "record_outbound", failing)
    asyncio.run(OutboxWorker(get_settings()).send_due())
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in ids] == ["sent", "sent"]  # the status kept, by the retry
        bodies = session.scalars(select(Message.volunteer_id).where(Message.direction == "out")).all()
        assert len(bodies) == 1


def test_a_stale_sending_row_is_requeued_on_an_idempotent_channel_and_unknown_elsewhere(db):
    with session_scope() as session:
        web = _queue(session, ["stale-0001"])[0]
        sms = outbox.enqueue(session, identify(session, "sms", "+17185550111", phone="+17185550111"), key="ask_name")
        for row_id in (web, sms):
            assert claim(session, row_id, utcnow() - timedelta(minutes=10))  # a worker died ten minutes ago
    worker = OutboxWorker(get_settings())
    worker.channels["sms"] = SimpleNamespace(idempotent=False)  # SMS is never safe to send twice
    worker.housekeeping()
    with session_scope() as session:
        assert session.get(OutboxRow, web).status == "pending"
        assert (session.get(OutboxRow, sms).status, session.get(OutboxRow, sms).reason) == (
            "unknown", "interrupted while sending; not sent again")


def test_a_permanent_provider_refusal_fails_only_that_row(db):
    channel = Flaky("session-refused-1", SendError("21211 invalid number", retry=False))
    with session_scope() as session:
        ids = _queue(session, ["refused-1", "fine-0001"])
    asyncio.run(OutboxWorker(get_settings(), channels={"webchat": channel}).send_due())
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in ids] == ["failed", "sent"]


def test_rate_limit_storage_down_makes_rows_wait_with_their_attempts_untouched(db, monkeypatch):
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    from tests.support import databases
    from tests.support.stack import free_port

    monkeypatch.setenv("RATE_LIMIT_STORAGE", "redis")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    databases.reset_caches()
    with session_scope() as session:
        ids = _queue(session, ["redis-down-1", "redis-down-2"])
    worker = OutboxWorker(get_settings())
    for _ in range(3):
        assert asyncio.run(worker.send_due()) == 0
    with session_scope() as session:
        assert [(session.get(OutboxRow, i).status, session.get(OutboxRow, i).attempts) for i in ids] == [("pending", 0)] * 2
    worker.limiter = MovingWindowRateLimiter(MemoryStorage())  # Redis is back
    asyncio.run(worker.send_due())
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in ids] == ["sent", "sent"]


def test_a_send_rate_set_for_a_channel_holds_the_rows_beyond_it_for_a_moment(db, monkeypatch):
    monkeypatch.setenv("OUTBOX_SEND_RATES", "webchat=2/second")
    get_settings.cache_clear()
    with session_scope() as session:
        ids = _queue(session, ["rate-0001", "rate-0002", "rate-0003"])
    worker = OutboxWorker(get_settings())
    asyncio.run(worker.send_due())
    with session_scope() as session:
        statuses = [session.get(OutboxRow, i).status for i in ids]
        held = session.get(OutboxRow, ids[2])
        assert statuses == ["sent", "sent", "pending"]
        assert held.attempts == 0 and held.send_after > utcnow()  # a moment later, no attempt spent


def test_a_send_rate_of_off_lifts_the_channels_limit(db, monkeypatch):
    monkeypatch.setenv("OUTBOX_SEND_RATES", "webchat=off")
    get_settings.cache_clear()
    assert OutboxWorker(get_settings()).rate_limits["webchat"] is None
    monkeypatch.setenv("OUTBOX_SEND_RATES", "webchat=often")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="is not a rate like 10/second"):
        get_settings()
    monkeypatch.delenv("OUTBOX_SEND_RATES")
    get_settings.cache_clear()


class SlowFirst(WebChat):
    """The web chat, except that the first call takes a while: sent together, the second call
    would end first."""

    def __init__(self):
        self.ended = []

    async def send(self, row, message):
        await asyncio.sleep(0.05 if not self.ended and row.key == "ask_name" else 0)
        self.ended.append(row.key)
        return f"outbox-{row.id}"


def test_two_messages_to_one_person_go_one_after_the_other_in_the_order_they_were_written(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-order-01")
        first = outbox.enqueue(session, identity, key="ask_name", kind="notification")
        second = outbox.enqueue(session, identity, key="ask_neighborhood", kind="notification")
        other = _queue(session, ["order-02"], key="ask_neighborhood")[0]
    channel = SlowFirst()
    asyncio.run(OutboxWorker(get_settings(), channels={"webchat": channel}).send_due())
    assert channel.ended.index("ask_name") < channel.ended.index("ask_neighborhood", 1)  # the second call after the first
    with session_scope() as session:
        assert [session.get(OutboxRow, i).status for i in (first, second, other)] == ["sent", "sent", "sent"]
        told = session.scalars(select(Message.payload).where(Message.direction == "out", Message.identity_id == identity.id)
                               .order_by(Message.id)).all()
        assert [p["outbox_id"] for p in told] == [first, second]
