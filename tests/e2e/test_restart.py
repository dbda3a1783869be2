"""Kill the api while messages wait to be processed: after a restart, each is processed once and
answered once."""
import time
from collections import Counter

import httpx
from sqlalchemy import create_engine, func, select

from campaign.models import Message, OutboxRow, Volunteer
from tests.support.chat import Chat


def test_killing_the_api_loses_nothing_and_answers_nothing_twice(stack):
    chats = [Chat(stack.api_url, stack.db_url) for _ in range(6)]
    ids = []
    for text in ("hi I want to volunteer", "Sam", "Astoria", "weekends"):
        for chat in chats:
            ids.append(chat.send(text))
    stack.kill("api")  # kill -9, with messages stored, in flight and waiting
    engine = create_engine(stack.db_url)
    with engine.connect() as conn:
        waiting = conn.execute(select(func.count()).select_from(Message).where(
            Message.id.in_(ids), Message.status == "received")).scalar()
    assert waiting > 0, "the test must kill the api while messages wait"

    stack.start("api")
    stack.wait_api()
    for chat, message_id in zip(chats * 4, ids):
        chat.wait_answered(message_id, timeout=180)

    with engine.connect() as conn:
        statuses = conn.execute(select(Message.status).where(Message.id.in_(ids))).scalars().all()
        assert Counter(statuses) == {"processed": len(ids)}
        replies = conn.execute(select(OutboxRow.source_message_id, OutboxRow.seq).where(OutboxRow.source_message_id.in_(ids))).all()
        assert len(replies) == len(set(replies))
        shown = conn.execute(select(func.count()).select_from(Message).where(Message.direction == "out",
                             Message.volunteer_id.in_([c.volunteer_id for c in chats]))).scalar()
        assert shown == len(replies)  # every queued reply shown once
        conversations = conn.execute(select(Volunteer.conversation_id).where(
            Volunteer.id.in_([c.volunteer_id for c in chats]))).scalars().all()
    # Rasa saw each message exactly once, in order: read back from its tracker.
    for conversation in conversations:
        events = httpx.get(f"{stack.rasa_url}/conversations/{conversation}/tracker", timeout=10).json()["events"]
        seen = [e["metadata"]["message_id"] for e in events if e["event"] == "user"]
        assert len(seen) == 4 and seen == sorted(seen) and len(set(seen)) == 4
    for chat in chats:
        keys = chat.keys(chat.replies(), "en")
        assert keys == ["welcome", "ask_name", "ask_neighborhood", "ask_availability", "team_joined", "shift_offers"], chat.transcript
