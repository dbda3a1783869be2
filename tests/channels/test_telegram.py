"""Telegram: tables of real update payloads and of sends through a fake Bot API, run through
tests/channels/harness.py; then what takes more than one request."""
import pytest
from sqlalchemy import select

from campaign.db import session_scope
from campaign.models import Identity
from tests.channels.harness import (SENT_ID, TELEGRAM_SECRET, Between, In, Out, Provider, StartsWith, post, run_in,
                                    run_out, stored)
from tests.support import signing

USER = {"id": 555001, "is_bot": False, "first_name": "Ana", "language_code": "es"}
CHAT = {"id": 555001, "first_name": "Ana", "type": "private"}
JACKSON_HEIGHTS = (40.7557, -73.8831)  # 82nd St station


def text_update(text="hola quiero ayudar", update_id=9001, message_id=11, **message):
    return {"update_id": update_id, "message": {"message_id": message_id, "from": USER, "chat": CHAT, "date": 1764000000,
                                                "text": text, **message}}


def content_update(update_id=9100, **content):
    """A message with no text: a pin, a voice note, a photo..."""
    update = text_update(update_id=update_id, message_id=update_id)
    del update["message"]["text"]
    update["message"].update(content)
    return update


def button_update(data="/affirm", update_id=9002):
    return {"update_id": update_id, "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": USER, "chat_instance": "-123", "data": data,
        "message": {"message_id": 12, "from": {"id": 4242, "is_bot": True, "first_name": "Onramp"}, "chat": CHAT,
                    "date": 1764000001, "text": "Can you make it?"}}}


def contact_update(user_id=555001, phone="+1 718 555 0123", update_id=9003):
    return {"update_id": update_id, "message": {"message_id": 13, "from": USER, "chat": CHAT, "date": 1764000002,
                                                "contact": {"phone_number": phone, "first_name": "Ana", "user_id": user_id}}}


def _secret(value: str | None):
    return lambda path, payload: {} if value is None else {"X-Telegram-Bot-Api-Secret-Token": value}


PROVIDER = Provider(
    name="telegram", path="/webhooks/telegram", sign=lambda path, update: signing.telegram(TELEGRAM_SECRET, update),
    valid=lambda n: text_update(f"hola {n}", update_id=9001 + n, message_id=11 + n),
    forged={"missing": _secret(None), "empty": _secret(""), "wrong": _secret("wrong-secret")},
    malformed=[
        In("not JSON", b"{not json", 400),
        In("no update_id", b'{"message": {"text": "no update id"}}', 400),
        In("update_id is not a number", b'{"update_id": "seven"}', 400),
        In("larger than 64 KiB", b'{"update_id": 1, "message": {"text": "' + b"x" * (70 * 1024) + b'"}}', 413),
    ],
)

ANA = {"channel": "telegram", "external_id": "555001", "language_hint": "es"}

