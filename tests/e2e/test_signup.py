"""Full sign-ups in the web chat through the real stack: the trained Rasa model, the action server
calling the REST API, the inbound pipeline and the outbox worker."""
import time

import pytest
import sqlalchemy as sa

from tests.support.chat import Chat

WEEKEND = ["sat:morning", "sat:afternoon", "sat:evening", "sun:morning", "sun:afternoon", "sun:evening"]

CONVERSATIONS = {
    "en": [
        ("hi I want to volunteer", ["welcome", "ask_name"]),
        ("Maria", ["ask_neighborhood"]),
        ("Jackson Heights", ["ask_availability"]),
        ("weekends", ["team_joined", "shift_offers"]),
        ("first choice", ["shift_booked"]),
    ],
    "es": [
        ("hola, quiero ser voluntaria", ["welcome", "ask_name"]),
        ("me llamo Lucía", ["ask_neighborhood"]),
        ("11372", ["ask_availability"]),
        ("los fines de semana", ["team_joined", "shift_offers"]),
        ("sí", ["shift_booked"]),
    ],
}


@pytest.mark.parametrize("language", sorted(CONVERSATIONS))
def test_a_full_sign_up_in_the_supporters_language(stack, api, language):
    chat = Chat(stack.api_url, stack.db_url)
    replies: list[dict] = []
    for said, expected in CONVERSATIONS[language]:
        if said == "first choice":  # tap the first shift offered
            replies = chat.say(payload=replies[-1]["choices"][0]["payload"])
        else:
            replies = chat.say(said)
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


def test_one_fitting_shift_is_offered_with_yes_and_no_buttons_in_the_supporters_language(stack):
    chat = Chat(stack.api_url, stack.db_url)
    chat.say("quiero ayudar")
    chat.say("Carmen")
    chat.say("Astoria")
    replies = chat.say("los jueves por la noche")
    offer = replies[-1]
    assert chat.keys([offer], "es") == ["shift_offers"]
    assert len(offer["choices"]) == 3  # two Thursdays in the next two weeks, and "another time"
    assert offer["choices"][-1] == {"title": "Otro horario", "payload": "/reschedule"}
    assert all("jue" in c["title"] for c in offer["choices"][:2]), offer
    # "another time" offers the one after the first, as a yes/no question
    other = chat.say(payload="/reschedule")
    assert chat.keys(other, "es") == ["shift_offer"]
    assert [c["title"] for c in other[0]["choices"]] == ["Sí, me apunto", "Este no"]
    assert chat.keys(chat.say(payload="/deny"), "es") == ["shift_declined"]


def test_cancelling_frees_the_place_for_the_first_on_the_waitlist(stack, api):
    ana, bea = Chat(stack.api_url, stack.db_url), Chat(stack.api_url, stack.db_url)
    for chat, name in ((ana, "Ana"), (bea, "Maria")):
        chat.say(f"I'm {name} from Astoria, free on thursday evenings")
    shift_id = api.get(f"/v1/volunteers/{ana.volunteer_id}/shift-offers").json()[0]["id"]
    with ana.engine.begin() as conn:  # leave one place on the shift
        booked = conn.execute(sa.text("select count(*) from bookings where shift_id=:s and status='booked'"), {"s": shift_id}).scalar()
        conn.execute(sa.text("update shifts set capacity=:c where id=:s"), {"c": booked + 1, "s": shift_id})
    tap = f'/affirm{{"shift_id": {shift_id}}}'
    assert ana.keys(ana.say(payload=tap), "en") == ["shift_booked"]
    assert bea.keys(bea.say(payload=tap), "en") == ["shift_waitlisted"]
    assert ana.keys(ana.say("I can't make it"), "en") == ["shift_cancelled"]
    # Bea is told by a notification from the worker, not in a reply: wait for it.
    deadline = time.monotonic() + 30
    told: list = []
    while time.monotonic() < deadline and "waitlist_promoted" not in told:
        told += bea.keys(bea.replies(), "en")
        time.sleep(0.3)
    assert told == ["waitlist_promoted"]
    assert api.get(f"/v1/volunteers/{bea.volunteer_id}").json()["stage"] == "booked"


def test_answers_given_at_once_are_not_asked_again(stack, api):
    chat = Chat(stack.api_url, stack.db_url)
    replies = chat.say("I'm Ana from Astoria, free on weekends")
    keys = chat.keys(replies, "en")
    assert not {"ask_name", "ask_neighborhood", "ask_availability"} & set(keys), chat.transcript
    assert keys[-2:] == ["team_joined", "shift_offers"], chat.transcript
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

