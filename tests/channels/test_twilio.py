"""Twilio (SMS and WhatsApp): tables of real webhook payloads and of sends through a fake of
Twilio's API, run through tests/channels/harness.py; then what takes more than one request."""
import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from campaign.db import session_scope
from campaign.models import DeliveryEvent, Identity, OutboxRow, Volunteer
from tests.channels.harness import (PUBLIC, SENT_ID, TWILIO_SID, TWILIO_TOKEN, Contains, EndsWith, In, Out, Provider, post, queue,
                                    run_in, run_out, send_due)
from tests.support import signing

STATUS_PATH = "/webhooks/twilio/status"


def sms(body="Hi I want to volunteer", sid="SM" + "a" * 32, sender="+17185550123", **extra):
    """What Twilio posts for an inbound SMS."""
    return {"ToCountry": "US", "ToState": "NY", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "NEW YORK",
            "FromZip": "11372", "SmsSid": sid, "FromState": "NY", "SmsStatus": "received", "FromCity": "QUEENS",
            "Body": body, "FromCountry": "US", "To": "+12125550000", "ToZip": "10001", "NumSegments": "1",
            "MessageSid": sid, "AccountSid": TWILIO_SID, "From": sender, "ApiVersion": "2010-04-01", **extra}


def whatsapp(body="hola", sid="SM" + "b" * 32, sender="+17185550123", **extra):
    return {**sms(body, sid, "whatsapp:" + sender), "To": "whatsapp:+12125550001", "ProfileName": "Ana",
            "WaId": sender.lstrip("+"), "MessageType": "text", **extra}


def status(sid, value, error=None):
    """What Twilio posts to the StatusCallback of a message we sent."""
    params = {"MessageSid": sid, "MessageStatus": value, "AccountSid": TWILIO_SID, "To": "+17185550123",
              "From": "+12125550000", "ApiVersion": "2010-04-01", "SmsSid": sid, "SmsStatus": value}
    if error:
        params["ErrorCode"] = error
    return params


def sign(path: str, params: dict) -> tuple[bytes, dict]:
    return signing.twilio(TWILIO_TOKEN, PUBLIC + path, params)


def _signature(header: str | None):
    return lambda path, params: {} if header is None else {"X-Twilio-Signature": header}


PROVIDER = Provider(
    name="twilio", path="/webhooks/twilio", sign=sign,
    valid=lambda n: sms(f"hello {n}", sid=f"SM{n:032d}"),
    forged={
        "missing": _signature(None), "empty": _signature(""), "not a signature": _signature("bm90IGEgc2lnbmF0dXJl"),
        "another account's token": lambda path, params: {
            "X-Twilio-Signature": signing.twilio_signature("not-our-token", PUBLIC + path, params)},
        "signed for another URL": lambda path, params: {
            "X-Twilio-Signature": signing.twilio_signature(TWILIO_TOKEN, "https://evil.example.org" + path, params)},
    },
    malformed=[
        In("no MessageSid", {k: v for k, v in sms().items() if k not in ("MessageSid", "SmsSid")}, 400),
        In("From is not a phone number", {**sms(), "From": "not a number"}, 400),
        In("not a form", {}, 400, raw=b"%zz&&=bad"),
        In("larger than 64 KiB", sms("x" * (70 * 1024)), 413),
        In("a status callback without a status", {k: v for k, v in status("SM1", "sent").items()
                                                  if k not in ("MessageStatus", "SmsStatus")}, 400, path=STATUS_PATH),
        In("a status Twilio does not have", status("SM1", "teleported"), 400, path=STATUS_PATH),
    ],
)

ANA = {"external_id": "+17185550123", "phone": "+17185550123"}
SURROGATE = sms("ok \ud800 bye")

