"""Full sign-ups in the web chat through the real stack: the trained Rasa model, the action server
calling the REST API, the inbound pipeline and the outbox worker."""
import time

import pytest
import sqlalchemy as sa

from tests.support.chat import Chat

WEEKEND = ["sat:morning", "sat:afternoon", "sat:evening", "sun:morning", "sun:afternoon", "sun:evening"]

SIGNUP = ["welcome", "ask_name"], ["ask_neighborhood"], ["ask_availability"], ["team_joined", "shift_offers"], ["shift_booked"]
TAP_FIRST = "first choice"
# language: (what the supporter says at each step, the neighborhood it names)
CONVERSATIONS = {
    "en": (["hi I want to volunteer", "Maria", "Jackson Heights", "weekends", TAP_FIRST], "Jackson Heights"),
    "es": (["hola, quiero ser voluntaria", "me llamo Lucía", "11372", "los fines de semana", "sí"], "Jackson Heights"),
    "fr": (["bonjour, je veux être bénévole", "Awa", "j'habite à Washington Heights", "le samedi matin", TAP_FIRST], "Washington Heights"),
    "zh": (["你好，我想当志愿者", "李娜", "法拉盛", "周六上午", TAP_FIRST], "Flushing"),
    "bn": (["আমি স্বেচ্ছাসেবক হতে চাই", "রফিক", "জ্যাকসন হাইটস", "শনিবার সকালে", TAP_FIRST], "Jackson Heights"),
    "ar": (["مرحبا، أريد التطوع", "عمر", "باي ريدج", "السبت صباحا", TAP_FIRST], "Bay Ridge"),
    "ur": (["میں رضاکار بننا چاہتی ہوں", "عائشہ", "جیکسن ہائٹس", "ہفتے کو صبح", TAP_FIRST], "Jackson Heights"),
    "hi": (["मैं स्वयंसेवक बनना चाहता हूँ", "प्रिया", "जैक्सन हाइट्स", "शनिवार सुबह", TAP_FIRST], "Jackson Heights"),
}


@pytest.mark.parametrize("language", list(CONVERSATIONS))
def test_a_full_sign_up_in_the_supporters_language(stack, api, language):
    chat = Chat(stack.api_url, stack.db_url)
    lines, neighborhood = CONVERSATIONS[language]
    replies: list[dict] = []
    for said, expected in zip(lines, SIGNUP):
        if said == TAP_FIRST:  # tap the first shift offered
            replies = chat.say(payload=replies[-1]["choices"][0]["payload"])
        else:
            replies = chat.say(said)
        # every bot message is a message of this language's catalog, and marked as such
        assert chat.keys(replies, language) == expected, chat.transcript
        assert all(r["language"] == language for r in replies)
    assert chat.replies() == []  # nothing more arrives
    volunteer = api.get(f"/v1/volunteers/{chat.volunteer_id}").json()
    assert volunteer["language"] == language
    assert volunteer["neighborhood"] == neighborhood
    assert "sat:morning" in volunteer["availability"]
    assert volunteer["team"] is not None and volunteer["stage"] == "booked"
    assert volunteer["name"]


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



@pytest.mark.parametrize("language, hello, words", [
    ("en", "hi I want to volunteer", "please stop texting me"),
    ("fr", "bonjour, je veux être bénévole", "ne m'écrivez plus"),
])
def test_a_natural_request_to_stop_opts_out_with_exactly_one_confirmation(stack, api, language, hello, words):
    chat = Chat(stack.api_url, stack.db_url)
    chat.say(hello)
    assert chat.keys(chat.say(words), language) == ["opt_out_confirmed"], chat.transcript
    assert api.get(f"/v1/volunteers/{chat.volunteer_id}").json()["consent_status"] == "opted_out"
    assert chat.say("are you still there?") == []  # nothing more is sent, on any channel
    assert chat.keys(chat.say("START"), language) == ["opt_in_confirmed"]


def test_switching_language_by_asking_or_by_a_button_holds(stack, api):
    chat = Chat(stack.api_url, stack.db_url)
    assert chat.keys(chat.say("hola, quiero ser voluntaria"), "es") == ["welcome", "ask_name"]
    assert chat.keys(chat.say("in English please"), "en") == ["language_changed", "ask_name"], chat.transcript
    help_reply = chat.say("what can I do here?")
    assert chat.keys(help_reply, "en")[0] == "help", chat.transcript
    bangla = next(c for c in help_reply[0]["choices"] if c["title"] == "বাংলা")
    assert chat.keys(chat.say(payload=bangla["payload"]), "bn")[:2] == ["language_changed", "ask_name"], chat.transcript
    assert chat.keys(chat.say("Hello, my name is Sam"), "bn") == ["ask_neighborhood"]  # English words do not switch back
    volunteer = api.get(f"/v1/volunteers/{chat.volunteer_id}").json()
    assert (volunteer["language"], volunteer["language_source"]) == ("bn", "chosen")
