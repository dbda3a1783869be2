"""Logs: no secret reaches them, whichever library writes the line; one line per message."""
import asyncio
import base64
import io
import logging

import httpx
import pytest
from sqlalchemy import select
from fastapi.testclient import TestClient

from onramp import logs
from onramp.settings import Settings, get_settings
from tests.support import databases, signing
from tests.support.fake_rasa import FakeRasa

PUBLIC = "https://onramp.example.org"
# Distinctive values, so that finding one anywhere in the logs is a leak and nothing else.
SECRETS = {
    "SERVICE_TOKEN": "svc-5d1c0f8e7b2a4c69a0b3e1f2d4c6b8a0",
    "TWILIO_AUTH_TOKEN": "twtok9f3e2d1c0b4a5968778695a4b3c2",
    "TELEGRAM_BOT_TOKEN": "777000:tgSECRETaBcDeFgHiJkLmNoPqRsTuV",
    "TELEGRAM_WEBHOOK_SECRET": "tghook-8a7b6c5d4e3f2a1b0c9d",
    "WHATSAPP_ACCESS_TOKEN": "EAAGmetaACCESS0123456789abcdef",
    "WHATSAPP_APP_SECRET": "metaAPPsecret0f1e2d3c4b5a69",
    "WHATSAPP_VERIFY_TOKEN": "metaVERIFY-3c2b1a0f9e8d",
}
TWILIO_SID = "AC" + "7" * 32


@pytest.fixture
def capture():
    """Everything every logger writes, at DEBUG, through the handler `onramp api`/`worker` use."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in logs.QUIET})
    logs.setup(get_settings(), level="DEBUG", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        logging.captureWarnings(False)


@pytest.fixture
def providers(db, monkeypatch):
    """Every channel configured with the secrets above and pointed at the providers' fakes."""
    from tests.fakes import graph, telegram, twilio

    with twilio.running() as tw, telegram.running() as tg, graph.running() as gr:
        for name, value in {**SECRETS, "PUBLIC_BASE_URL": PUBLIC, "TWILIO_ACCOUNT_SID": TWILIO_SID,
                            "TWILIO_SMS_FROM": "+12125550000", "TWILIO_WHATSAPP_FROM": "+12125550001",
                            "WHATSAPP_PHONE_NUMBER_ID": "1099", "TWILIO_API_BASE": tw.url,
                            "TELEGRAM_API_BASE": tg.url, "GRAPH_API_BASE": gr.url}.items():
            monkeypatch.setenv(name, value)
        databases.reset_caches()
        yield {"twilio": tw, "telegram": tg, "graph": gr}
    databases.reset_caches()


def leaked(text: str) -> list[str]:
    basic = base64.b64encode(f"{TWILIO_SID}:{SECRETS['TWILIO_AUTH_TOKEN']}".encode()).decode()
    telegram_secret_part = SECRETS["TELEGRAM_BOT_TOKEN"].split(":", 1)[1]
    return [name for name, value in {**SECRETS, "basic auth": basic, "telegram token": telegram_secret_part}.items()
            if value in text]


def signed_webhooks(client: TestClient) -> list[str]:
    """One inbound message per channel, signed as each provider signs; returns the signatures."""
    sms = {"MessageSid": "SM" + "a" * 32, "From": "+17185550123", "To": "+12125550000", "Body": "hi I want to help",
           "AccountSid": TWILIO_SID}
    whatsapp = {**sms, "MessageSid": "SM" + "b" * 32, "From": "whatsapp:+17185550124", "To": "whatsapp:+12125550001"}
    signatures = []
    for params in (sms, whatsapp):
        body, headers = signing.twilio(SECRETS["TWILIO_AUTH_TOKEN"], f"{PUBLIC}/webhooks/twilio", params)
        signatures.append(headers["X-Twilio-Signature"])
        answer = client.post("/webhooks/twilio", content=body, headers=headers)
        assert answer.status_code == 200
    update = {"update_id": 9100, "message": {"message_id": 1, "date": 1764000000, "text": "hola quiero ayudar",
                                            "chat": {"id": 555002, "type": "private"},
                                            "from": {"id": 555002, "is_bot": False, "first_name": "Ana"}}}
    body, headers = signing.telegram(SECRETS["TELEGRAM_WEBHOOK_SECRET"], update)
    answer = client.post("/webhooks/telegram", content=body, headers=headers)
    assert answer.status_code == 200
    meta, headers = signing.meta(SECRETS["WHATSAPP_APP_SECRET"], {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "12125550002", "phone_number_id": "1099"},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "17185550125"}],
        "messages": [{"from": "17185550125", "id": "wamid.LOGTEST1", "timestamp": "1764000000", "type": "text",
                      "text": {"body": "bonjour je veux aider"}}]}}]}]})
    signatures.append(headers["X-Hub-Signature-256"].removeprefix("sha256="))
    answer = client.post("/webhooks/whatsapp", content=meta, headers=headers)
    assert answer.status_code == 200
    assert client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.challenge": "42",
                                                    "hub.verify_token": SECRETS["WHATSAPP_VERIFY_TOKEN"]}).text == "42"
    return signatures


