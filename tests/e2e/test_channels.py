"""A complete sign-up over each real channel, through the whole stack and the providers' fakes,
in English and in Spanish."""
import pytest

from tests.support.channel_chat import CHANNELS
from tests.support.chat import catalog_key

LINES = {
    "en": ["hi I want to volunteer", "Maria", "Jackson Heights", "weekends"],
    "es": ["hola, quiero ser voluntaria", "me llamo Lucía", "11372", "los fines de semana"],
}
EXPECTED = [["welcome", "ask_name"], ["ask_neighborhood"], ["ask_availability"], ["team_joined", "shift_offers"], ["shift_booked"]]
FAKE = {"sms": "twilio", "twilio_whatsapp": "twilio", "telegram": "telegram", "whatsapp_cloud": "graph"}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("channel", list(CHANNELS))
def test_a_full_sign_up_over_each_channel(stack, fakes, api, channel, language):
    number = 100 * list(CHANNELS).index(channel) + (1 if language == "en" else 2)
    chat = CHANNELS[channel](stack.api_url, stack.db_url, fakes[FAKE[channel]], number)
    steps = [*(lambda line=line: chat.say(line) for line in LINES[language]), chat.tap_first]
    for step, expected in zip(steps, EXPECTED):
        if step == chat.tap_first:
            assert len(chat.last_choices) >= 2  # the shifts offered came as choices the channel can show
        replies = step()
        assert [catalog_key(text, language) for text, _ in replies] == expected, replies
    if channel == "sms":  # carriers expect the first reply to say how to stop, once
        assert chat.stop_notices == 1
    volunteer = api.get(f"/v1/volunteers/{chat.volunteer_id}").json()
    assert (volunteer["language"], volunteer["neighborhood"], volunteer["stage"]) == (language, "Jackson Heights", "booked")
