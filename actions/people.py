"""Asking for a person, asking us to stop, and switching language."""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet

from actions.api import call, say, volunteer_id


class Handoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        await call("POST", f"/v1/volunteers/{volunteer_id(tracker)}/handoffs",
                   json={"reason": "asked", "summary": (tracker.latest_message or {}).get("text")})
        say(dispatcher, "handoff_opened")
        return []


class OptOut(Action):
    """A natural request to stop ("stop texting me"); bare keywords never reach the model."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        await call("POST", f"/v1/volunteers/{volunteer_id(tracker)}/opt-out",
                   json={"channel": metadata.get("channel", "unknown"), "words": (tracker.latest_message or {}).get("text") or "?"})
        # the one confirmation; "compliance" lets it through to someone who just opted out
        say(dispatcher, "opt_out_confirmed", kind="compliance")
        return []


class ChangeLanguage(Action):
    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        language = next(tracker.get_latest_entity_values("language"), None)
        if language is None:
            say(dispatcher, "not_understood")
            return []
        try:
            await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}",
                       json={"language": language, "language_source": "chosen"})
        except Exception:  # a language this campaign does not offer
            say(dispatcher, "not_understood")
            return [SlotSet("language", None)]
        say(dispatcher, "language_changed")
        return [SlotSet("language", language)]
