"""A shared location pin becomes the nearest neighborhood; a voice note, image or sticker is
answered in the person's language, never dropped in silence. (How each provider's pins and media
are parsed is in the rows of its adapter's table.)"""
from sqlalchemy import select

from bot.compose import compose
from campaign.db import session_scope
from campaign.models import Message, OutboxRow
from onramp.settings import get_settings
from tests.channels.harness import post
from tests.channels.test_telegram import JACKSON_HEIGHTS, PROVIDER, content_update
from tests.support.fake_rasa import FakeRasa


def test_a_pin_reaches_the_model_as_the_nearest_neighborhood_and_a_voice_note_is_answered_in_spanish(client, demo):
    from tests.test_pipeline import run_until_idle

    pin = content_update(location={"latitude": JACKSON_HEIGHTS[0], "longitude": JACKSON_HEIGHTS[1]})
    voice = content_update(update_id=9101, voice={"file_id": "AwAC", "file_unique_id": "AgAD", "duration": 3})
    assert post(client, PROVIDER, pin).status_code == 200
    assert post(client, PROVIDER, voice).status_code == 200
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["Jackson Heights"]  # the voice note never reaches the model
    with session_scope() as session:
        voice_id = session.scalars(select(Message.id).where(Message.provider_id == "555001:9101")).one()
        [row] = session.scalars(select(OutboxRow).where(OutboxRow.source_message_id == voice_id)).all()
        assert row.key == "media_text_only"
        assert compose(session, row, get_settings()).text == "Por ahora solo puedo leer texto. ¿Me lo escribes?"
