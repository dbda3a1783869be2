"""WhatsApp Cloud API webhooks (signed, batched), table-driven from Meta's payload shapes, and
sending through a fake Graph API: buttons, lists, the 24-hour window, templates, SMS fallback."""
import asyncio
import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign import outbox
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.channels.conftest import META_PHONE_ID, META_SECRET, META_VERIFY
from tests.fakes import graph as fake_graph
from tests.fakes import twilio as fake_twilio
from worker.sender import OutboxWorker


def message(wamid="wamid.HBgLMTcxODU1NTAxMjMVAgASGBQzQTlCRjA", body="hola quiero ayudar", sender="17185550123", **kind):
    content = kind or {"type": "text", "text": {"body": body}}
    return {"from": sender, "id": wamid, "timestamp": "1764000000", **content}


def webhook(*messages, statuses=()):
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "12125550002", "phone_number_id": META_PHONE_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": m.get("from", "")} for m in messages],
        "messages": list(messages), "statuses": list(statuses)}}]}]}


def post(client, payload=None, signature="sign", raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return client.post("/webhooks/whatsapp", content=body, headers=headers)


def stored():
    with session_scope() as session:
        return session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()


def test_the_verify_token_handshake(client):
    ok = client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert client.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}).status_code == 403


@pytest.mark.parametrize("payload, expected", [
    (webhook(message()), [("hola quiero ayudar", None)]),
    (webhook(message(type="interactive", interactive={"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Sí"}})), [("Sí", "/affirm")]),
    (webhook(message(type="interactive", interactive={"type": "list_reply", "list_reply": {"id": '/affirm{"shift_id": 7}', "title": "sáb 10:00"}})),
     [("sáb 10:00", '/affirm{"shift_id": 7}')]),
    (webhook(message(body="مرحبا 👋🏽 11372")), [("مرحبا 👋🏽 11372", None)]),
    (webhook(message(body="ok \ud800 bye")), [("ok \ufffd bye", None)]),
    # a batch: two messages from two people in one request
    (webhook(message(wamid="wamid.A1", body="one"), message(wamid="wamid.B2", body="two", sender="17185550124")),
     [("one", None), ("two", None)]),
])
def test_messages_are_stored_each_once(client, payload, expected):
    assert post(client, payload).status_code == 200
    assert [(m.body, m.payload.get("button")) for m in stored()] == expected
    assert all(m.channel == "whatsapp_cloud" for m in stored())


def test_several_entries_and_changes_in_one_request(client):
    first, second = webhook(message(wamid="wamid.E1", body="a")), webhook(message(wamid="wamid.E2", body="b"))
    payload = {"object": "whatsapp_business_account", "entry": first["entry"] + second["entry"]}
    payload["entry"][0]["changes"].append(webhook(message(wamid="wamid.E3", body="c"))["entry"][0]["changes"][0])
    assert post(client, payload).status_code == 200
    assert [m.body for m in stored()] == ["a", "c", "b"]


@pytest.mark.parametrize("signature", [None, "", "sha256=00", "md5=abc", "sha256=" + "0" * 64,
                                       ("sha256=" + "é" * 64).encode("utf-8")])  # non-ASCII: a 403, never a 500
def test_a_bad_or_missing_signature_is_403_and_writes_nothing(client, signature):
    assert post(client, webhook(message()), signature=signature).status_code == 403
    assert stored() == []


@pytest.mark.parametrize("raw, status", [
    (b"{not json", 400),
    (b'{"object": "whatsapp_business_account"}', 400),
    (json.dumps(webhook({"id": "wamid.X", "type": "text"})).encode(), 400),  # no "from"
    (json.dumps(webhook(message(body="x" * (70 * 1024)))).encode(), 413),
])
def test_malformed_and_oversized_webhooks(client, raw, status):
    assert post(client, raw=raw).status_code == status
    assert stored() == []


def test_the_same_webhook_fifty_times_at_once_is_stored_once(client):
    payload = webhook(message())
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post(client, payload).status_code, range(50)))
    assert set(codes) == {200}
    assert len(stored()) == 1


