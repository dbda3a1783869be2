"""Human handoff: while a handoff is open, an organizer owns the conversation, not the bot.

Rules kept here: when a handoff opens (asked, not understood twice, a sensitive topic), the
alert planned when it opens and cancelled once someone answers, claiming and assigning, the
organizer's reply, and closing with an outcome and a resume mode. Talking to Rasa about it
(pause, resume) is bot.handoff_sync's job: no network call happens here."""
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import regex
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import outbox, person_requests
from campaign.models import Account, Handoff, Identity, Message, OutboxRow, Team, Volunteer, utcnow
from campaign.outbox_status import OutboxStatus
from campaign.volunteers import reach
from onramp.settings import Settings

LEXICON = Path(__file__).resolve().parent / "lexicon" / "sensitive.yml"
ALERT_KEY = "handoff_alert"
NOT_UNDERSTOOD_KEY = "not_understood"
ONBOARDING_FORM = "onboarding_form"
# Replies queued by these rules sit after Rasa's own replies to the same message.
TRIGGER_SEQ = 100


class Status(StrEnum):
    open = "open"
    closed = "closed"


class Reason(StrEnum):
    asked = "asked"
    not_understood = "not_understood"
    sensitive = "sensitive"
    bot_unavailable = "bot_unavailable"


class ResumeMode(StrEnum):
    continue_onboarding = "continue"  # the bot picks the sign-up up where it stopped
    quiet = "quiet"                   # the bot answers the next message, and starts nothing itself


OUTCOMES = ("resolved", "signed_up", "referred", "not_interested", "no_answer")


class HandoffError(ValueError):
    pass


def open_handoff(session: Session, volunteer_id: int) -> Handoff | None:
    return session.scalars(
        select(Handoff).where(Handoff.volunteer_id == volunteer_id, Handoff.status == Status.open)
    ).first()


def open_for(session: Session, volunteer_id: int, reason: str, summary: str | None = None,
             urgent: bool = False, topic: str | None = None, *, settings: Settings) -> Handoff:
    """The volunteer's open handoff, opened now if there was none (with its alert planned
    after `settings.handoff_alert_minutes`)."""
    handoff = open_handoff(session, volunteer_id)
    if handoff is None:
        handoff = Handoff(volunteer_id=volunteer_id, reason=reason, summary=summary, status=Status.open,
                          urgent=urgent, topic=topic, opened_at=utcnow())
        session.add(handoff)
        session.flush()
        _plan_alerts(session, handoff, settings)
    elif urgent and not handoff.urgent:
        handoff.urgent, handoff.topic = True, topic
    return handoff


# --- triggers -------------------------------------------------------------------------------

def _fold(text: str) -> str:
    """Lower case, and Latin letters without their accents (other scripts keep their marks,
    which carry vowels in Devanagari and Bengali)."""
    out = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@lru_cache
def _patterns() -> list[tuple[str, str, regex.Pattern]]:
    found = []
    for language, topics in yaml.safe_load(LEXICON.read_text(encoding="utf-8")).items():
        for topic, terms in topics.items():
            for term in terms:
                folded = regex.escape(_fold(term))
                latin = all(ch.isascii() for ch in _fold(term))
                found.append((language, topic, regex.compile(rf"(?<!\w){folded}" if latin else folded)))
    return found


def sensitive_topic(text: str) -> str | None:
    """The sensitive topic this text mentions, in any campaign language, or None."""
    folded = _fold(text or "")
    for _language, topic, pattern in _patterns():
        if pattern.search(folded):
            return topic
    return None


def route_to_organizer(session: Session, message: Message, identity: Identity, volunteer: Volunteer,
                       settings: Settings) -> bool:
    """True when a person, not the bot, answers this message: a handoff is open, the message
    raises a sensitive topic (which opens an urgent one), or it asks for a person in its own
    words ("could somebody phone me?", campaign/person_requests.py); the supporter is told. Before
    the model and whatever the form was waiting for, so nobody is booked over their request."""
    if open_handoff(session, volunteer.id) is not None:
        return True
    if message.payload.get("button"):
        return False  # a tap is an answer the bot offered (its "talk to a person" goes through the model)
    topic = sensitive_topic(message.body)
    if topic is not None:
        open_for(session, volunteer.id, Reason.sensitive, summary=message.body, urgent=True, topic=topic, settings=settings)
    elif person_requests.asks_for_person(message.body):
        open_for(session, volunteer.id, Reason.asked, summary=message.body, settings=settings)
    else:
        return False
    outbox.enqueue(session, identity, key="handoff_opened", source_message_id=message.id, seq=TRIGGER_SEQ)
    return True


