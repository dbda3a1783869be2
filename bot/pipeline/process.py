"""Steps 4 to 8 for one stored inbound message."""
import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import compliance, language, stamp
from bot.pipeline import choices as choice_words
from bot.pipeline import keywords
from bot.pipeline.replies import to_outbox
from bot.rasa_client import RasaClient
from campaign import consent, handoffs, leads, offers, turf
from campaign.db import session_scope
from campaign.models import Identity, Message, Volunteer, utcnow
from campaign.outbox import enqueue
from onramp.settings import Settings

log = logging.getLogger(__name__)
# A detected language changes only on a message at least this long, and this sure.
SWITCH_MIN_WORDS = 3
SWITCH_CONFIDENCE = 0.8


def _finish(message: Message, status: str = "processed") -> None:
    message.status = status
    message.processed_at = utcnow()


# Channels without buttons show choices as a numbered list; "2" means the second choice.
NUMBERED_CHANNELS = {"sms", "whatsapp"}
# Rasa reads a message that starts with "/" as an intent with entities; typed text never is one.
# A word joiner in front keeps the text as typed (Rasa strips whitespace, not this).
AS_TEXT = "\u2060"


def _choice(session: Session, message: Message, language: str | None) -> None:
    """A tap counts only when it answers an open offer of this contact; a payload never offered
    (typed, forged, or expired) is read as the words of its title. On numbered channels, "2"
    picks the second choice of the latest offer."""
    button = message.payload.get("button")
    if button:
        matched = offers.match_payload(session, message.identity_id, button)
        if matched is None:
            payload = {k: v for k, v in message.payload.items() if k != "button"}
            message.payload = {**payload, "not_offered": button}
        else:
            offers.take(matched[0])  # answered: a later "ok" is not read against it again
        return
    text = message.body.strip().rstrip(".)")
    offer = offers.latest(session, message.identity_id)
    choices = offer.choices if offer else []
    if message.channel in NUMBERED_CHANNELS and text.isdigit():
        if choices and 1 <= int(text) <= len(choices):
            message.payload = {**message.payload, "button": choices[int(text) - 1]["payload"]}
            offers.take(offer)
        return
    # "yes", "the second one", "Saturday": read against what was shown, not the words alone
    picked = choice_words.resolve(choices, message.body, language)
    if picked is not None:
        message.payload = {**message.payload, "button": picked}
        offers.take(offer)


def _rasa_text(message: Message) -> str:
    """What Rasa gets: an accepted payload, an adapter event, or the text (never as an intent)."""
    if message.payload.get("button"):
        return message.payload["button"]
    if message.payload.get("event") in ADAPTER_EVENTS:
        return ADAPTER_EVENTS[message.payload["event"]]
    text = message.body
    return AS_TEXT + text if text.lstrip().startswith("/") else text


# Events an adapter reports (Telegram's /start deep link), and the intent each one means.
ADAPTER_EVENTS = {"start": "/greet"}


def _lead_command(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool:
    """A team lead asking for their roster is answered from the database, not by the model."""
    if compliance.lead_command(message.body) != "roster":
        return False
    team = leads.team_led_by(session, volunteer.id)
    if team is None:
        return False
    key, params = leads.roster(session, team)
    enqueue(session, identity, key=key, params=params, source_message_id=message.id)
    _finish(message)
    return True


def _language(session: Session, volunteer: Volunteer, message: Message, settings: Settings) -> str:
    """The stored choice wins; otherwise detection, which a short message never changes.

    Place names and numbers are not evidence of a language ("j'habite à Washington Heights" is
    French), so they are taken out before detecting."""
    if volunteer.language_source == "chosen" and volunteer.language:
        return volunteer.language
    if not message.payload.get("button"):
        hint = message.payload.get("language_hint")
        text = _without_places(session, message.body)
        if volunteer.language is None:
            detected = language.detect(text, settings.languages, hint=hint, backend=settings.language_detector)
        elif len(text.split()) >= SWITCH_MIN_WORDS:
            detected = language.detect(text, settings.languages, hint=hint, backend=settings.language_detector,
                                       min_confidence=SWITCH_CONFIDENCE)
        else:
            detected = None
        if detected:
            volunteer.language, volunteer.language_source = detected, "detected"
        elif volunteer.language is None and hint in settings.languages:
            volunteer.language, volunteer.language_source = hint, "detected"
    return volunteer.language or settings.default_language


def _without_places(session: Session, text: str) -> str:
    place = turf.locate(session, text)
    if place is not None:
        folded = turf.normalize(text)
        at = folded.find(place.matched)
        if at >= 0 and len(folded) == len(text):  # same positions: cut from the original, accents kept
            text = text[:at] + " " + text[at + len(place.matched):]
        elif at >= 0:
            text = folded.replace(place.matched, " ")
    return " ".join(word for word in text.split() if not any(ch.isdigit() for ch in word))


def _prepare(message_id: int, settings: Settings) -> tuple[str, str, dict, bool] | None:
    """Steps 4 to 7 in one transaction; returns what to send to Rasa, or None when done."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "received":
            return None
        identity = session.get(Identity, message.identity_id)
        volunteer = session.get(Volunteer, message.volunteer_id)
        if keywords.apply(session, message, identity, volunteer) or _lead_command(session, message, identity, volunteer):
            return None
        _choice(session, message, volunteer.language)
        lang = _language(session, volunteer, message, settings)
        message.language = lang
        if handoffs.open_handoff(session, volunteer.id) is not None:
            _finish(message, "for_organizer")
            return None
        if volunteer.stage == "new":
            volunteer.stage = "onboarding"
        message.attempts += 1
        metadata = stamp.sign({"message_id": message.id, "volunteer_id": volunteer.id, "language": lang,
                               "channel": message.channel}, settings.service_token)
        return volunteer.conversation_id, _rasa_text(message), metadata, message.attempts > 1


def _record(message_id: int, replies: list[dict]) -> None:
    """Step 8: queue the replies and mark the message done, in one transaction."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        identity = session.get(Identity, message.identity_id)
        to_outbox(session, identity, message.id, replies)
        _finish(message)


async def process(message_id: int, rasa: RasaClient, settings: Settings) -> None:
    """Process one message. Safe to run again after a crash: Rasa is asked at most once per
    message when it can be told (its tracker is read back), and replies are queued once.

    Database work runs in a thread: a SQLite writer waiting for its lock must not block the
    event loop that the other requests of this process need to finish theirs."""
    job = await asyncio.to_thread(_prepare, message_id, settings)
    if job is None:
        return
    sender, text, metadata, retry = job
    # Rasa may be slow: no transaction is held open while it thinks.
    replies = await rasa.replies_to(sender, message_id) if retry else None
    if replies is None:
        replies = await rasa.send(sender, text, metadata)
    await asyncio.to_thread(_record, message_id, replies)