@pytest.fixture
def fakes(channel_env, monkeypatch):
    from tests.support import databases

    with fake_graph.running() as graph, fake_twilio.running() as twilio:
        monkeypatch.setenv("GRAPH_API_BASE", graph.url)
        monkeypatch.setenv("TWILIO_API_BASE", twilio.url)
        databases.reset_caches()
        yield graph, twilio


def queue(choices=(), hours_since_they_wrote: float | None = 1, key="shift_offer"):
    with session_scope() as session:
        identity = identify(session, "whatsapp_cloud", "+17185550123", phone="+17185550123")
        identity.volunteer.language = "es"
        if hours_since_they_wrote is not None:
            identity.last_inbound_at = utcnow() - timedelta(hours=hours_since_they_wrote)
        outbox.enqueue(session, identity, key=key, choices=list(choices), params={"when": "sáb", "place": "Astoria Park"})


def send_all():
    asyncio.run(OutboxWorker(get_settings()).send_due())


YES_NO = [{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}]
FIVE = [{"key": "choice_shift", "params": {"when": f"día {n}"}, "payload": f'/affirm{{"shift_id": {n}}}'} for n in range(5)]


def test_up_to_three_choices_are_reply_buttons(fakes):
    graph, _ = fakes
    queue(YES_NO)
    send_all()
    [sent] = graph.recorder.sent
    assert (sent["to"], sent["type"], sent["interactive"]["type"]) == ("17185550123", "interactive", "button")
    assert [b["reply"] for b in sent["interactive"]["action"]["buttons"]] == [
        {"id": "/affirm", "title": "Sí, me apunto"}, {"id": "/deny", "title": "Este no"}]


def test_more_choices_are_a_list(fakes):
    graph, _ = fakes
    queue(FIVE)
    send_all()
    interactive = graph.recorder.sent[0]["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Elegir"
    assert len(interactive["action"]["sections"][0]["rows"]) == 5


def test_outside_the_window_a_template_is_used(fakes, monkeypatch):
    from tests.support import databases

    monkeypatch.setenv("WHATSAPP_TEMPLATE", "onramp_update")
    databases.reset_caches()
    graph, _ = fakes
    queue(hours_since_they_wrote=30)
    send_all()
    [sent] = graph.recorder.sent
    assert sent["type"] == "template" and sent["template"]["name"] == "onramp_update"
    assert sent["template"]["components"][0]["parameters"][0]["text"].startswith("El próximo turno")


@pytest.mark.parametrize("how", ["no template", "re-engagement error"])
def test_outside_the_window_without_a_template_it_falls_back_to_sms(fakes, how):
    graph, twilio = fakes
    if how == "re-engagement error":
        graph.recorder.modes.append("131047")
        queue(hours_since_they_wrote=1)
    else:
        queue(hours_since_they_wrote=30)
    send_all()
    send_all()
    assert graph.recorder.sent == []
    [sms] = twilio.recorder.sent
    assert sms["To"] == "+17185550123" and sms["Body"].startswith("El próximo turno")
    with session_scope() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert (row.channel, row.status) == ("sms", "sent")


def test_rate_limited_sends_are_retried(fakes):
    graph, _ = fakes
    graph.recorder.modes.append("429")
    queue()
    send_all()
    with session_scope() as session:
        assert session.scalars(select(OutboxRow.status)).one() == "pending"


def test_delivery_statuses_in_webhooks_are_recorded(fakes, client):
    graph, _ = fakes
    queue()
    send_all()
    wamid = graph.recorder.sent[0]["id"]
    statuses = [{"id": wamid, "status": s, "timestamp": "1764000100", "recipient_id": "17185550123"} for s in ("delivered", "sent", "read")]
    assert post(client, webhook(statuses=statuses)).status_code == 200
    with session_scope() as session:
        assert session.scalars(select(OutboxRow.delivery_status)).one() == "read"