INCOMING = [
    In("an SMS", sms(), answer='<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
       messages=[{**ANA, "channel": "sms", "body": "Hi I want to volunteer", "provider_id": "SM" + "a" * 32,
                  "signup_source": "sms", "language_hint": None}]),
    In("a WhatsApp message through Twilio", whatsapp(), answer="<Response></Response>",
       messages=[{**ANA, "channel": "twilio_whatsapp", "body": "hola", "provider_id": "SM" + "b" * 32, "signup_source": "twilio_whatsapp",
                  "media": None}]),
    In("Spanish with an emoji", sms("¡Hola! 👋🏽 quiero ayudar"),
       messages=[{**ANA, "channel": "sms", "body": "¡Hola! 👋🏽 quiero ayudar"}]),
    In("Arabic with a ZIP code", sms("مرحبا أريد التطوع في 11372"),
       messages=[{**ANA, "channel": "sms", "body": "مرحبا أريد التطوع في 11372"}]),
    In("a picture with no text", sms("", sid="SM" + "c" * 32),
       messages=[{**ANA, "channel": "sms", "body": "", "provider_id": "SM" + "c" * 32}]),
    In("a lone surrogate becomes a replacement character", {**SURROGATE, "Body": "ok \ufffd\ufffd\ufffd bye"},
       raw=urlencode(SURROGATE, encoding="utf-8", errors="surrogatepass").encode(),
       messages=[{"body": "ok \ufffd\ufffd\ufffd bye"}]),
    In("a phone number written as people write it", sms(sender="+1 (718) 555-0123"), messages=[{**ANA}]),
    In("a WhatsApp location pin", whatsapp("", Latitude="40.7557", Longitude="-73.8831", Address="82nd St"),
       messages=[{"body": "", "location": (40.7557, -73.8831), "media": None}]),
    In("a WhatsApp image", whatsapp("", NumMedia="1", MediaContentType0="image/jpeg",
                                    MediaUrl0="https://api.twilio.com/2010-04-01/Media/ME2"),
       messages=[{"body": "", "media": "image"}]),
    In("a WhatsApp voice note", whatsapp("", NumMedia="1", MediaContentType0="audio/ogg",
                                         MediaUrl0="https://api.twilio.com/2010-04-01/Media/ME1"),
       messages=[{"body": "", "media": "voice", "location": None}]),
    In("a delivery report for an SMS", status("SM" + "e" * 32, "delivered"), path=STATUS_PATH,
       answer="<Response></Response>",
       deliveries=[{"channel": "sms", "provider_id": "SM" + "e" * 32, "status": "delivered", "error_code": None}]),
    In("undelivered with Twilio's code is a failure, its code kept", status("SM" + "e" * 32, "undelivered", "21610"),
       path=STATUS_PATH, deliveries=[{"status": "failed", "error_code": "21610"}]),
    In("a status Twilio sends before sending is queued", status("SM" + "e" * 32, "accepted"), path=STATUS_PATH,
       deliveries=[{"status": "queued"}]),
    In("a WhatsApp delivery report", {**status("SM" + "f" * 32, "read"), "To": "whatsapp:+17185550123"},
       path=STATUS_PATH, deliveries=[{"channel": "twilio_whatsapp", "status": "read"}]),
]


@pytest.mark.parametrize("case", INCOMING, ids=str)
def test_incoming(client, case):
    run_in(client, PROVIDER, case)


YES_NO = [{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}]
SHIFT = {"when": "sáb", "place": "Astoria Park"}

