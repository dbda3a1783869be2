"""The outbox: queued once, sent once, and never to someone who opted out."""
import asyncio

from sqlalchemy import func, select

from campaign import consent, outbox
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, utcnow
from campaign.outbox import claim
from campaign.volunteers import identify
from onramp.settings import get_settings
from worker.sender import OutboxWorker


def test_a_reply_is_queued_once_per_source_message(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-aaaa")
        message = Message(direction="in", channel="webchat", provider_id="m1", identity_id=identity.id,
                          volunteer_id=identity.volunteer_id, body="hi", payload={})
        session.add(message)
        session.flush()
        first = outbox.enqueue(session, identity, key="welcome", source_message_id=message.id, seq=0)
        again = outbox.enqueue(session, identity, key="welcome", source_message_id=message.id, seq=0)
        assert first is not None and again is None
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 1


def test_the_worker_sends_each_row_once_and_renders_it_in_the_volunteers_language(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-bbbb")
        identity.volunteer.language = "es"
        outbox.enqueue(session, identity, key="ask_name")
    worker = OutboxWorker(get_settings())
    assert asyncio.run(worker.send_due()) == 1
    assert asyncio.run(worker.send_due()) == 0
    with session_scope() as session:
        sent = session.scalars(select(Message).where(Message.direction == "out")).all()
        assert [m.body for m in sent] == ["¿Cómo te llamas?"]
        assert session.scalars(select(OutboxRow.status)).all() == ["sent"]


def test_a_message_queued_before_an_opt_out_is_never_sent(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-cccc")
        outbox.enqueue(session, identity, key="ask_name")
        # a worker has already picked the row when the opt-out lands
        claimed = outbox.due_ids(session)
    with session_scope() as session:
        identity = identify(session, "webchat", "session-cccc")
        consent.opt_out(session, identity.volunteer, "webchat", "STOP")
        outbox.enqueue(session, identity, key="opt_out_confirmed", kind=outbox.COMPLIANCE_KIND)
    worker = OutboxWorker(get_settings())
    asyncio.run(worker._send_one(claimed[0]))  # the send-time check refuses it
    asyncio.run(worker.send_due())
    with session_scope() as session:
        sent = session.scalars(select(Message.body).where(Message.direction == "out")).all()
        assert len(sent) == 1 and "unsubscribed" in sent[0]
        statuses = dict(session.execute(select(OutboxRow.key, OutboxRow.status)).all())
        assert statuses == {"ask_name": "skipped", "opt_out_confirmed": "sent"}
        assert session.scalar(select(OutboxRow.reason).where(OutboxRow.key == "ask_name")) == "opted_out"


def test_rows_interrupted_by_a_crash_are_sent_again_only_on_idempotent_channels(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-dddd")
        row_id = outbox.enqueue(session, identity, key="ask_name")
        assert claim(session, row_id, utcnow())  # then the worker dies
    worker = OutboxWorker(get_settings())
    assert worker.recover() == 0  # a claim younger than the visibility timeout may still be in flight
    assert worker.recover(older_than_seconds=0) == 1
    asyncio.run(worker.send_due())
    asyncio.run(worker.send_due())
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "out")) == 1


def test_replies_to_one_person_keep_their_order_when_one_is_deferred(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-eeee")
        first = outbox.enqueue(session, identity, key="ask_name")
        second = outbox.enqueue(session, identity, key="ask_neighborhood")
        other = outbox.enqueue(session, identify(session, "webchat", "session-ffff"), key="ask_name")
        assert outbox.due_ids(session) == [first, other]  # the second reply waits for the first
        row = session.get(OutboxRow, first)
        row.status, row.attempts = "sending", 1
        outbox.mark_failed(row, "429", retry=True, max_attempts=5, retry_after=60)  # deferred a minute
        session.get(OutboxRow, other).status = "sent"
    with session_scope() as session:
        assert outbox.due_ids(session) == []  # still waiting behind the deferred one
        session.get(OutboxRow, first).send_after = session.get(OutboxRow, first).created_at
    with session_scope() as session:
        assert outbox.due_ids(session) == [first]
