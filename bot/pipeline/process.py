"""Steps 4 to 8 for one stored inbound message."""
import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import compliance, langid_offer, language
from bot.pipeline.replies import to_outbox
from bot.rasa_client import RasaClient
from campaign import consent, handoffs, leads, turf
from campaign.db import session_scope
from campaign.models import Identity, Message, Volunteer, utcnow
from campaign.outbox import COMPLIANCE_KIND, enqueue
from onramp.settings import Settings

log = logging.getLogger(__name__)
# A detected language changes only on a message at least this long, and this sure.
SWITCH_MIN_WORDS = 3
SWITCH_CONFIDENCE = 0.8


def _finish(message: Message, status: str = "processed") -> None:
    message.status = status
    message.processed_at = utcnow()


def _compliance(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool:
    """Handle STOP/START/HELP; True when the message needs nothing more."""
    kind = compliance.classify(message.body, opted_out=volunteer.opted_out)
    if kind == "stop":
        if consent.opt_out(session, volunteer, message.channel, message.body):
            enqueue(session, identity, key="opt_out_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif kind == "start":
        if consent.opt_in(session, volunteer, message.channel, message.body):
            enqueue(session, identity, key="opt_in_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif kind == "help":
        enqueue(session, identity, key="help", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif volunteer.opted_out:
        kind = "ignored_opted_out"  # we never write to someone who opted out, until START
    else:
        return False
    _finish(message)
    message.error = kind if kind == "ignored_opted_out" else None
    return True


# Channels without buttons show choices as a numbered list; "2" means the second choice.
NUMBERED_CHANNELS = {"sms", "whatsapp"}


def _numbered_choice(session: Session, message: Message) -> None:
    text = message.body.strip().rstrip(".)")
    if message.channel not in NUMBERED_CHANNELS or not text.isdigit() or message.payload.get("button"):
        return
    last = session.scalars(
        select(Message).where(Message.identity_id == message.identity_id, Message.direction == "out", Message.id < message.id)
        .order_by(Message.id.desc()).limit(1)
    ).first()
    choices = (last.payload or {}).get("choices") if last else None
    if choices and 1 <= int(text) <= len(choices):
        message.payload = {**message.payload, "button": choices[int(text) - 1]["payload"]}


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
    """The stored choice wins; otherwise identification, which a short message never changes.

    A first message whose language cannot be told gets the best guess, stored as guessed, and the
    first reply offers the runners-up (bot/langid_offer.py); a number sent back picks one.
    Place names and numbers are not evidence of a language ("j'habite à Washington Heights" is
    French), so they are taken out before detecting."""
    if volunteer.language_source == language.LANGUAGE_CHOSEN and volunteer.language:
        return volunteer.language
    if not message.payload.get("button"):
        if volunteer.language_source == language.LANGUAGE_GUESSED and _picked_from_offer(session, volunteer, message, settings):
            return volunteer.language
        hint = message.payload.get("language_hint")
        text = _without_places(session, message.body)
        found = None
        if volunteer.language is None or volunteer.language_source == language.LANGUAGE_GUESSED:
            found = language.identify(text, settings.languages, hint=hint, backend=settings.language_detector)
            detected = found.detected
        elif len(text.split()) >= SWITCH_MIN_WORDS:
            switch = language.identify(text, settings.languages, hint=hint, backend=settings.language_detector)
            detected = switch.detected if switch.confidence >= SWITCH_CONFIDENCE else None
        else:
            detected = None
        if detected:
            volunteer.language, volunteer.language_source = detected, language.LANGUAGE_DETECTED
        elif volunteer.language is None:
            guess = found.language if found.language in settings.languages else None
            guess = guess or (hint if hint in settings.languages else settings.default_language)
            volunteer.language, volunteer.language_source = guess, language.LANGUAGE_GUESSED
            message.payload = {**message.payload, langid_offer.OFFER: langid_offer.offer_for(found, guess, settings.languages)}
    return volunteer.language or settings.default_language


def _picked_from_offer(session: Session, volunteer: Volunteer, message: Message, settings: Settings) -> bool:
    """A number answering the language offer chooses that language, as a tap would."""
    text = message.body.strip().rstrip(".)")
    if not text.isdigit():
        return False
    offered = session.scalars(
        select(Message).where(Message.volunteer_id == volunteer.id, Message.direction == "in", Message.id < message.id)
        .order_by(Message.id.desc()).limit(1)
    ).first()
    offer = (offered.payload or {}).get(langid_offer.OFFER) if offered else None
    picked = langid_offer.language_for_number(offer, int(text), settings.languages) if offer else None
    if picked is None:
        return False
    volunteer.language, volunteer.language_source = picked, language.LANGUAGE_CHOSEN
    message.payload = {**message.payload, "button": langid_offer.change_payload(picked)}
    return True


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
        if _compliance(session, message, identity, volunteer) or _lead_command(session, message, identity, volunteer):
            return None
        _numbered_choice(session, message)
        lang = _language(session, volunteer, message, settings)
        message.language = lang
        if handoffs.open_handoff(session, volunteer.id) is not None:
            _finish(message, "for_organizer")
            return None
        if volunteer.stage == "new":
            volunteer.stage = "onboarding"
        message.attempts += 1
        metadata = {"message_id": message.id, "volunteer_id": volunteer.id, "language": lang,
                    "channel": message.channel}
        text = message.payload.get("button") or message.body
        return volunteer.conversation_id, text, metadata, message.attempts > 1


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
