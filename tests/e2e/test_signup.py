"""Full sign-ups in the web chat through the real stack: the trained Rasa model, the action server
calling the REST API, the inbound pipeline and the outbox worker."""
import pytest

from tests.support.chat import Chat

WEEKEND = ["sat:morning", "sat:afternoon", "sat:evening", "sun:morning", "sun:afternoon", "sun:evening"]

CONVERSATIONS = {
    "en": [
        ("hi I want to volunteer", ["welcome", "ask_name"]),
        ("Maria", ["ask_neighborhood"]),
        ("Jackson Heights", ["ask_availability"]),
        ("weekends", ["team_joined", "shift_offer"]),
        ("/affirm", ["shift_booked"]),
    ],
    "es": [
        ("hola, quiero ser voluntaria", ["welcome", "ask_name"]),
        ("me llamo Lucía", ["ask_neighborhood"]),
        ("11372", ["ask_availability"]),
        ("los fines de semana", ["team_joined", "shift_offer"]),
        ("sí", ["shift_booked"]),
    ],
}


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_a_full_sign_up_in_the_supporters_language(stack, api, language):
    chat = Chat(stack.api_url, stack.db_url)
    for said, expected in CONVERSATIONS[language]:
        replies = chat.say(payload=said) if said.startswith("/") else chat.say(said)
        assert chat.keys(replies, language) == expected, chat.transcript
        assert all(r["language"] == language for r in replies)
    offer = [r for r in chat.replies()]  # nothing more arrives
    assert offer == []
    volunteer = api.get(f"/v1/volunteers/{chat.volunteer_id}").json()
    assert volunteer["language"] == language
    assert volunteer["neighborhood"] == "Jackson Heights"
    assert volunteer["availability"] == WEEKEND
    assert volunteer["team"]["slug"] == "jackson-heights"
    assert volunteer["stage"] == "booked"
    assert volunteer["name"] in ("Maria", "Lucía")


def test_a_shift_offer_comes_with_buttons_in_the_supporters_language(stack):
    chat = Chat(stack.api_url, stack.db_url)
    chat.say("quiero ayudar")
    chat.say("Carmen")
    chat.say("Astoria")
    replies = chat.say("sábados por la mañana")
    offer = replies[-1]
    assert chat.keys([offer], "es") == ["shift_offer"]
    assert [c["title"] for c in offer["choices"]] == ["Sí, me apunto", "Este no"]
    assert [c["payload"] for c in offer["choices"]] == ["/affirm", "/deny"]
    assert chat.keys(chat.say(payload="/deny"), "es") == ["shift_declined"]


def test_answers_given_at_once_are_not_asked_again(stack, api):
    chat = Chat(stack.api_url, stack.db_url)
    replies = chat.say("I'm Ana from Astoria, free on weekends")
    keys = chat.keys(replies, "en")
    assert not {"ask_name", "ask_neighborhood", "ask_availability"} & set(keys), chat.transcript
    assert keys[-2:] == ["team_joined", "shift_offer"], chat.transcript
    volunteer = api.get(f"/v1/volunteers/{chat.volunteer_id}").json()
    assert (volunteer["name"], volunteer["neighborhood"], volunteer["availability"]) == ("Ana", "Astoria", WEEKEND)
    assert volunteer["team"]["slug"] == "astoria"


def test_an_unknown_neighborhood_is_asked_again_with_an_example(stack):
    chat = Chat(stack.api_url, stack.db_url)
    chat.say("hi I want to volunteer")
    chat.say("Sam")
    replies = chat.say("Narnia")
    assert chat.keys(replies, "en") == ["place_not_found", "ask_neighborhood"], chat.transcript
    assert "Narnia" in replies[0]["text"] and "11372" in replies[0]["text"]
    assert chat.keys(chat.say("Bed Stuy"), "en") == ["ask_availability"]