OUTGOING = [
    Out("an SMS with numbered choices", "sms", key="shift_offer", choices=YES_NO,
        requests={"twilio": [{"To": "+17185550123", "From": "+12125550000", "StatusCallback": f"{PUBLIC}/webhooks/twilio/status",
                              "Body": EndsWith("Reply with a number:\n1. Yes, count me in\n2. Not this one")}]},
        outcome={"status": "sent", "provider_id": SENT_ID}),
    Out("WhatsApp through Twilio uses whatsapp: addresses", "twilio_whatsapp", key="ask_name",
        requests={"twilio": [{"To": "whatsapp:+17185550123", "From": "whatsapp:+12125550001"}]},
        outcome={"status": "sent"}),
    *[Out(f"a {answer} is retried later", "sms", key="ask_name", answers={"twilio": [answer]},
          requests={"twilio": []}, outcome={"status": "pending", "attempts": 1, "last_error": Contains(answer)})
      for answer in ("429", "500")],
    *[Out(f"after a {answer} the next pass sends it, once", "sms", key="ask_name", answers={"twilio": [answer]}, passes=2,
          requests={"twilio": [{"To": "+17185550123"}]}, outcome={"status": "sent"})
      for answer in ("429", "500")],
    Out("an unsubscribed recipient (21610) is an opt-out", "sms", key="ask_name", answers={"twilio": ["21610"]},
        requests={"twilio": []}, outcome={"status": "failed", "consent_status": "opted_out", "consent_source": "sms"}),
    Out("WhatsApp outside the window sends the approved Content template", "twilio_whatsapp", recipient="+17185550199",
        language="es", hours_since_they_wrote=30, params=SHIFT,
        env={"WHATSAPP_TEMPLATES": json.dumps({"shift_offer:es": "HX" + "0" * 32})},
        requests={"twilio": [{"ContentSid": "HX" + "0" * 32, "ContentVariables": json.dumps({"1": "sáb", "2": "Astoria Park"}),
                              "Body": None}]},
        outcome={"status": "sent"}),
]


@pytest.mark.parametrize("case", OUTGOING, ids=str)
def test_outgoing(fakes, case, monkeypatch):
    run_out(fakes, case, monkeypatch)


def test_the_same_phone_on_sms_and_whatsapp_is_one_volunteer(client):
    post(client, PROVIDER, sms(sender="+1 (718) 555-0123"))
    post(client, PROVIDER, whatsapp(sender="+17185550123"))
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Volunteer)) == 1
        assert sorted(session.scalars(select(Identity.channel))) == ["sms", "twilio_whatsapp"]


def test_a_number_reply_is_understood_as_the_choice(fakes, client):
    from tests.support.fake_rasa import FakeRasa
    from tests.test_pipeline import run_until_idle

    queue(Out("", "sms", choices=YES_NO))
    send_due()
    post(client, PROVIDER, sms("2", sid="SM" + "d" * 32))
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["/deny"]


def test_delivery_reports_are_kept_once_and_only_move_forward(fakes, client):
    queue(Out("", "sms", key="ask_name"))
    send_due()
    sid = fakes["twilio"].recorder.sent[0]["sid"]
    for value in ["sent", "delivered", "sent", "delivered"]:
        assert post(client, PROVIDER, status(sid, value), path=STATUS_PATH).status_code == 200
    forged = post(client, PROVIDER, status(sid, "sent"), path=STATUS_PATH, headers={"X-Twilio-Signature": "bad"})
    assert forged.status_code == 403
    with session_scope() as session:
        assert session.scalars(select(OutboxRow.delivery_status)).one() == "delivered"
        assert sorted(session.scalars(select(DeliveryEvent.status))) == ["delivered", "sent"]


def test_a_failed_delivery_with_21610_opts_the_person_out(fakes, client):
    volunteer_id = queue(Out("", "sms", key="ask_name"))
    send_due()
    post(client, PROVIDER, status(fakes["twilio"].recorder.sent[0]["sid"], "undelivered", "21610"), path=STATUS_PATH)
    with session_scope() as session:
        assert session.get(Volunteer, volunteer_id).consent_status == "opted_out"


def test_a_team_lead_is_told_by_sms_in_their_language_one_message_or_one_digest(fakes, monkeypatch):
    from campaign import assignment
    from campaign.demo import load
    from campaign.models import Neighborhood, Team
    from campaign.schedule import cadence_from
    from campaign.volunteers import identify
    from onramp.settings import get_settings
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
            assignment.assign(session, volunteer, cadence_from(get_settings()))

        join("Ana")
    send_due()
    with session_scope() as session:
        for name in ("Bo", "Cy", "Di"):
            join(name)
    send_due()
    to_lead = [s for s in fakes["twilio"].recorder.sent if s["To"] == lead_phone]
    assert [catalog_key(s["Body"], lead_language) for s in to_lead] == ["lead_new_member", "lead_digest"]
    assert "Ana" in to_lead[0]["Body"] and all(n in to_lead[1]["Body"] for n in ("Bo", "Cy", "Di"))