INCOMING = [
    In("a text", text_update(), answer='{"ok":true}',
       messages=[{**ANA, "body": "hola quiero ayudar", "provider_id": "555001:11", "button": None, "event": None}]),
    In("Arabic with an emoji and a ZIP code", text_update("مرحبا 👋 أريد التطوع 11372"),
       messages=[{**ANA, "body": "مرحبا 👋 أريد التطوع 11372", "button": None}]),
    In("a lone surrogate, as JSON can carry it", text_update("ok \ud800 bye"), messages=[{**ANA, "body": "ok \ufffd bye"}]),
    In("a tap on an inline keyboard button", button_update(),
       messages=[{**ANA, "body": "/affirm", "provider_id": "callback:4382bfdwdsb323b2d9", "button": "/affirm", "event": None}]),
    # the /start deep link is an adapter event, not a payload the person could type
    In("a /start deep link says where the supporter came from", text_update("/start tiktok-video-3"),
       messages=[{**ANA, "body": "/start tiktok-video-3", "button": None, "event": "start",
                  "signup_source": "telegram:tiktok-video-3"}]),
    In("an edit is acknowledged and ignored", {"update_id": 9010, "edited_message": {
        "message_id": 1, "from": USER, "chat": CHAT, "date": 1, "edit_date": 2, "text": "x"}}, messages=[]),
    *[In(f"a {kind} without text is media", content_update(**content), messages=[{**ANA, "body": "", "media": kind,
                                                                                  "location": None}])
      for kind, content in {
          "voice": {"voice": {"file_id": "AwACAgIAAxkBAAIB", "file_unique_id": "AgADbQ", "duration": 4, "mime_type": "audio/ogg"}},
          "image": {"photo": [{"file_id": "AgACAgIAAxkBAAIC", "file_unique_id": "AQADv", "width": 90, "height": 67}]},
          "sticker": {"sticker": {"file_id": "CAACAgIAAxkBAAID", "file_unique_id": "AgADAw", "type": "regular", "width": 512,
                                  "height": 512, "is_animated": False, "is_video": False}},
      }.items()],
    In("a photo with a caption is read as its caption", content_update(
        photo=[{"file_id": "x", "file_unique_id": "y", "width": 9, "height": 9}], caption="Jackson Heights"),
       messages=[{**ANA, "body": "Jackson Heights", "media": None}]),
    In("a location pin", content_update(location={"latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1]}),
       messages=[{**ANA, "body": "", "location": JACKSON_HEIGHTS}]),
    In("someone's own contact links their phone", contact_update(),
       messages=[{**ANA, "body": "", "phone": "+17185550123"}]),
    In("a friend's contact card links no phone", contact_update(user_id=999, phone="+1 212 555 0199"),
       messages=[{**ANA, "body": "", "phone": None}]),
]


@pytest.mark.parametrize("case", INCOMING, ids=str)
def test_incoming(client, case):
    run_in(client, PROVIDER, case)


class AsInt:
    """A chat id, whether the client sent it as a number or as a string."""

    def __init__(self, value: int):
        self.value = value

    def __eq__(self, other):
        return str(other) == str(self.value)

    def __repr__(self):
        return f"AsInt({self.value})"


SHIFT = {"when": "sáb", "place": "Astoria Park"}
TO_ANA = dict(channel="telegram", recipient="555001", language="es", params=SHIFT)

OUTGOING = [
    Out("choices go as an inline keyboard, in the volunteer's language", **TO_ANA,
        choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}],
        requests={"telegram": [{"chat_id": AsInt(555001), "text": StartsWith("El próximo turno de tu equipo"),
                                "reply_markup": {"inline_keyboard": [[{"text": "Sí, me apunto", "callback_data": "/affirm"}],
                                                                     [{"text": "Este no", "callback_data": "/deny"}]]}}]},
        outcome={"status": "sent", "provider_id": SENT_ID}),
    Out("a blocked bot (403) is unreachable and an opt-out", **TO_ANA, answers={"telegram": ["403"]},
        requests={"telegram": []}, outcome={"status": "failed", "consent_status": "opted_out", "unreachable": True}),
    Out("too many requests (429) waits as long as Telegram says", **TO_ANA, answers={"telegram": ["429"]},
        requests={"telegram": []}, outcome={"status": "pending", "retry_in": Between(0.5, 5)}),
    Out("a bad request (400) is final", **TO_ANA, answers={"telegram": ["400"]}, requests={"telegram": []},
        outcome={"status": "failed", "consent_status": "subscribed", "unreachable": False}),
]


@pytest.mark.parametrize("case", OUTGOING, ids=str)
def test_outgoing(fakes, case, monkeypatch):
    run_out(fakes, case, monkeypatch)


def test_sharing_ones_own_contact_links_the_phone_and_someone_elses_does_not(client):
    from bot.channels.received import Inbound
    from bot.pipeline.receive import receive

    with session_scope() as session:  # the same person already texted by SMS
        receive(session, Inbound(channel="sms", external_id="+17185550123", provider_id="SM1", text="hi", phone="+17185550123"))
    post(client, PROVIDER, text_update())
    post(client, PROVIDER, contact_update(user_id=999, phone="+1 212 555 0199", update_id=9004))  # a friend's card
    with session_scope() as session:
        assert session.scalars(select(Identity.phone).where(Identity.channel == "telegram")).one() is None
    post(client, PROVIDER, contact_update())
    with session_scope() as session:
        sms, telegram = (session.scalars(select(Identity).where(Identity.channel == c)).one() for c in ("sms", "telegram"))
        assert telegram.phone == "+17185550123" and telegram.volunteer_id == sms.volunteer_id


def test_set_webhook_registers_our_url_and_secret(fakes):
    from typer.testing import CliRunner

    from onramp.cli import app

    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    webhook = fakes["telegram"].server.config.app.state.webhook
    assert webhook["url"] == "https://onramp.example.org/webhooks/telegram"
    assert webhook["secret_token"] == TELEGRAM_SECRET


def test_a_message_is_known_by_its_chat_and_id_not_by_the_update_id(client):
    """Telegram may restart update_id at a new random value after a quiet week: a new message
    under an update_id seen before is still new, and the same message brought again by another
    update is still the same one. A tap is known by its own id."""
    assert post(client, PROVIDER, text_update("hola", update_id=7, message_id=40)).status_code == 200
    assert post(client, PROVIDER, text_update("otra cosa", update_id=7, message_id=41)).status_code == 200  # same update_id
    assert post(client, PROVIDER, text_update("hola", update_id=8, message_id=40)).status_code == 200  # same message again
    assert post(client, PROVIDER, button_update(update_id=7)).status_code == 200
    assert post(client, PROVIDER, button_update(update_id=9)).status_code == 200  # the same tap again
    assert sorted(m["body"] for m in stored()) == ["/affirm", "hola", "otra cosa"]
