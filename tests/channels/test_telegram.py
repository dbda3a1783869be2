"""Telegram webhooks, table-driven from real update shapes, and sending through a fake Bot API."""
import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from campaign import outbox
from campaign.db import session_scope
from campaign.models import Identity, Message, OutboxRow, Volunteer
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.channels.conftest import TELEGRAM_SECRET
from tests.fakes import telegram as fake_telegram
from worker.sender import OutboxWorker

USER = {"id": 555001, "is_bot": False, "first_name": "Ana", "language_code": "es"}
CHAT = {"id": 555001, "first_name": "Ana", "type": "private"}


def text_update(text="hola quiero ayudar", update_id=9001, **message):
    return {"update_id": update_id, "message": {"message_id": 11, "from": USER, "chat": CHAT, "date": 1764000000,
                                                "text": text, **message}}


def button_update(data="/affirm", update_id=9002):
    return {"update_id": update_id, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": USER, "chat_instance": "-123", "data": data,
        "message": {"message_id": 12, "from": {"id": 4242, "is_bot": True, "first_name": "Onramp"}, "chat": CHAT,
                    "date": 1764000001, "text": "Can you make it?"}}}


def contact_update(user_id=555001, phone="+1 718 555 0123", update_id=9003):
    return {"update_id": update_id, "message": {"message_id": 13, "from": USER, "chat": CHAT, "date": 1764000002,
                                                "contact": {"phone_number": phone, "first_name": "Ana", "user_id": user_id}}}


def post(client, update, secret=TELEGRAM_SECRET, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    # JSON escapes what UTF-8 cannot carry, a lone surrogate included ("\\ud800")
    return client.post("/webhooks/telegram", content=raw if raw is not None else json.dumps(update).encode(), headers=headers)


def stored():
    with session_scope() as session:
        return session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()


@pytest.mark.parametrize("update, text, button, event", [
    (text_update(), "hola quiero ayudar", None, None),
    (text_update("مرحبا 👋 أريد التطوع 11372"), "مرحبا 👋 أريد التطوع 11372", None, None),
    (text_update("ok \ud800 bye"), "ok \ufffd bye", None, None),  # a lone surrogate, as JSON can carry it
    (button_update(), "/affirm", "/affirm", None),
    # the /start deep link is an adapter event, not a payload the person could type
    (text_update("/start tiktok-video-3"), "/start tiktok-video-3", None, "start"),
])
def test_updates_are_stored_with_the_chat_as_the_contact(client, update, text, button, event):
    response = post(client, update)
    assert response.status_code == 200
    [message] = stored()
    assert (message.channel, message.body, message.provider_id) == ("telegram", text, str(update["update_id"]))
    assert message.payload.get("button") == button
    assert message.payload.get("event") == event
    assert message.payload.get("language_hint") == "es"
    with session_scope() as session:
        assert session.get(Identity, message.identity_id).external_id == "555001"


def test_a_deep_link_records_where_the_supporter_came_from(client):
    post(client, text_update("/start tiktok-video-3"))
    with session_scope() as session:
        assert session.scalars(select(Volunteer.signup_source)).one() == "telegram:tiktok-video-3"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_a_bad_or_missing_secret_token_is_403_and_writes_nothing(client, secret):
    assert post(client, text_update(), secret=secret).status_code == 403
    assert stored() == []


@pytest.mark.parametrize("raw, status", [
    (b"{not json", 400),
    (b'{"message": {"text": "no update id"}}', 400),
    (b'{"update_id": "seven"}', 400),
    (b'{"update_id": 1, "message": {"text": "' + b"x" * (70 * 1024) + b'"}}', 413),
])
def test_malformed_and_oversized_updates(client, raw, status):
    assert post(client, None, raw=raw).status_code == status
    assert stored() == []


def test_updates_we_do_not_act_on_are_acknowledged_and_ignored(client):
    edited = {"update_id": 9010, "edited_message": {"message_id": 1, "from": USER, "chat": CHAT, "date": 1, "edit_date": 2, "text": "x"}}
    assert post(client, edited).status_code == 200
    assert stored() == []


def test_the_same_update_fifty_times_at_once_is_stored_once(client):
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post(client, text_update()).status_code, range(50)))
    assert set(codes) == {200}
    assert len(stored()) == 1


def test_sharing_ones_own_contact_links_the_phone_and_someone_elses_does_not(client):
    from bot.pipeline.inbound import Inbound
    from bot.pipeline.receive import receive

    with session_scope() as session:  # the same person already texted by SMS
        receive(session, Inbound(channel="sms", external_id="+17185550123", provider_id="SM1", text="hi", phone="+17185550123"))
    post(client, text_update())
    post(client, contact_update(user_id=999, phone="+1 212 555 0199", update_id=9004))  # a friend's card
    with session_scope() as session:
        assert session.scalars(select(Identity.phone).where(Identity.channel == "telegram")).one() is None
    post(client, contact_update())
    with session_scope() as session:
        sms, telegram = (session.scalars(select(Identity).where(Identity.channel == c)).one() for c in ("sms", "telegram"))
        assert telegram.phone == "+17185550123" and telegram.volunteer_id == sms.volunteer_id


@pytest.fixture
def fake(channel_env, monkeypatch):
    from tests.support import databases

    with fake_telegram.running() as running:
        monkeypatch.setenv("TELEGRAM_API_BASE", running.url)
        databases.reset_caches()
        yield running


def queue(key="shift_offer", choices=None):
    with session_scope() as session:
        identity = identify(session, "telegram", "555001")
        identity.volunteer.language = "es"
        outbox.enqueue(session, identity, key=key, choices=choices or [], params={"when": "sáb", "place": "Astoria Park"})
        return identity.volunteer_id


def send_all():
    asyncio.run(OutboxWorker(get_settings()).send_due())


def test_choices_go_out_as_an_inline_keyboard_in_the_volunteers_language(fake):
    queue(choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}])
    send_all()
    [sent] = fake.recorder.sent
    assert int(sent["chat_id"]) == 555001
    assert sent["text"].startswith("El próximo turno de tu equipo")
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [(row[0]["text"], row[0]["callback_data"]) for row in keyboard] == [("Sí, me apunto", "/affirm"), ("Este no", "/deny")]


def test_a_blocked_bot_marks_the_identity_unreachable_and_records_an_opt_out(fake):
    fake.recorder.modes.append("403")
    volunteer_id = queue()
    send_all()
    with session_scope() as session:
        assert session.get(Volunteer, volunteer_id).consent_status == "opted_out"
        assert session.scalars(select(Identity.unreachable)).one() is True
        assert session.scalars(select(OutboxRow.status)).one() == "failed"


def test_too_many_requests_waits_as_long_as_telegram_says(fake):
    fake.recorder.modes.append("429")
    queue()
    send_all()
    with session_scope() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert row.status == "pending"
        assert 0.5 < (row.send_after - row.created_at).total_seconds() < 5


def test_set_webhook_registers_our_url_and_secret(fake):
    from typer.testing import CliRunner

    from onramp.cli import app

    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    webhook = fake_telegram_state(fake)
    assert webhook["url"] == "https://onramp.example.org/webhooks/telegram"
    assert webhook["secret_token"] == TELEGRAM_SECRET


def fake_telegram_state(fake):
    return fake.server.config.app.state.webhook
