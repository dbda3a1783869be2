"""Steps 4 to 8 for one stored inbound message."""
import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import compliance, handoff_sync, langid_offer, language, stamp
from bot.channels import numbers_choices
from bot.pipeline import choices as choice_words
from bot.pipeline import keywords, reading
from bot.pipeline.replies import to_outbox
from bot.rasa_client import RasaClient, Turn
from campaign import consent, handoffs, inbox, leads, offers, reminder_replies, turf
from campaign.db import session_scope
from campaign.schedule import cadence_from
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from campaign.outbox import CONVERSATION_KINDS, enqueue
from onramp.settings import Settings

log = logging.getLogger(__name__)
# A detected language changes only on a message at least this long, and this sure.
SWITCH_MIN_WORDS = 3
# An answer to "what's your name?" this short is taken for a name, and a name tells no language;
# longer ones carry words of the language too ("me llamo Ana").
ASK_NAME, NAME_ANSWER_WORDS = "ask_name", 2
SWITCH_CONFIDENCE = 0.8


def _finish(message: Message, status: str = "processed") -> None:
    message.status = status
    message.processed_at = utcnow()


# Rasa reads a message that starts with "/" as an intent with entities; typed text never is one.
# A word joiner in front keeps the text as typed (Rasa strips whitespace, not this).
AS_TEXT = "\u2060"


def _choice(session: Session, message: Message, language: str | None) -> None:
    """A tap counts only when it answers an open offer of this contact; a payload never offered
    (typed, forged, or expired) is read as the words of its title. On numbered channels, "2"
    picks the second choice of the latest offer."""
    button = message.payload.get("button")
    if message.payload.get(APP_CHOSEN):
        return  # the app itself read the answer (a number answering its language offer)
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
    if numbers_choices(message.channel) and text.isdigit():
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


# Marks a payload the app set itself from its own offer, so it is not checked as a tap.
APP_CHOSEN = "app_chosen"
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


def _language(session: Session, volunteer: Volunteer, message: Message, settings: Settings, locate) -> str:
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
        text = _without_places(locate, message.body.strip())
        found = None
        if volunteer.language is None or volunteer.language_source == language.LANGUAGE_GUESSED:
            if (volunteer.language is not None and not language.decided_by_script(text, settings.languages)
                    and _answers_the_name_question(session, message, text)):
                text = ""  # a name is no evidence of a language ("Hassan" read as French); its script is ("فاطمہ")
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
            # The channel's word (Telegram's language_code, a phone's country) beats the guess
            # of a message that tells no language by itself: a Bengali user's "hi" is Bengali.
            guess = hint if hint in settings.languages else None
            guess = guess or (found.language if found.language in settings.languages else settings.default_language)
            volunteer.language, volunteer.language_source = guess, language.LANGUAGE_GUESSED
            message.payload = {**message.payload, langid_offer.OFFER: langid_offer.offer_for(found, guess, settings.languages)}
    return volunteer.language or settings.default_language


def _answers_the_name_question(session: Session, message: Message, text: str) -> bool:
    """A reply of a name's length ("Hassan", "Marcus Reed") right after we asked the name."""
    if len(text.split()) > NAME_ANSWER_WORDS:
        return False
    last = session.scalar(select(OutboxRow.key).where(OutboxRow.identity_id == message.identity_id,
                                                      OutboxRow.kind.in_(CONVERSATION_KINDS))
                          .order_by(OutboxRow.id.desc()).limit(1))
    return last == ASK_NAME


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
    message.payload = {**message.payload, "button": langid_offer.change_payload(picked), APP_CHOSEN: True}
    return True


def _without_places(locate, text: str) -> str:
    place = locate(text)
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
        locate = _located_once(session)
        lang = _language(session, volunteer, message, settings, locate)
        message.language = lang
        if handoffs.route_to_organizer(session, message, identity, volunteer, settings):
            _finish(message, "for_organizer")
            return None
        # an answer to a reminder (or "my shifts") is resolved here against its open offer
        if reminder_replies.handle(session, message, identity, volunteer, cadence_from(settings)):
            _finish(message)
            return None
        # then a tap, a number or "yes" is read against the latest offer the person was shown
        _choice(session, message, lang)
        if volunteer.stage == "new":
            volunteer.stage = "onboarding"
        message.attempts += 1
        text = _rasa_text(message) or _pinned_place(session, message)
        if not text and message.payload.get("media"):
            # a voice note, image or sticker: the model reads text only, so say so (never silence)
            enqueue(session, identity, key="media_text_only", source_message_id=message.id)
            _finish(message)
            return None
        metadata = stamp.sign({"message_id": message.id, "volunteer_id": volunteer.id, "language": lang,
                               "channel": message.channel, reading.FIELD: reading.read(session, text, locate)},
                              settings.service_token)
        return volunteer.conversation_id, text, metadata, message.attempts > 1


def _located_once(session: Session):
    """turf.locate for this transaction, reading each text once: the language step (which takes
    place names out) and the reading for the form's actions ask about the same text, and each
    locate pays a query for the turf's fingerprint and a pass of the matcher."""
    found: dict[str, turf.Place | None] = {}

    def locate(text: str) -> turf.Place | None:
        if text not in found:
            found[text] = turf.locate(session, text)
        return found[text]
    return locate


def _pinned_place(session: Session, message: Message) -> str:
    """A shared location pin, told to the model as the name of the nearest neighborhood."""
    pin = message.payload.get("location")
    place = turf.nearest(session, *pin) if pin else None
    return place.neighborhood if place else ""


class LeaseLost(RuntimeError):
    """Another process took this contact while Rasa was thinking: it records the answer, not us."""


def _record(message_id: int, replies: list[dict], lease: tuple[str, float] | None = None) -> handoff_sync.Pending | None:
    """Step 8: queue the replies and mark the message done, in one transaction, only while this
    process still holds the contact's lease (`lease`: owner and seconds to renew by). Returns
    what a handoff still needs, read in the same transaction (None: recorded before)."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if lease is not None and not inbox.still_holds(session, message.identity_id, *lease):
            raise LeaseLost(f"message {message_id}: the contact's lease passed to another process")
        if message.status != "received":
            return None  # recorded already (or superseded by a STOP)
        identity = session.get(Identity, message.identity_id)
        to_outbox(session, identity, message.id, replies)
        _finish(message)
        return handoff_sync.pending(session, message_id)


async def process(message_id: int, rasa: RasaClient, settings: Settings, lease: tuple[str, float] | None = None) -> Turn | None:
    """Process one message. Safe to run again after a crash: Rasa is asked at most once per
    message (on a retry it looks its tracker up for this message first, in the same request),
    and replies are queued once. Returns what Rasa made of it (None when Rasa was not asked).

    Database work runs in a thread: a SQLite writer waiting for its lock must not block the
    event loop that the other requests of this process need to finish theirs."""
    job = await asyncio.to_thread(_prepare, message_id, settings)
    if job is None:
        await handoff_sync.after_message(rasa, message_id, settings=settings)
        return None
    sender, text, metadata, retry = job
    # Rasa may be slow: no transaction is held open while it thinks.
    turn = await rasa.send(sender, text, metadata, check_seen=retry)
    known = await asyncio.to_thread(_record, message_id, turn.replies, lease)
    await handoff_sync.after_message(rasa, message_id, turn.replies, settings=settings, known=known)
    return turn
