"""Twilio webhooks (SMS and WhatsApp), table-driven from real payload shapes, and sending through
a fake of Twilio's API."""
import asyncio
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from campaign import outbox, outbox_parts
from campaign.db import session_scope
from campaign.models import Identity, Message, OutboxRow, Volunteer
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.channels.conftest import PUBLIC, TWILIO_SID, TWILIO_TOKEN
from tests.fakes import twilio as fake_twilio
from worker.sender import OutboxWorker


def sms(body="Hi I want to volunteer", sid="SM" + "a" * 32, sender="+17185550123", **extra):
    """What Twilio posts for an inbound SMS."""
    return {"ToCountry": "US", "ToState": "NY", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "NEW YORK",
            "FromZip": "11372", "SmsSid": sid, "FromState": "NY", "SmsStatus": "received", "FromCity": "QUEENS",
            "Body": body, "FromCountry": "US", "To": "+12125550000", "ToZip": "10001", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": TWILIO_SID, "From": sender, "ApiVersion": "2010-04-01", **extra}


def whatsapp(body="hola", sid="SM" + "b" * 32, sender="+17185550123"):
    return {**sms(body, sid, "whatsapp:" + sender), "To": "whatsapp:+12125550001", "ProfileName": "Ana",
            "WaId": sender.lstrip("+"), "MessageType": "text"}


def sign(path: str, params: dict, token: str = TWILIO_TOKEN, url: str | None = None) -> str:
    return RequestValidator(token).compute_signature(url or PUBLIC + path, params)


def post(client, params, path="/webhooks/twilio", signature="sign", raw: bytes | None = None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(path, params)
    elif signature:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=raw if raw is not None else urlencode(params).encode(), headers=headers)


def stored():
    with session_scope() as session:
        return session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()


@pytest.mark.parametrize("params, channel, text", [
    (sms(), "sms", "Hi I want to volunteer"),
    (whatsapp(), "whatsapp", "hola"),
    (sms("¡Hola! 👋🏽 quiero ayudar"), "sms", "¡Hola! 👋🏽 quiero ayudar"),
    (sms("مرحبا أريد التطوع في 11372"), "sms", "مرحبا أريد التطوع في 11372"),
    (sms("", sid="SM" + "c" * 32), "sms", ""),  # a picture with no text
])
def test_valid_messages_are_stored_and_acknowledged_with_empty_twiml(client, params, channel, text):
    response = post(client, params)
    assert response.status_code == 200
    assert response.text.startswith("<?xml") and "<Response>" in response.text
    [message] = stored()
    assert (message.channel, message.body, message.provider_id) == (channel, text, params["MessageSid"])
    with session_scope() as session:
        assert session.get(Identity, message.identity_id).external_id == "+17185550123"


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong-token", "other-url"])
def test_a_bad_or_missing_signature_is_403_and_writes_nothing(client, signature):
    params = sms()
    if signature == "wrong-token":
        signature = sign("/webhooks/twilio", params, token="not-our-token")
    elif signature == "other-url":
        signature = sign("/webhooks/twilio", params, url="https://evil.example.org/webhooks/twilio")
    response = post(client, params, signature=signature)
    assert response.status_code == 403
    assert stored() == []
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Volunteer)) == 0


@pytest.mark.parametrize("params, raw, status", [
    ({k: v for k, v in sms().items() if k not in ("MessageSid", "SmsSid")}, None, 400),
    ({**sms(), "From": "not a number"}, None, 400),
    ({}, b"%zz&&=bad", 400),
    (sms("x" * (70 * 1024)), None, 413),
])
def test_malformed_and_oversized_requests(client, params, raw, status):
    assert post(client, params, raw=raw).status_code == status
    assert stored() == []


def test_a_lone_surrogate_is_stored_as_a_replacement_character(client):
    params = sms("ok \ud800 bye")
    raw = urlencode(params, encoding="utf-8", errors="surrogatepass").encode()
    headers = {"X-Twilio-Signature": sign("/webhooks/twilio", {**params, "Body": "ok \ufffd\ufffd\ufffd bye"})}
    response = client.post("/webhooks/twilio", content=raw, headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert stored()[0].body == "ok \ufffd\ufffd\ufffd bye"


def test_the_same_request_fifty_times_at_once_is_stored_once(client):
    params = sms()
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post(client, params).status_code, range(50)))
    assert set(codes) == {200}
    assert len(stored()) == 1


def test_the_same_phone_on_sms_and_whatsapp_is_one_volunteer(client):
    post(client, sms(sender="+1 (718) 555-0123"))
    post(client, whatsapp(sender="+17185550123"))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Volunteer)) == 1
        assert sorted(session.scalars(select(Identity.channel))) == ["sms", "whatsapp"]


@pytest.fixture
def fake(channel_env, monkeypatch):
    from tests.support import databases

    with fake_twilio.running() as running:
        monkeypatch.setenv("TWILIO_API_BASE", running.url)
        databases.reset_caches()
        yield running


