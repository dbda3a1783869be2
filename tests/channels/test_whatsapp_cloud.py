"""WhatsApp Cloud API (Meta): tables of real webhook payloads (signed, batched) and of sends
through a fake Graph API (buttons, lists, the 24-hour window, templates, SMS fallback), run
through tests/channels/harness.py; then what takes more than one request."""
import json

import pytest
from sqlalchemy import select

from campaign.db import session_scope
from campaign.models import OutboxRow
from tests.channels.harness import (META_PHONE_ID, META_SECRET, META_VERIFY, In, Out, Provider, StartsWith, Where, post,
                                    queue, run_in, run_out, send_due)
from tests.support import signing

JACKSON_HEIGHTS = (40.7557, -73.8831)  # 82nd St station


def message(wamid="wamid.HBgLMTcxODU1NTAxMjMVAgASGBQzQTlCRjA", body="hola quiero ayudar", sender="17185550123", **kind):
    content = kind or {"type": "text", "text": {"body": body}}
    return {"from": sender, "id": wamid, "timestamp": "1764000000", **content}


def webhook(*messages, statuses=()):
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "12125550002", "phone_number_id": META_PHONE_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": m.get("from", "")} for m in messages],
        "messages": list(messages), "statuses": list(statuses)}}]}]}


def _signature(header):
    return lambda path, payload: {} if header is None else {"X-Hub-Signature-256": header}


PROVIDER = Provider(
    name="whatsapp_cloud", path="/webhooks/whatsapp_cloud", sign=lambda path, payload: signing.meta(META_SECRET, payload),
    valid=lambda n: webhook(message(wamid=f"wamid.N{n}", body=f"hola {n}")),
    forged={"missing": _signature(None), "empty": _signature(""), "too short": _signature("sha256=00"),
            "another algorithm": _signature("md5=abc"), "wrong": _signature("sha256=" + "0" * 64),
            # non-ASCII: a 403, never a 500
            "not ASCII": _signature(("sha256=" + "é" * 64).encode("utf-8"))},
    malformed=[
        In("not JSON", b"{not json", 400),
        In("no entry list", b'{"object": "whatsapp_business_account"}', 400),
        In("a message without from", webhook({"id": "wamid.X", "type": "text"}), 400),
        In("larger than 64 KiB", webhook(message(body="x" * (70 * 1024))), 413),
    ],
)

ANA = {"channel": "whatsapp_cloud", "external_id": "+17185550123", "phone": "+17185550123"}


def _batch_of_entries_and_changes():
    first, second = webhook(message(wamid="wamid.E1", body="a")), webhook(message(wamid="wamid.E2", body="b"))
    payload = {"object": "whatsapp_business_account", "entry": first["entry"] + second["entry"]}
    payload["entry"][0]["changes"].append(webhook(message(wamid="wamid.E3", body="c"))["entry"][0]["changes"][0])
    return payload


def _status(value, wamid="wamid.OUT1", **extra):
    return {"id": wamid, "status": value, "timestamp": "1764000100", "recipient_id": "17185550123", **extra}


INCOMING = [
    In("a text", webhook(message()), answer='{"ok":true}',
       messages=[{**ANA, "body": "hola quiero ayudar", "button": None, "signup_source": "whatsapp_cloud"}]),
    In("at the path it had before Twilio's WhatsApp had its own name", webhook(message()), path="/webhooks/whatsapp",
       messages=[{**ANA, "body": "hola quiero ayudar"}]),
    In("a reply button", webhook(message(type="interactive", interactive={
        "type": "button_reply", "button_reply": {"id": "/affirm", "title": "Sí"}})),
       messages=[{**ANA, "body": "Sí", "button": "/affirm"}]),
    In("a list reply", webhook(message(type="interactive", interactive={
        "type": "list_reply", "list_reply": {"id": '/affirm{"shift_id": 7}', "title": "sáb 10:00"}})),
       messages=[{**ANA, "body": "sáb 10:00", "button": '/affirm{"shift_id": 7}'}]),
    In("Arabic with an emoji and a ZIP code", webhook(message(body="مرحبا 👋🏽 11372")),
       messages=[{**ANA, "body": "مرحبا 👋🏽 11372", "button": None}]),
    In("a lone surrogate", webhook(message(body="ok \ud800 bye")), messages=[{**ANA, "body": "ok \ufffd bye", "button": None}]),
    In("a batch: two messages from two people", webhook(message(wamid="wamid.A1", body="one"),
                                                       message(wamid="wamid.B2", body="two", sender="17185550124")),
       messages=[{**ANA, "body": "one", "button": None, "provider_id": "wamid.A1"},
                 {"channel": "whatsapp_cloud", "body": "two", "button": None, "external_id": "+17185550124"}]),
    In("several entries and changes in one request", _batch_of_entries_and_changes(),
       messages=[{"body": "a"}, {"body": "c"}, {"body": "b"}]),
    In("a location pin", webhook(message(type="location", location={
        "latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1], "name": "82 St-Jackson Hts",
        "address": "82nd St & Roosevelt Ave"})), messages=[{**ANA, "location": JACKSON_HEIGHTS}]),
    In("a voice note", webhook(message(type="audio", audio={"mime_type": "audio/ogg; codecs=opus", "sha256": "abc",
                                                            "id": "1234", "voice": True})),
       messages=[{**ANA, "body": "", "media": "voice"}]),
    In("a sticker", webhook(message(type="sticker", sticker={"mime_type": "image/webp", "sha256": "def", "id": "5678",
                                                             "animated": False})),
       messages=[{**ANA, "body": "", "media": "sticker"}]),
    In("an image with a caption is read as its caption", webhook(message(type="image", image={
        "caption": "Astoria", "mime_type": "image/jpeg", "sha256": "ghi", "id": "9"})),
       messages=[{**ANA, "body": "Astoria", "media": None}]),
    In("delivery statuses", webhook(statuses=[_status("delivered"), _status("read")]), messages=[],
       deliveries=[{"channel": "whatsapp_cloud", "provider_id": "wamid.OUT1", "status": "delivered", "error_code": None},
                   {"status": "read"}]),
    In("a failed delivery keeps Meta's code", webhook(statuses=[_status("failed", errors=[
        {"code": 131026, "title": "Message undeliverable"}])]), deliveries=[{"status": "failed", "error_code": "131026"}]),
    In("a status we do not record is acknowledged", webhook(statuses=[_status("deleted")]), deliveries=[]),
]


