"""Answers to a reminder, a "did you make it?" or a "my shifts" list, resolved in the app against
the open offer they answer: a tap by its payload, typed words by the per-language lexicon
(campaign/lexicon/reminder_replies.yml), always about the booking the offer names. So a bare
"no puedo" after a reminder cancels that booking, not whatever Rasa's context would guess.

Runs in the pipeline before the model (one call); anything it does not answer goes on to Rasa.
"""
import json
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import booking_status, offers, reminders, shifts
from campaign.booking_status import ACTIVE, BookingStatus
from campaign.models import Booking, Identity, Message, Shift, Volunteer, utcnow
from campaign.outbox import enqueue
from campaign.reminders import CANT_MAKE_IT, CONFIRM, HOLDING, MISSED, OTHER_TIME, WENT
from campaign.schedule import Cadence

LEXICON = Path(__file__).resolve().parent / "lexicon" / "reminder_replies.yml"
# what each kind of typed answer means, for an offer that holds these payloads; the first
# kind found in the text wins, in this order ("sí, pero no puedo" is a "cant")
READINGS = (("other_time", {OTHER_TIME: OTHER_TIME}),
            ("cant", {CANT_MAKE_IT: CANT_MAKE_IT, MISSED: MISSED}),
            ("deny", {CANT_MAKE_IT: CANT_MAKE_IT, MISSED: MISSED}),
            ("affirm", {CONFIRM: CONFIRM, WENT: WENT}))
OURS = {CONFIRM, CANT_MAKE_IT, OTHER_TIME, WENT, MISSED}
OTHER_SHIFTS = 3


def fold(text: str) -> str:
    """Case, width and punctuation folded; words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    kept = "".join(ch if ch == "'" or unicodedata.category(ch)[0] not in "PSC" else " " for ch in text)
    return " ".join(kept.split())


def _spaced(phrase: str) -> bool:
    return not any("\u4e00" <= ch <= "\u9fff" for ch in phrase)


@lru_cache
def lexicon() -> dict[str, list[str]]:
    """Every phrase of every language, by kind (a person may answer in another language)."""
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    kinds: dict[str, list[str]] = {}
    for by_kind in data.values():
        for kind, phrases in by_kind.items():
            kinds.setdefault(kind, []).extend(fold(str(p)) for p in phrases)
    return kinds


def says(text: str, kind: str) -> bool:
    folded = fold(text)
    padded = f" {folded} "
    return any((f" {p} " in padded) if _spaced(p) else (p in folded) for p in lexicon().get(kind, []))


def reading(text: str, payloads: set[str]) -> str | None:
    """The payload of the offer that typed words choose, or None when they choose none of them."""
    for kind, meaning in READINGS:
        if says(text, kind):
            chosen = next((meaning[p] for p in meaning if p in payloads), None)
            if chosen:
                return chosen
    return None


def _split(payload: str) -> tuple[str, dict]:
    if "{" not in payload:
        return payload, {}
    head, _, rest = payload.partition("{")
    try:
        entities = json.loads("{" + rest)
    except ValueError:
        entities = {}
    return head, entities if isinstance(entities, dict) else {}


def handle(session: Session, message: Message, identity: Identity, volunteer: Volunteer, cadence: Cadence,
           now: datetime | None = None) -> bool:
    """Answer the message here when it replies to one of our offers; True when it was answered.
    Also (re-)plans the nudge of an unfinished sign-up."""
    now = now or utcnow()
    reminders.plan_signup_nudge(session, volunteer, cadence, now)
    button = message.payload.get("button")
    if button:
        found = offers.match_payload(session, identity.id, button)
        if found is None:
            return False
        offer, _ = found
        action, entities = _split(button)
        if action not in OURS:
            return False  # a shift choice, say: the assistant books it
    else:
        if says(message.body, "my_shifts"):
            _my_shifts(session, message, identity, volunteer, now)
            return True
        offer = offers.latest(session, identity.id)
        if offer is None or offer.subject_kind != "booking":
            return False
        payloads = {_split(c["payload"])[0] for c in offer.choices or []}
        action, entities = reading(message.body, payloads), {}
        if action is None:
            return False
    booking_id = entities.get("booking_id") or (offer.subject_id if offer.subject_kind == "booking" else None)
    booking = session.get(Booking, booking_id) if isinstance(booking_id, int) else None
    if booking is None or booking.volunteer_id != volunteer.id:
        return False
    offers.take(offer)
    replies = _answer(session, action, booking, volunteer, cadence, now)
    for seq, (key, params, choices) in enumerate(replies):
        enqueue(session, identity, key=key, params=params, choices=choices, source_message_id=message.id, seq=seq)
    return True


def _answer(session: Session, action: str, booking: Booking, volunteer: Volunteer, cadence: Cadence,
            now: datetime) -> list[tuple[str, dict, list]]:
    shift = session.get(Shift, booking.shift_id)
    params = reminders.shift_params(shift)
    if action == CONFIRM:
        if booking.status not in HOLDING:  # cancelled meanwhile (by the team, say): other shifts then
            return _other_shifts(session, volunteer, cadence, shift)
        if booking.status != BookingStatus.CONFIRMED:  # a second "yes" confirms nothing new
            booking_status.move(booking, BookingStatus.CONFIRMED)
        return [("booking_confirmed", params, [])]
    if action == CANT_MAKE_IT:
        if booking.status in ACTIVE and shift.starts_at > now:
            shifts.cancel_booking(session, booking, cadence)
        return [("shift_cancelled", params, []), *_other_shifts(session, volunteer, cadence, shift)]
    if action == OTHER_TIME:
        return _other_shifts(session, volunteer, cadence, shift)
    attended = "attended" if action == WENT else "no_show"
    reminders.record_attendance(session, booking, attended, reminders.SUPPORTER, cadence, now)
    return [("attendance_thanks" if attended == "attended" else "attendance_missed", params, [])]


def _other_shifts(session: Session, volunteer: Volunteer, cadence: Cadence, but: Shift) -> list[tuple[str, dict, list]]:
    found = [s for s in shifts.upcoming_fitting(session, volunteer, cadence.timezone, limit=OTHER_SHIFTS + 1) if s.id != but.id]
    if not found:
        return [("shift_offer_none", {}, [])]
    return [("shift_offers", {}, shifts.offer_choices(found[:OTHER_SHIFTS]))]


def _my_shifts(session: Session, message: Message, identity: Identity, volunteer: Volunteer, now: datetime) -> None:
    """The person's upcoming bookings, each with "I can't make it", and "another time"."""
    bookings = session.scalars(select(Booking).join(Shift).where(
        Booking.volunteer_id == volunteer.id, Booking.status.in_(HOLDING), Shift.starts_at > now).order_by(Shift.starts_at)).all()
    if not bookings:
        enqueue(session, identity, key="my_shifts_none", source_message_id=message.id)
        return
    items = [{"type": "message", "key": "my_shift_item", "params": reminders.shift_params(b.shift)} for b in bookings]
    choices = [{"key": "choice_cant_make_shift", "params": {"when": reminders.when(b.shift.starts_at)},
                "payload": f'{CANT_MAKE_IT}{{"booking_id": {b.id}}}'} for b in bookings[:9]]
    choices.append({"key": "choice_other_time", "payload": f'{OTHER_TIME}{{"booking_id": {bookings[0].id}}}'})
    enqueue(session, identity, key="my_shifts", params={"shifts": {"type": "list", "items": items}}, choices=choices,
            source_message_id=message.id)