def queue(text_key="ask_name", channel="sms", choices=None, language="en"):
    with session_scope() as session:
        identity = identify(session, channel, "+17185550123", phone="+17185550123")
        identity.volunteer.language = language
        outbox.enqueue(session, identity, key=text_key, choices=choices or [])
        return identity.volunteer_id


def send_all():
    asyncio.run(OutboxWorker(get_settings()).send_due())


def test_sms_goes_out_through_the_twilio_api_with_numbered_choices(fake):
    queue("shift_offer", choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}])
    send_all()
    [sent] = fake.recorder.sent
    assert (sent["To"], sent["From"]) == ("+17185550123", "+12125550000")
    assert sent["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status"
    assert sent["Body"].endswith("Reply with a number:\n1. Yes, count me in\n2. Not this one")
    with session_scope() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert (row.status, outbox_parts.ids(session, row.id)) == ("sent", [sent["sid"]])


def test_whatsapp_through_twilio_uses_whatsapp_addresses(fake):
    queue(channel="whatsapp")
    send_all()
    assert [(s["To"], s["From"]) for s in fake.recorder.sent] == [("whatsapp:+17185550123", "whatsapp:+12125550001")]


@pytest.mark.parametrize("mode", ["429", "500"])
def test_rate_limits_and_provider_errors_are_retried_later_never_dropped(fake, mode):
    fake.recorder.modes.append(mode)
    queue()
    send_all()
    with session_scope() as session:
        row = session.scalars(select(OutboxRow)).one()
        assert (row.status, row.attempts) == ("pending", 1)
        assert mode in row.last_error
        row.send_after = row.created_at  # due again
    send_all()
    assert len(fake.recorder.sent) == 1


def test_an_unsubscribed_recipient_21610_is_recorded_as_an_opt_out(fake):
    fake.recorder.modes.append("21610")
    volunteer_id = queue()
    send_all()
    with session_scope() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        assert (volunteer.consent_status, volunteer.consent_source) == ("opted_out", "sms")
        assert session.scalars(select(OutboxRow.status)).one() == "failed"
    assert fake.recorder.sent == []


def test_a_number_reply_is_understood_as_the_choice(fake, client):
    from tests.support.fake_rasa import FakeRasa
    from tests.test_pipeline import run_until_idle

    queue("shift_offer", choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}])
    send_all()
    post(client, sms("2", sid="SM" + "d" * 32))
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["/deny"]


def status(sid, value, error=None):
    params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": TWILIO_SID, "To": "+17185550123",
              "From": "+12125550000", "ApiVersion": "2010-04-01", "SmsSid": sid, "SmsStatus": value}
    if error:
        params["ErrorCode"] = error
    return params


def test_delivery_reports_are_kept_once_and_only_move_forward(fake, client):
    queue()
    send_all()
    sid = fake.recorder.sent[0]["sid"]
    for value in ["sent", "delivered", "sent", "delivered"]:
        assert post(client, status(sid, value), path="/webhooks/twilio/status").status_code == 200
    assert post(client, status(sid, "sent"), path="/webhooks/twilio/status", signature="bad").status_code == 403
    with session_scope() as session:
        assert session.scalars(select(OutboxRow.delivery_status)).one() == "delivered"
        from campaign.models import DeliveryEvent

        assert sorted(session.scalars(select(DeliveryEvent.status))) == ["delivered", "sent"]


def test_a_failed_delivery_with_21610_opts_the_person_out(fake, client):
    volunteer_id = queue()
    send_all()
    post(client, status(fake.recorder.sent[0]["sid"], "undelivered", "21610"), path="/webhooks/twilio/status")
    with session_scope() as session:
        assert session.get(Volunteer, volunteer_id).consent_status == "opted_out"


def test_a_team_lead_is_told_by_sms_in_their_language_one_message_or_one_digest(fake, monkeypatch):
    from campaign import assignment
    from campaign.demo import load
    from campaign.models import Neighborhood, Team
    from tests.support import databases
    from tests.support.chat import catalog_key

    monkeypatch.setenv("LEAD_DIGEST_SECONDS", "0")
    databases.reset_caches()
    with session_scope() as session:
        load.load(session)
        hood = session.scalars(select(Neighborhood).where(Neighborhood.name == "Astoria")).one()
        team = session.get(Team, hood.team_id)
        lead_phone, lead_language = team.lead_phone, team.lead_language

        def join(name):
            volunteer = identify(session, "webchat", f"session-{name.lower()}-0001").volunteer
            volunteer.name, volunteer.neighborhood_id = name, hood.id
            assignment.assign(session, volunteer)

        join("Ana")
    send_all()
    with session_scope() as session:
        for name in ("Bo", "Cy", "Di"):
            join(name)
    send_all()
    to_lead = [s for s in fake.recorder.sent if s["To"] == lead_phone]
    assert [catalog_key(s["Body"], lead_language) for s in to_lead] == ["lead_new_member", "lead_digest"]
    assert "Ana" in to_lead[0]["Body"] and all(n in to_lead[1]["Body"] for n in ("Bo", "Cy", "Di"))
