"""After onboarding: join the local team, then offer, book, change or cancel a shift.

Never a dead end: when no shift of the team fits, the nearest alternatives are offered (other
times of the team, a nearby team's shift that fits) with "tell me when one opens"; a plain "yes"
takes the first (soonest) one offered.
"""
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api import ApiError, call, say, volunteer_id

YES_NO = [{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}]
NOTIFY_ME = {"key": "choice_notify_me", "payload": "/wait_for_shift"}
OTHER_TIME = {"key": "choice_other_time", "payload": "/reschedule"}
OFFERS = 3


def when(shift: dict) -> dict:
    return {"type": "datetime", "value": shift["starts_at"]}


def book_choice(shift: dict) -> dict:
    payload = f'/affirm{{"shift_id": {shift["id"]}}}'
    if shift.get("own_team", True):
        return {"key": "choice_shift", "params": {"when": when(shift)}, "payload": payload}
    return {"key": "choice_shift_at_team", "params": {"when": when(shift), "team": shift["team_name"]}, "payload": payload}


def offer(dispatcher: CollectingDispatcher, shifts: list[dict]) -> list[dict[str, Any]]:
    """One shift as a yes/no question; several as a choice, with "another time" last."""
    first = shifts[0]
    if len(shifts) == 1:
        say(dispatcher, "shift_offer", choices=YES_NO, when=when(first), place=first["place"])
    else:
        say(dispatcher, "shift_offers", choices=[book_choice(s) for s in shifts] + [OTHER_TIME])
    return [SlotSet("offered_shift_id", first["id"])]


async def offer_alternatives(dispatcher: CollectingDispatcher, vid: int) -> list[dict[str, Any]]:
    """Nothing of the team fits: the nearest alternatives, and "tell me when one opens"."""
    alternatives = await call("GET", f"/v1/volunteers/{vid}/shift-alternatives", params={"limit": OFFERS})
    if not alternatives:
        say(dispatcher, "shift_offer_none", choices=[NOTIFY_ME])
        return [SlotSet("offered_shift_id", None)]
    say(dispatcher, "shift_alternatives", choices=[book_choice(s) for s in alternatives] + [NOTIFY_ME])
    return [SlotSet("offered_shift_id", alternatives[0]["id"])]


async def offer_fitting(dispatcher: CollectingDispatcher, vid: int, skip: int | None = None) -> list[dict[str, Any]]:
    offers = await call("GET", f"/v1/volunteers/{vid}/shift-offers", params={"limit": OFFERS + (skip is not None)})
    offers = [s for s in offers if s["id"] != skip][:OFFERS]
    return offer(dispatcher, offers) if offers else await offer_alternatives(dispatcher, vid)


class JoinTeam(Action):
    def name(self) -> str:
        return "action_join_team"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        vid = volunteer_id(tracker)
        assigned = await call("POST", f"/v1/volunteers/{vid}/assignment", json={})
        team = assigned["team"]
        if assigned.get("joined", True):  # the form run again (new times) keeps the team: not announced twice
            name = (tracker.get_slot("volunteer_name") or "").strip("\u2060 ")  # left for later: no name
            say(dispatcher, "team_joined" if name else "team_joined_no_name", team=team["name"], name=name,
                lead=team.get("lead_name") or "")
        return await offer_fitting(dispatcher, vid)


class OfferOtherShift(Action):
    def name(self) -> str:
        return "action_offer_other_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        vid = volunteer_id(tracker)
        offered = tracker.get_slot("offered_shift_id")
        offers = await call("GET", f"/v1/volunteers/{vid}/shift-offers", params={"limit": OFFERS + 3})
        later = [s for s in offers if offered is None or s["id"] != int(offered)]
        return offer(dispatcher, later[:1]) if later else await offer_alternatives(dispatcher, vid)


class BookShift(Action):
    def name(self) -> str:
        return "action_book_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        vid = volunteer_id(tracker)
        # a tapped (or resolved) choice names its shift; a plain "yes" means the first one offered
        offered = next(tracker.get_latest_entity_values("shift_id"), None) or tracker.get_slot("offered_shift_id")
        if offered is None:
            volunteer = await call("GET", f"/v1/volunteers/{vid}")
            if volunteer["stage"] == "booked" or tracker.get_slot("shift_wish") or volunteer["team"] is None:
                say(dispatcher, "thanks")  # an "ok" after a booking or a wish: nothing to book
                return []
            return await offer_fitting(dispatcher, vid)  # a "yes" to nothing: offer again, never a dead end
        try:
            booking = await call("POST", f"/v1/volunteers/{vid}/bookings", json={"shift_id": int(offered)})
        except ApiError:  # cancelled or started since it was offered, or not theirs: say so, offer what is open
            say(dispatcher, "shift_unavailable")
            return [SlotSet("offered_shift_id", None), *await offer_fitting(dispatcher, vid)]
        shift = booking["shift"]
        key = "shift_booked" if booking["status"] == "booked" else "shift_waitlisted"
        # when the reminders will come: a catalog sentence the app renders in the person's language
        say(dispatcher, key, choices=[OTHER_TIME], when=when(shift), place=shift["place"],
            reminders=booking.get("reminders") or "")
        return [SlotSet("offered_shift_id", None)]


class WishForShift(Action):
    """ "Tell me when one opens": the team lead is told, and the person hears it is noted."""

    def name(self) -> str:
        return "action_wish_for_shift"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        await call("POST", f"/v1/volunteers/{volunteer_id(tracker)}/shift-wish")
        say(dispatcher, "shift_wish_recorded")
        return [SlotSet("offered_shift_id", None), SlotSet("shift_wish", True)]


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