def process_and_send(providers) -> None:
    """The pipeline answers each message (a stand-in for the model) and the worker sends the
    replies through every adapter; then each provider fails once, so error paths log too."""
    from bot.pipeline.runner import InboundRunner
    from campaign import outbox
    from campaign.db import session_scope
    from campaign.models import Identity
    from worker.sender import OutboxWorker

    rasa = FakeRasa()

    async def main():
        runner = InboundRunner(get_settings(), rasa.client())
        task = asyncio.create_task(runner.run_forever())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(rasa.received) == 4 and not runner.active:
                break
        runner.stop()
        await task
        worker = OutboxWorker(get_settings())
        while await worker.send_due():
            pass
        with session_scope() as session:
            for identity in session.scalars(select(Identity).where(Identity.channel != "webchat")):
                outbox.enqueue(session, identity, key="help")
        for fake in providers.values():
            httpx.post(f"{fake.url}/_mode", json={"mode": "500", "count": 1})
        await worker.send_due()

    asyncio.run(main())
    assert len(rasa.received) == 4


def test_sending_through_every_channel_at_debug_logs_no_secret(providers, capture):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        signatures = signed_webhooks(client)
    process_and_send(providers)
    sent = {name: len(fake.recorder.sent) for name, fake in providers.items()}
    assert all(sent.values()), sent  # every adapter really sent
    text = capture.getvalue()
    assert "bot***/sendMessage" in text  # httpx's request line was written, with the token masked
    assert leaked(text) == []
    assert [s for s in signatures if s in text] == []


def test_one_info_line_per_processed_message_with_the_intent_rasa_read_without_its_text(providers, capture):
    from api.main import create_app

    logging.getLogger().setLevel(logging.INFO)
    for name, level in logs.QUIET.items():
        logging.getLogger(name).setLevel(level)
    with TestClient(create_app(run_pipeline=False)) as client:
        signed_webhooks(client)
    process_and_send(providers)
    lines = [line for line in capture.getvalue().splitlines() if " onramp.messages: " in line]
    assert len(lines) == 4
    assert sorted(line.split(" onramp.messages: message ")[1].split()[1] for line in lines) == [
        "sms", "telegram", "twilio_whatsapp", "whatsapp_cloud"]
    assert all("lang=" in line and "intent=" in line and " in " in line and line.endswith("s") for line in lines)
    # the intent Rasa read comes back with its replies (the fake reads these as nlu_fallback, 0.91)
    assert all(" intent=nlu_fallback confidence=0.91 " in line for line in lines), lines
    text = capture.getvalue()
    for body in ("hi I want to help", "hola quiero ayudar", "bonjour je veux aider"):
        assert body not in text
    assert "HTTP Request:" not in text  # httpx is quiet at INFO


def test_a_traceback_that_carries_a_token_is_masked(capture, monkeypatch):
    monkeypatch.setattr(logs, "secrets_from", lambda settings: [SECRETS["SERVICE_TOKEN"]])
    logs.setup(Settings(), level="DEBUG", stream=capture)
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{SECRETS['TELEGRAM_BOT_TOKEN']}/getMe with "
                           f"Authorization: Bearer {SECRETS['SERVICE_TOKEN']}")
    except RuntimeError:
        logging.getLogger("worker.sender").exception("send failed")
    text = capture.getvalue()
    assert "Traceback" in text and "RuntimeError" in text
    assert leaked(text) == []


@pytest.mark.parametrize("line, secret", [
    ("POST https://api.telegram.org/bot123456:AAH-secretPART_xyz/sendMessage", "AAH-secretPART_xyz"),
    ("headers={'Authorization': 'Bearer abc.def.ghi'}", "abc.def.ghi"),
    ("Authorization: Basic QUMxMjM6dG9rZW4=", "QUMxMjM6dG9rZW4="),
    ("x-hub-signature-256: sha256=0123abcdef", "0123abcdef"),
    ("{'X-Twilio-Signature': 'kA5Ot7Qx+Yw='}", "kA5Ot7Qx+Yw="),
    ("X-Telegram-Bot-Api-Secret-Token: hook-secret-1", "hook-secret-1"),
    ("connecting to postgresql://onramp:pgPassw0rd@db.internal/onramp", "pgPassw0rd"),
    ("redis://:r3disPass@127.0.0.1:6380/0", "r3disPass"),
    ('"POST /webhooks/rest/webhook?token=rasaTOKEN123 HTTP/1.1" 200', "rasaTOKEN123"),
    ("GET /chat/api/messages?session=s3ss10n-abcdef&after=0", "s3ss10n-abcdef"),
])
def test_each_shape_of_secret_is_masked(line, secret):
    redacted = logs.Redactor()(line)
    assert secret not in redacted and logs.MASK in redacted


def test_secrets_from_settings_include_url_passwords_and_tokens():
    settings = Settings(service_token="a-long-service-token-value", redis_url="redis://:p%40ss@127.0.0.1:6380/0",
                        database_url="postgresql://u:dbpass@h/db", telegram_bot_token="1:tokpart")
    found = logs.secrets_from(settings)
    assert {"a-long-service-token-value", "p@ss", "dbpass", "1:tokpart", "tokpart"} <= set(found)


def test_the_processed_line_never_carries_what_a_supporter_wrote(caplog):
    """A web chat payload stood in for the intent when a handoff was open, newlines and all."""
    import logging

    from onramp import logs

    with caplog.at_level(logging.INFO, logger="onramp.messages"):
        logs.message_processed(7, "webchat", "en", "my address is 12 Main St\nand my phone", 0.1, "processed")
        logs.message_processed(8, "webchat", "en", "affirm", 0.1, "processed")
    assert "Main St" not in caplog.text and "intent=(not a name)" in caplog.text and "intent=affirm" in caplog.text
