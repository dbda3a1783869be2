"""A shared location pin becomes the nearest neighborhood; a voice note, image or sticker is
answered in the person's language, never dropped in silence. Parsed from each provider's wire
format (Telegram Bot API, WhatsApp Cloud API, Twilio webhook parameters)."""
import asyncio

import pytest
from sqlalchemy import select

from bot.channels import telegram, twilio, whatsapp_cloud
from bot.pipeline.inbound import MediaKind
from bot.render import render
from campaign.db import session_scope
from campaign.models import Message, OutboxRow
from onramp.settings import get_settings
from tests.channels.test_telegram import post as post_telegram
from tests.channels.test_telegram import text_update
from tests.support.fake_rasa import FakeRasa

JACKSON_HEIGHTS = (40.7557, -73.8831)  # 82nd St station



def _telegram(**content):
    update = text_update(update_id=9100)
    del update["message"]["text"]
    update["message"].update(content)
    return update


@pytest.mark.parametrize("content, media", [
    ({"voice": {"file_id": "AwACAgIAAxkBAAIB", "file_unique_id": "AgADbQ", "duration": 4, "mime_type": "audio/ogg"}}, MediaKind.VOICE),
    ({"photo": [{"file_id": "AgACAgIAAxkBAAIC", "file_unique_id": "AQADv", "width": 90, "height": 67}]}, MediaKind.IMAGE),
    ({"sticker": {"file_id": "CAACAgIAAxkBAAID", "file_unique_id": "AgADAw", "type": "regular", "width": 512,
                  "height": 512, "is_animated": False, "is_video": False}}, MediaKind.STICKER),
])
def test_telegram_media_without_text_is_marked_as_media(content, media):
    inbound = telegram.update_from(_telegram(**content))
    assert (inbound.text, inbound.media, inbound.location) == ("", media, None)


def test_telegram_a_photo_with_a_caption_is_read_as_its_caption():
    inbound = telegram.update_from(_telegram(photo=[{"file_id": "x", "file_unique_id": "y", "width": 9, "height": 9}],
                                       caption="Jackson Heights"))
    assert (inbound.text, inbound.media) == ("Jackson Heights", None)


def test_telegram_a_location_pin_is_parsed():
    inbound = telegram.update_from(_telegram(location={"latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1]}))
    assert inbound.location == pytest.approx(JACKSON_HEIGHTS) and inbound.text == ""


def _whatsapp(**content):
    from tests.channels.test_whatsapp_cloud import message, webhook
    [inbound] = whatsapp_cloud.webhook_from(webhook(message(**content))).messages
    return inbound


def test_whatsapp_cloud_a_location_pin_and_media_are_parsed():
    pin = _whatsapp(type="location", location={"latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1],
                                               "name": "82 St-Jackson Hts", "address": "82nd St & Roosevelt Ave"})
    assert pin.location == pytest.approx(JACKSON_HEIGHTS)
    voice = _whatsapp(type="audio", audio={"mime_type": "audio/ogg; codecs=opus", "sha256": "abc", "id": "1234", "voice": True})
    sticker = _whatsapp(type="sticker", sticker={"mime_type": "image/webp", "sha256": "def", "id": "5678", "animated": False})
    captioned = _whatsapp(type="image", image={"caption": "Astoria", "mime_type": "image/jpeg", "sha256": "ghi", "id": "9"})
    assert (voice.media, sticker.media) == (MediaKind.VOICE, MediaKind.STICKER)
    assert (captioned.text, captioned.media) == ("Astoria", None)


def _twilio(**params):
    return twilio.message_from({"MessageSid": "SM" + "a" * 32, "From": "whatsapp:+17185550123", "To": "whatsapp:+12125550001",
                         "Body": "", "NumMedia": "0", **params})


def test_twilio_a_whatsapp_location_and_media_are_parsed():
    pin = _twilio(Latitude=str(JACKSON_HEIGHTS[0]), Longitude=str(JACKSON_HEIGHTS[1]), Address="82nd St")
    assert pin.location == pytest.approx(JACKSON_HEIGHTS)
    voice = _twilio(NumMedia="1", MediaContentType0="audio/ogg", MediaUrl0="https://api.twilio.com/2010-04-01/Media/ME1")
    image = _twilio(NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/2010-04-01/Media/ME2")
    assert (voice.media, image.media, _twilio(Body="hola").media) == (MediaKind.VOICE, MediaKind.IMAGE, None)


def run_pipeline(rasa: FakeRasa) -> None:
    from tests.test_pipeline import run_until_idle
    run_until_idle(rasa)


def test_a_pin_reaches_the_model_as_the_nearest_neighborhood_and_a_voice_note_is_answered_in_spanish(client, demo):
    pin = _telegram(location={"latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1]})
    voice = _telegram(voice={"file_id": "AwAC", "file_unique_id": "AgAD", "duration": 3})
    voice["update_id"] = 9101
    assert post_telegram(client, pin).status_code == 200
    assert post_telegram(client, voice).status_code == 200
    rasa = FakeRasa()
    run_pipeline(rasa)
    assert [text for _, text in rasa.received] == ["Jackson Heights"]  # the voice note never reaches the model
    with session_scope() as session:
        voice_id = session.scalars(select(Message.id).where(Message.provider_id == "9101")).one()
        [row] = session.scalars(select(OutboxRow).where(OutboxRow.source_message_id == voice_id)).all()
        assert row.key == "media_text_only"
        assert render(session, row, get_settings()).text == "Por ahora solo puedo leer texto. ¿Me lo escribes?"
