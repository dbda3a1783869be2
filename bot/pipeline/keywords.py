"""Step 4, at the moment a message is stored: STOP, START, HELP and opt-outs in natural words
never wait for the model.

A STOP behind a "hi" that waits for Rasa (slow, or down) is honoured at once: the opt-out is
recorded, pending messages to the person are cancelled, and the earlier messages still waiting
are marked processed without replies. The webhook commits all of it before it acknowledges.
"please don't text me anymore" is a STOP too (bot/revocation.py); "maybe stop texting me?" is
asked about once, and nothing automated goes to the person until they answer.
"""
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import compliance, language, revocation
from campaign import consent
from campaign.models import Identity, Message, Volunteer, utcnow
from campaign.outbox import COMPLIANCE_KIND, enqueue
from onramp.settings import get_settings

# Why a message got no reply (Message.error), for the organizer's transcript.
IGNORED_OPTED_OUT = "ignored_opted_out"  # we never write to someone who opted out, until START
SUPERSEDED_BY_STOP = "superseded_by_stop"  # it waited for the model when the person said STOP

# What a message asks for, in this order: the first that applies wins (#24).
#   1. keyword     STOP / START / HELP as the whole message (bot/compliance.py)
#   2. revocation  consent withdrawn in other words: "please don't text me anymore"
#                  (bot/revocation.py): certain -> opted out as by STOP; uncertain -> asked once
#                  ("confirm_stop"), automated messages held until the answer
#   3. erasure     "delete my data": the privacy issue adds its step here, after revocation
#   4. person      a request for a person: the model's ask_human opens a handoff (process.py)
#   5. the rest    reminder replies, the form, the model (process.py)
# Steps 1 and 2 run here, when the message is stored; 3 to 5 after, in bot/pipeline/process.py.
PRECEDENCE = ("keyword", "revocation", "erasure", "person", "the rest")


def _finish(message: Message, error: str | None = None) -> None:
    message.status = "processed"
    message.processed_at = utcnow()
    message.error = error


def apply(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool:
    """Steps 1 and 2 of PRECEDENCE; True when the message needs nothing more."""
    for step in (_keyword, _revocation):
        handled = step(session, message, identity, volunteer)
        if handled is not None:
            return handled
    return False


def _keyword(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool | None:
    """STOP, START, HELP; anything from someone who opted out is ignored until START."""
    kind = compliance.classify(message.body, opted_out=volunteer.opted_out)
    if kind == "stop":
        _stop(session, message, identity, volunteer)
    elif kind == "start":
        if consent.opt_in(session, volunteer, message.channel, message.body):
            enqueue(session, identity, key="opt_in_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif kind == "help":
        enqueue(session, identity, key="help", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif volunteer.opted_out:
        _finish(message, IGNORED_OPTED_OUT)
        return True
    else:
        return None
    _finish(message)
    return True


def _revocation(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool | None:
    """Consent withdrawn in other words. While "do you want to stop?" is pending, STOP (above), a
    clear opt-out or a plain "yes" stops; anything else lifts the hold and goes on as usual."""
    if message.payload.get("button"):  # a tap is an answer to something else, never an opt-out
        consent.lift_hold(volunteer)
        return None
    reading = revocation.read(message.body)
    if consent.stop_asked(volunteer) and (reading.verdict == revocation.CERTAIN or compliance.affirmative(message.body)):
        _stop(session, message, identity, volunteer, reading.language)
    elif consent.stop_asked(volunteer):
        consent.lift_hold(volunteer)
        return None
    elif reading.verdict == revocation.CERTAIN:
        _stop(session, message, identity, volunteer, reading.language)
    elif reading.verdict == revocation.UNCERTAIN:
        _speaks(volunteer, reading.language)
        consent.ask_stop(volunteer)
        enqueue(session, identity, key="confirm_stop", kind=COMPLIANCE_KIND, source_message_id=message.id)
    else:
        return None
    _finish(message)
    return True


def _stop(session: Session, message: Message, identity: Identity, volunteer: Volunteer,
          said_in: str | None = None) -> None:
    """Opt out with the message as the source; earlier messages still waiting for the model are
    superseded (they will never be answered now)."""
    _speaks(volunteer, said_in)
    if consent.opt_out(session, volunteer, message.channel, message.body):
        enqueue(session, identity, key="opt_out_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
    session.execute(
        update(Message)
        .where(Message.volunteer_id == volunteer.id, Message.direction == "in", Message.status == "received",
               Message.id < message.id)
        .values(status="processed", processed_at=utcnow(), error=SUPERSEDED_BY_STOP)
    )


def _speaks(volunteer: Volunteer, said_in: str | None) -> None:
    """Someone whose first message opts out hears the confirmation in the language they wrote in
    (the words that made the verdict tell it): a guess, which a later message can overturn."""
    if volunteer.language is None and said_in in get_settings().languages:
        volunteer.language, volunteer.language_source = said_in, language.LANGUAGE_GUESSED