def _reply_keys(session: Session, message_id: int) -> set[str]:
    return set(session.scalars(select(OutboxRow.key).where(OutboxRow.source_message_id == message_id)))


def not_understood_twice(session: Session, message_id: int) -> str | None:
    """The conversation id when the bot's answers to this message and to the one before it
    were both "not understood" (the caller checks that no form was asking)."""
    message = session.get(Message, message_id)
    if message is None or NOT_UNDERSTOOD_KEY not in _reply_keys(session, message_id):
        return None
    previous = session.scalars(
        select(Message).where(Message.volunteer_id == message.volunteer_id, Message.direction == "in",
                              Message.id < message.id, Message.status == "processed")
        .order_by(Message.id.desc()).limit(1)
    ).first()
    if previous is None or NOT_UNDERSTOOD_KEY not in _reply_keys(session, previous.id):
        return None
    if open_handoff(session, message.volunteer_id) is not None:
        return None
    return session.get(Volunteer, message.volunteer_id).conversation_id


def open_not_understood(session: Session, message_id: int, settings: Settings) -> Handoff:
    message = session.get(Message, message_id)
    handoff = open_for(session, message.volunteer_id, Reason.not_understood, summary=message.body, settings=settings)
    identity = session.get(Identity, message.identity_id)
    outbox.enqueue(session, identity, key="handoff_opened", source_message_id=message.id, seq=TRIGGER_SEQ)
    return handoff


# --- the alert when nobody answers ----------------------------------------------------------

def _alert_contacts(session: Session, volunteer: Volunteer) -> list[int]:
    """The team lead's contact, or else every organizer who gave one."""
    team = session.get(Team, volunteer.team_id) if volunteer.team_id else None
    if team is not None and team.lead_volunteer_id:
        return [team.lead_volunteer_id]
    return list(session.scalars(select(Account.contact_volunteer_id).where(
        Account.role.in_(("organizer", "admin")), Account.disabled.is_(False), Account.contact_volunteer_id.is_not(None))))


def _plan_alerts(session: Session, handoff: Handoff, settings: Settings) -> None:
    volunteer = session.get(Volunteer, handoff.volunteer_id)
    minutes = settings.handoff_alert_minutes
    # the reason in the recipient's words, not the stored code
    reason = {"type": "message", "key": f"handoff_reason_{handoff.reason}", "params": {}}
    params = {"name": volunteer.name or "?", "reason": reason, "minutes": f"{minutes:g}",
              "url": f"{settings.base_url}/dashboard/conversations/{handoff.id}", "handoff": handoff.id}
    for contact_id in _alert_contacts(session, volunteer):
        identity = reach(session, contact_id)
        if identity is None:
            continue
        row_id = outbox.enqueue(session, identity, key=ALERT_KEY, params=params, kind="notification",
                                send_after=handoff.opened_at + timedelta(minutes=minutes))
        handoff.alert_outbox_id = handoff.alert_outbox_id or row_id


def cancel_alerts(session: Session, handoff: Handoff, why: str) -> int:
    rows = [row for row in session.scalars(select(OutboxRow).where(OutboxRow.key == ALERT_KEY, OutboxRow.status == "pending"))
            if (row.params or {}).get("handoff") == handoff.id]
    if not rows:
        return 0
    return outbox.move_where(session, OutboxStatus.CANCELLED, OutboxRow.id.in_([r.id for r in rows]),
                             reason=why, only_from={OutboxStatus.PENDING, OutboxStatus.WAITING})


# --- organizers ------------------------------------------------------------------------------

def assign(session: Session, handoff: Handoff, account_id: int | None) -> None:
    if handoff.status != Status.open:
        raise HandoffError("this handoff is closed")
    handoff.assigned_account_id = account_id


