"""After onboarding: join the local team, then offer, book, change or cancel a shift."""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api import call, say, volunteer_id

YES_NO = [{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}]


def when(shift: dict) -> dict:
    return {"type": "datetime", "value": shift["starts_at"]}


OFFERS = 3


def offer(dispatcher: CollectingDispatcher, shifts: list[dict]) -> list[dict[str, Any]]:
    """One shift as a yes/no question; several as a choice, with "another time" last."""
    if not shifts:
        say(dispatcher, "shift_offer_none")
        return [SlotSet("offered_shift_id", None)]
    first = shifts[0]
    if len(shifts) == 1:
        say(dispatcher, "shift_offer", choices=YES_NO, when=when(first), place=first["place"])
    else:
        choices = [{"key": "choice_shift", "params": {"when": when(s)}, "payload": f'/affirm{{"shift_id": {s["id"]}}}'}
                   for s in shifts]
        choices.append({"key": "choice_other_time", "payload": "/reschedule"})
        say(dispatcher, "shift_offers", choices=choices)
    return [SlotSet("offered_shift_id", first["id"])]


class JoinTeam(Action):
    def name(self) -> str:
        return "action_join_team"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        vid = volunteer_id(tracker)
        assigned = await call("POST", f"/v1/volunteers/{vid}/assignment", json={})
        team = assigned["team"]
        say(dispatcher, "team_joined", team=team["name"], name=tracker.get_slot("volunteer_name") or "",
            lead=team.get("lead_name") or "")
        offers = await call("GET", f"/v1/volunteers/{vid}/shift-offers", params={"limit": OFFERS})
        return offer(dispatcher, offers)


class OfferOtherShift(Action):
    def name(self) -> str:
        return "action_offer_other_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        offered = tracker.get_slot("offered_shift_id")
        offers = await call("GET", f"/v1/volunteers/{volunteer_id(tracker)}/shift-offers", params={"limit": OFFERS + 3})
        later = [s for s in offers if offered is None or s["id"] != int(offered)]
        return offer(dispatcher, later[:1])


class BookShift(Action):
    def name(self) -> str:
        return "action_book_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        # a tapped choice names its shift; a plain "yes" means the first one offered
        offered = next(tracker.get_latest_entity_values("shift_id"), None) or tracker.get_slot("offered_shift_id")
        if offered is None:
            say(dispatcher, "shift_offer_none")
            return []
        booking = await call("POST", f"/v1/volunteers/{volunteer_id(tracker)}/bookings", json={"shift_id": int(offered)})
        shift = booking["shift"]
        key = "shift_booked" if booking["status"] == "booked" else "shift_waitlisted"
        # when the reminders will come: a catalog sentence the app renders in the person's language
        say(dispatcher, key, when=when(shift), place=shift["place"], reminders=booking.get("reminders") or "")
        return [SlotSet("offered_shift_id", None)]


class CancelShift(Action):
    def name(self) -> str:
        return "action_cancel_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        booking = await call("POST", f"/v1/volunteers/{volunteer_id(tracker)}/bookings/cancel-next")
        if booking is None:
            say(dispatcher, "shift_nothing_to_cancel")
        else:
            say(dispatcher, "shift_cancelled", when=when(booking["shift"]))
        return []
