"""The inbound pipeline: stored once, acknowledged, processed in order per contact, answered once."""
import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.channels import webchat
from bot.pipeline.runner import InboundRunner
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, Volunteer
from onramp.settings import get_settings
from tests.support.fake_rasa import FakeRasa


@pytest.fixture
def client(db):
    from api.main import create_app

    SESSIONS.clear()  # tokens are per test: each test has its own database
    with TestClient(create_app(run_pipeline=False)) as client:
        yield client


SESSIONS: dict[str, str] = {}  # a test's name for a chat -> the token the server issued for it


_SESSIONS_LOCK = threading.Lock()


def token(client, name: str) -> str:
    with _SESSIONS_LOCK:  # tests post from several threads at once
        if name not in SESSIONS:
            SESSIONS[name] = client.post("/chat/api/sessions", json={}).json()["session"]
        return SESSIONS[name]


def contact(name: str) -> str:
    """The identity's external id of the chat a test called `name`."""
    return webchat.contact_of(SESSIONS[name], get_settings().service_token)


def post(client, session_id, text, message_id=None, **extra):
    body = {"client_message_id": message_id or uuid.uuid4().hex, "text": text, **extra}
    return client.post("/chat/api/messages", json=body, headers={"X-Chat-Session": token(client, session_id)})


def run_until_idle(rasa: FakeRasa, timeout: float = 90.0) -> None:
    """Run the inbound runner until no message waits."""
    async def main():
        runner = InboundRunner(get_settings(), rasa.client())
        task = asyncio.create_task(runner.run_forever())
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            with session_scope() as session:
                waiting = session.scalar(select(func.count()).select_from(Message).where(Message.status == "received"))
            if waiting == 0 and not runner.active:
                break
        runner.stop()
        await task
    asyncio.run(main())


def test_the_same_message_fifty_times_at_once_is_stored_once_and_answered_once(client):
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: post(client, "session-dup-1", "hello", "same-id-123"), range(50)))
    assert {a.status_code for a in answers} == {202}
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert len(rasa.received) == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
        replies = select(func.count()).select_from(OutboxRow).where(OutboxRow.source_message_id.is_not(None))
        assert session.scalar(replies) == 2  # the two replies, once


def test_messages_are_processed_in_order_per_contact(client):
    sent = {f"session-order-{n}": [f"message {i} from {n}" for i in range(6)] for n in range(4)}
    for i in range(6):
        for session_id, texts in sent.items():
            assert post(client, session_id, texts[i]).status_code == 202
    rasa = FakeRasa(delay=0.05)  # replies arrive out of order across contacts
    run_until_idle(rasa)
    with session_scope() as session:
        names = {contact(name): name for name in sent}
        senders = {v.conversation_id: names[v.identities[0].external_id] for v in session.scalars(select(Volunteer))}
    seen: dict[str, list[str]] = {}
    for sender, text in rasa.received:
        seen.setdefault(senders[sender], []).append(text)
    assert seen == sent