@pytest.mark.parametrize("case", INCOMING, ids=str)
def test_incoming(client, case):
    run_in(client, PROVIDER, case)


YES_NO = [{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}]
FIVE = [{"key": "choice_shift", "params": {"when": f"día {n}"}, "payload": f'/affirm{{"shift_id": {n}}}'} for n in range(5)]
TO_ANA = dict(channel="whatsapp_cloud", language="es", params={"when": "sáb", "place": "Astoria Park"})
INSIDE = dict(TO_ANA, hours_since_they_wrote=1)
OUTSIDE = dict(TO_ANA, hours_since_they_wrote=30)
SHIFT_TEXT = StartsWith("El próximo turno")

OUTGOING = [
    Out("up to three choices are reply buttons", **INSIDE, choices=YES_NO,
        requests={"graph": [{"to": "17185550123", "type": "interactive", "interactive": {
            "type": "button", "body": {"text": SHIFT_TEXT},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "/affirm", "title": "Sí, me apunto"}},
                                   {"type": "reply", "reply": {"id": "/deny", "title": "Este no"}}]}}}]},
        outcome={"status": "sent"}),
    Out("more choices are a list", **INSIDE, choices=FIVE,
        requests={"graph": [{"interactive": Where(lambda i: i["type"] == "list" and i["action"]["button"] == "Elegir"
                                                  and len(i["action"]["sections"][0]["rows"]) == 5, "a list of 5, 'Elegir'")}]}),
    Out("outside the window the configured template carries the text", **OUTSIDE, env={"WHATSAPP_TEMPLATE": "onramp_update"},
        requests={"graph": [{"type": "template", "template": Where(
            lambda t: t["name"] == "onramp_update" and t["components"][0]["parameters"][0]["text"].startswith("El próximo turno"),
            "onramp_update with the text as its parameter")}]}),
    Out("outside the window the approved template of that message and language", **OUTSIDE,
        env={"WHATSAPP_TEMPLATES": json.dumps({"shift_offer:es": "onramp_shift_offer_es"})},
        # the catalog message's placeholders, in order, are the template's variables
        requests={"graph": [{"type": "template", "template": {
            "name": "onramp_shift_offer_es", "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "sáb"},
                                                           {"type": "text", "text": "Astoria Park"}]}]}}]}),
    Out("outside the window without a template it falls back to SMS", **OUTSIDE, sms_consent=True, passes=2,
        requests={"graph": [], "twilio": [{"To": "+17185550123", "Body": SHIFT_TEXT}]},
        outcome={"channel": "sms", "status": "sent"}),
    Out("a re-engagement error (131047) falls back to SMS", **INSIDE, sms_consent=True, passes=2,
        answers={"graph": ["131047"]}, requests={"graph": [], "twilio": [{"To": "+17185550123", "Body": SHIFT_TEXT}]},
        outcome={"channel": "sms", "status": "sent"}),
    Out("outside the window without SMS consent nothing goes by SMS", **OUTSIDE,
        requests={"graph": [], "twilio": []}, outcome={"status": "failed"}),
    Out("a rate-limited send (429) is retried", **INSIDE, answers={"graph": ["429"]}, requests={"graph": []},
        outcome={"status": "pending"}),
    Out("an invalid parameter (400) is final", **INSIDE, answers={"graph": ["400"]}, requests={"graph": []},
        outcome={"status": "failed"}),
]


@pytest.mark.parametrize("case", OUTGOING, ids=str)
def test_outgoing(fakes, case, monkeypatch):
    run_out(fakes, case, monkeypatch)


@pytest.mark.parametrize("path", ["/webhooks/whatsapp_cloud", "/webhooks/whatsapp"])  # the path it had before, kept
def test_the_verify_token_handshake(client, path):
    ok = client.get(path, params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert client.get(path, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}).status_code == 403


def test_delivery_statuses_in_webhooks_are_recorded(fakes, client):
    queue(Out("", **INSIDE))
    send_due()
    wamid = fakes["graph"].recorder.sent[0]["id"]
    statuses = [_status(s, wamid=wamid) for s in ("delivered", "sent", "read")]
    assert post(client, PROVIDER, webhook(statuses=statuses)).status_code == 200
    with session_scope() as session:
        assert session.scalars(select(OutboxRow.delivery_status)).one() == "read"
