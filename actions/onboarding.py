"""The onboarding form: name, then neighborhood or ZIP, then availability.

Every answer is read from whatever the supporter writes, whenever they write it ("I'm Ana from
Astoria, free on weekends" fills all three), and stored through the API as soon as it is known.
"""
import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import call, say, volunteer_id

# Intents that are about something else: their words are never taken as an answer. Any other
# message, when we asked where or when, is an attempt at one ("Narnia" gets "I couldn't find it").
REQUESTS = {"ask_human", "opt_out", "change_language", "help", "ask_what", "cancel", "reschedule", "goodbye", "thanks"}
# A name is more easily confused with small talk ("yes", "hi"), so those are not names either.
NOT_A_NAME = REQUESTS | {"greet", "affirm", "deny", "volunteer"}
# How people introduce themselves when the model did not mark the name itself, in each language.
NAME_PREFIXES = re.compile(
    r"^(my name is|my name's|name's|i am|i'm|im|it's|its|this is|call me|"
    r"me llamo|mi nombre es|soy|"
    r"je m'appelle|je suis|moi c'est|c'est|mon nom c'est|mon nom est|mwen rele|"
    r"mera naam|mera nam|मेरा नाम|میرا نام|amar nam|amar naam|আমার নাম|আমি|"
    r"اسمي|انا|أنا|ana esmi|esmi)\s+"
    r"|^(我叫|我是|我係|我名叫|我的名字是|我嘅名係)\s*", re.IGNORECASE)
# ...and what some languages put after the name ("mera naam Ravi hai", "আমার নাম রফিক")
NAME_SUFFIXES = re.compile(r"\s+(hai|he|hoon|hu|है|ہے|হয়|বলে)$", re.IGNORECASE)
MAX_NAME_WORDS = 4


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


# The languages a change_language request can name (entity values, see data/nlu).
LANGUAGE_CODES = {"en", "es", "fr", "zh", "bn", "ar", "ur", "hi"}


def _is_answer(tracker: Tracker, not_answers: set[str] = REQUESTS) -> bool:
    name, confidence = _intent(tracker)
    if name == "change_language" and not set(tracker.get_latest_entity_values("language")) & LANGUAGE_CODES:
        return True  # "Carmen" is a name, not a language
    return name not in not_answers or confidence < 0.6


def _text(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("text") or "").strip()


def clean_name(text: str) -> str | None:
    text = NAME_SUFFIXES.sub("", NAME_PREFIXES.sub("", text.strip()).strip(" .!,;:。，！")).strip(" .!,;:。，！")
    if not text or any(ch.isdigit() for ch in text) or len(text.split()) > MAX_NAME_WORDS:
        return None
    return text.title() if text.islower() else text


class ValidateOnboardingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_onboarding_form"

    async def extract_volunteer_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("volunteer_name"):
            return {}
        entity = next(tracker.get_latest_entity_values("name"), None)
        asked = tracker.get_slot("requested_slot") == "volunteer_name"
        name = clean_name(entity) if entity else (clean_name(_text(tracker)) if asked and _is_answer(tracker, NOT_A_NAME) else None)
        if name is None:
            return {}
        await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}", json={"name": name})
        return {"volunteer_name": name}

    async def extract_neighborhood(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "neighborhood"
        if not text or text.startswith("/") or not (asked or not tracker.get_slot("neighborhood")):
            return {}
        found = await call("GET", "/v1/locate", params={"text": text})
        place = found.get("match")
        if place is None:
            if asked and _is_answer(tracker):
                say(dispatcher, "place_not_found", text=found.get("unknown_zip") or text[:60])
                return {"neighborhood": None}
            return {}
        await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}",
                   json={"neighborhood_id": place["neighborhood_id"], "zip_code": place["zip_code"]})
        return {"neighborhood": place["neighborhood"]}

    async def extract_availability(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "availability"
        if not text or text.startswith("/") or not (asked or not tracker.get_slot("availability")):
            return {}
        slots = (await call("POST", "/v1/availability/parse", json={"text": text[:2000]}))["slots"]
        if not slots:
            if asked and _is_answer(tracker):
                say(dispatcher, "availability_not_understood")
                return {"availability": None}
            return {}
        await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}", json={"availability": slots})
        return {"availability": slots}
