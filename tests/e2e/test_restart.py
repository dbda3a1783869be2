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
        events = httpx.get(f"{stack.rasa_url}/conversations/{conversation}/tracker", timeout=10,
                           headers=stack.rasa_headers()).json()["events"]
        seen = [e["metadata"]["message_id"] for e in events if e["event"] == "user"]
        assert len(seen) == 4 and seen == sorted(seen) and len(set(seen)) == 4
    for chat in chats:
        keys = chat.keys(chat.replies(), "en")
        assert keys == ["welcome", "ask_name", "ask_neighborhood", "ask_availability", "team_joined", "shift_offers"], chat.transcript


def test_kill_9_during_a_burst_of_200_sms_loses_nothing_and_answers_each_once(stack, fakes):
    """50 people each send 4 messages by SMS, 200 in all; the api is killed with SIGKILL half way
    through. Webhooks that failed are sent again after the restart (as providers retry, with the
    same MessageSid), and some that succeeded are sent again too."""
    import threading

    from tests.support.channel_chat import Sms
    from tests.support.chat import catalog_key

    people = [Sms(stack.api_url, stack.db_url, fakes["twilio"], 5000 + n) for n in range(50)]
    lines = ["hi I want to volunteer", "Sam", "Astoria", "weekends"]
    sids: dict[tuple[int, int], str] = {}
    failed: list[tuple[int, int]] = []

    def burst() -> None:
        for step, line in enumerate(lines):
            for n, person in enumerate(people):
                try:
                    sids[(n, step)] = person.post(line)
                except httpx.HTTPError:
                    failed.append((n, step))

    sender = threading.Thread(target=burst)
    sender.start()
    while len(sids) < 100:
        time.sleep(0.01)
    stack.kill("api")
    sender.join()
    stack.start("api")
    stack.wait_api()
    # the provider retries what failed, in order per person; and repeats a few that got through
    for n, step in sorted(failed, key=lambda k: (k[1], k[0])):
        sids[(n, step)] = people[n].post(lines[step])
    for n in range(0, 50, 10):  # the same MessageSid again, as a provider retrying would: must be a no-op
        assert people[n].webhook(lines[0], sids[(n, 0)]).status_code == 200
    for (n, step), sid in sorted(sids.items(), key=lambda kv: kv[0][1]):
        people[n].wait(sid, timeout=240)

    engine = create_engine(stack.db_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(Message.status).where(Message.provider_id.in_(list(sids.values())))).scalars().all()
    assert Counter(statuses) == {"processed": 200}
    expected = ["welcome", "ask_name", "ask_neighborhood", "ask_availability", "team_joined", "shift_offers"]
    for person in people:
        keys = [catalog_key(text, "en") for text, _ in person.mine()]
        assert keys == expected, (person.phone, keys)