# How long after a person's last message an organizer may still write to them freely is a fact
# of their channel (WhatsApp: 24 hours), declared once, on its adapter (bot/channels, Traits.window).
# campaign/ cannot import bot/, so bot/channels gives this module the way to ask when it loads;
# asked before that, it is an error, never a guess.
_human_window: Callable[[str], timedelta | None] | None = None


def know_reply_windows(human_window: Callable[[str], timedelta | None]) -> None:
    """Given by bot/channels: channel name -> an organizer's window there (None: any time)."""
    global _human_window
    _human_window = human_window


def human_window(channel: str) -> timedelta | None:
    if _human_window is None:
        raise RuntimeError("the channels' reply windows are unknown: import bot.channels, whose adapters declare them")
    return _human_window(channel)


class _Windowed:
    """The channels where an organizer's free text has a window, asked of the adapters."""

    def __contains__(self, channel: object) -> bool:
        return isinstance(channel, str) and human_window(channel) is not None


WINDOWED = WHATSAPP_CHANNELS = _Windowed()  # (the second name is the one api/dashboard/routes.py reads)


def window_open(identity: Identity) -> bool:
    """Whether an organizer may write freely to this identity now (always, on a channel without a window)."""
    window = human_window(identity.channel)
    if window is None:
        return True
    return identity.last_inbound_at is not None and utcnow() - identity.last_inbound_at < window


def reply_block(session: Session, volunteer: Volunteer, identity: Identity | None) -> tuple[str | None, bool]:
    """(why nothing at all can be sent, whether only a template can) for the reply box."""
    if volunteer.opted_out:
        return (f"{volunteer.name or 'This person'} opted out ({volunteer.consent_source or 'unknown'}): nothing can be sent "
                "until they text START."), False
    if identity is None:
        return "No channel reaches this person.", False
    if not window_open(identity):
        return None, True
    return None, False


def reply(session: Session, handoff: Handoff, account: Account, text: str | None = None, key: str | None = None) -> int:
    """Queue the organizer's reply on the supporter's own channel; the first one answers the
    handoff and cancels its alert."""
    volunteer = session.get(Volunteer, handoff.volunteer_id)
    identity = reach(session, volunteer.id)
    blocked, template_only = reply_block(session, volunteer, identity)
    if blocked:
        raise HandoffError(blocked)
    if text is not None and not text.strip():
        raise HandoffError("the reply is empty")
    if template_only and key is None:
        hours = human_window(identity.channel) / timedelta(hours=1)
        raise HandoffError(f"outside the {hours:g}-hour window of {identity.channel} only a template (a saved reply) can be sent")
    row_id = outbox.enqueue(session, identity, key=key, text=None if key else text.strip(), kind="reply",
                            params={"organizer": account.email, "name": volunteer.name or ""})
    if handoff.answered_at is None:
        handoff.answered_at = utcnow()
        cancel_alerts(session, handoff, "answered")
    if handoff.assigned_account_id is None:
        handoff.assigned_account_id = account.id
    return row_id


def close(session: Session, handoff: Handoff, account: Account | None = None, outcome: str = "resolved",
          resume_mode: str = ResumeMode.quiet) -> None:
    """Mark it closed: from now on the supporter's messages go to the bot again. Call it after
    Rasa took the resume (bot.handoff_sync), so no message reaches a paused conversation."""
    handoff.status = Status.closed
    handoff.closed_at = utcnow()
    handoff.outcome = outcome
    handoff.resume_mode = ResumeMode(resume_mode).value
    handoff.closed_by_account_id = account.id if account else None
    cancel_alerts(session, handoff, "closed")


def resume_events(volunteer: Volunteer, resume_mode: str) -> list[dict]:
    """What Rasa is told on close: resume, and with "continue" the slots as the organizer left
    them and the form again, so the sign-up goes on where it stopped."""
    events: list[dict] = [{"event": "resume"}]
    if ResumeMode(resume_mode) == ResumeMode.continue_onboarding:
        slots = {"volunteer_name": volunteer.name, "neighborhood": volunteer.neighborhood_name or volunteer.zip_code,
                 "availability": list(volunteer.availability or []) or None}
        events += [{"event": "slot", "name": name, "value": value} for name, value in slots.items() if value]
        if not all(slots.values()):
            events.append({"event": "followup", "name": ONBOARDING_FORM})
    return events