@pytest.mark.parametrize("body, status, error", [
    ({"text": "hi"}, 422, "client_message_id"),
    ({"client_message_id": "abcdefgh1", "text": ""}, 422, "send a text"),
    ({"client_message_id": "abcdefgh1", "text": "x" * 2001}, 422, "longer than"),
    ({"client_message_id": "abcdefgh1", "payload": "/" + "x" * 200}, 422, "payload"),
    ({"client_message_id": "abcdefgh1", "text": "hi", "source": {"utm": "x"}}, 422, "source"),
    ({"client_message_id": "abcdefgh1", "text": "hi", "source": "x" * 10_000}, 422, "source"),
])
def test_bad_web_chat_requests_are_refused_and_write_nothing(client, body, status, error):
    response = client.post("/chat/api/messages", json=body, headers={"X-Chat-Session": token(client, "bad-requests")})
    assert response.status_code == status
    assert error in response.json()["error"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize("session_token", [None, "made-up-by-the-client-123", "A" * 32 + "." + "B" * 32])
def test_a_chat_needs_a_session_token_the_server_issued(client, session_token):
    headers = {"X-Chat-Session": session_token} if session_token else {}
    response = client.post("/chat/api/messages", json={"client_message_id": "abcdefgh1", "text": "hi"}, headers=headers)
    assert response.status_code == 401 and "/chat/api/sessions" in response.json()["error"]
    assert client.get("/chat/api/messages", headers=headers).status_code == 401
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_the_session_token_is_never_in_a_url_and_reads_only_its_own_chat(client):
    post(client, "mine", "my secret address is 5 Main St")
    assert client.get("/chat/api/messages", headers={"X-Chat-Session": token(client, "mine")}).json()["messages"]
    assert client.get("/chat/api/messages", headers={"X-Chat-Session": token(client, "theirs")}).json()["messages"] == []
    # the old way, the id in the query string, reads nothing
    assert client.get("/chat/api/messages", params={"session": token(client, "mine")}).status_code == 401


def test_cross_site_posts_are_refused(client, monkeypatch):
    headers = {"X-Chat-Session": token(client, "cross-site")}
    form = client.post("/chat/api/messages", data={"text": "hi"}, headers=headers)
    assert form.status_code == 415
    evil = client.post("/chat/api/messages", json={"client_message_id": "abcdefgh1", "text": "hi"},
                       headers={**headers, "Origin": "https://evil.example"})
    assert evil.status_code == 403 and "WEBCHAT_ALLOWED_ORIGINS" in evil.json()["error"]
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://campaign.example.org")
    get_settings.cache_clear()
    embedded = client.post("/chat/api/messages", json={"client_message_id": "abcdefgh2", "text": "hi"},
                           headers={**headers, "Origin": "https://campaign.example.org"})
    assert embedded.status_code == 202


def test_one_address_opening_chats_or_posting_too_fast_is_slowed_down(client, monkeypatch):
    monkeypatch.setenv("WEBCHAT_SESSION_RATE", "3/minute")
    monkeypatch.setenv("WEBCHAT_MESSAGE_RATE", "4/minute")
    get_settings.cache_clear()
    token(client, "fast")
    codes = [client.post("/chat/api/sessions", json={}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    codes = [post(client, "fast", f"message {n}").status_code for n in range(5)]
    assert codes == [202, 202, 202, 202, 429]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 4


def test_malformed_and_oversized_bodies(client):
    headers = {"Content-Type": "application/json", "X-Chat-Session": token(client, "malformed")}
    assert client.post("/chat/api/messages", content=b"{not json", headers=headers).status_code == 400
    big = b'{"text": "' + b"x" * (65 * 1024) + b'"}'
    assert client.post("/chat/api/messages", content=big, headers=headers).status_code == 413

    def chunked():  # no Content-Length: refused once the limit is passed, not buffered to the end
        yield b'{"text": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'
    assert client.post("/chat/api/messages", content=chunked(), headers=headers).status_code == 413


def test_emoji_and_rtl_text_are_stored_as_written(client):
    text = "مرحبا 👋🏽 أريد التطوع 11372"
    post(client, "session-rtl-1", text)
    with session_scope() as session:
        assert session.scalars(select(Message.body)).one() == text


def test_stop_never_reaches_the_model_and_is_confirmed_once(client):
    rasa = FakeRasa()
    for text in ["hello", "STOP", "stop!", "are you there?"]:
        post(client, "session-stop-1", text)
    run_until_idle(rasa)
    # STOP is applied when it is stored: the "hello" still waiting before it gets no answer either
    assert [text for _, text in rasa.received] == []
    with session_scope() as session:
        volunteer = session.scalars(select(Volunteer)).one()
        assert (volunteer.consent_status, volunteer.consent_source, volunteer.opt_out_words) == ("opted_out", "webchat", "STOP")
        keys = session.scalars(select(OutboxRow.key).where(OutboxRow.kind == "compliance")).all()
        assert keys == ["opt_out_confirmed"]
    post(client, "session-stop-1", "START")
    run_until_idle(rasa)
    with session_scope() as session:
        assert session.scalars(select(Volunteer.consent_status)).one() == "subscribed"


def test_a_message_rasa_already_answered_before_a_crash_is_not_sent_to_it_again(client):
    rasa = FakeRasa()
    post(client, "session-crash-1", "hello")
    run_until_idle(rasa)
    # Simulate a crash after Rasa answered but before the replies were committed.
    post(client, "session-crash-1", "second message")
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.body == "second message")).one()
        volunteer = session.get(Volunteer, message.volunteer_id)
        message.attempts = 1
        message_id, sender = message.id, volunteer.conversation_id
    asyncio.run(rasa.client().send(sender, "second message", {"message_id": message_id}))
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["hello", "second message"]  # not asked twice
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.source_message_id == message_id)) == 2


def test_language_is_detected_and_a_short_message_does_not_change_it(client):
    rasa = FakeRasa()
    post(client, "session-lang-1", "hola, quiero ser voluntaria")
    post(client, "session-lang-1", "ok")
    post(client, "session-lang-1", "Jackson Heights")
    run_until_idle(rasa)
    with session_scope() as session:
        assert session.scalars(select(Volunteer.language)).one() == "es"
        assert session.scalars(select(Message.language).where(Message.direction == "in").order_by(Message.id)).all() == ["es"] * 3


def test_a_team_lead_texting_roster_gets_the_next_shift_roster_not_the_model(client, db):
    from campaign.demo import load

    with session_scope() as session:
        load.load(session)
        from campaign.models import Team

        team = session.scalars(select(Team).where(Team.slug == "astoria")).one()
        lead_phone = team.lead_phone
    from bot.channels.received import Inbound
    from bot.pipeline.receive import receive

    with session_scope() as session:
        receive(session, Inbound(channel="sms", external_id=lead_phone, provider_id="SM1", text="Roster", phone=lead_phone))
        receive(session, Inbound(channel="webchat", external_id="not-a-lead-1", provider_id="w1", text="roster"))
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["roster"]  # only the non-lead reached the model
    with session_scope() as session:
        keys = session.scalars(select(OutboxRow.key).where(OutboxRow.channel == "sms")).all()
        assert keys == ["lead_roster"]


def test_a_place_name_does_not_switch_the_language(client, db):
    from campaign.demo import load

    with session_scope() as session:
        load.load(session)
    post(client, "session-lang-fr", "bonjour, je veux être bénévole")
    post(client, "session-lang-fr", "j'habite à Washington Heights")
    run_until_idle(FakeRasa())
    with session_scope() as session:
        languages = session.scalars(select(Message.language).where(Message.direction == "in").order_by(Message.id)).all()
        assert languages == ["fr", "fr"]


def test_the_message_rasa_receives_carries_the_place_and_times_the_app_read_in_it_under_its_stamp(client, db):
    from bot import stamp
    from campaign.demo import load

    with session_scope() as session:
        load.load(session)
    post(client, "session-read", "I'm Ana from Astoria, free saturday mornings")
    post(client, "session-read", "hello")
    rasa = FakeRasa()
    run_until_idle(rasa)
    read = [event["metadata"] for events in rasa.events.values() for event in events if event["event"] == "user"]
    assert all(stamp.valid(metadata, get_settings().service_token) for metadata in read)
    assert read[0]["read"]["match"]["neighborhood"] == "Astoria" and read[0]["read"]["slots"] == ["sat:morning"]
    assert read[1]["read"] == {"match": None, "unknown_zip": None, "slots": []}
