"""Step 4, at the moment a message is stored: STOP, START and HELP never wait for the model.

A STOP behind a "hi" that waits for Rasa (slow, or down) is honoured at once: the opt-out is
recorded, pending messages to the person are cancelled, and the earlier messages still waiting
are marked processed without replies. The webhook commits all of it before it acknowledges.
"""
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import compliance
from campaign import consent
from campaign.models import Identity, Message, Volunteer, utcnow
from campaign.outbox import COMPLIANCE_KIND, enqueue

# Why a message got no reply (Message.error), for the organizer's transcript.
IGNORED_OPTED_OUT = "ignored_opted_out"  # we never write to someone who opted out, until START
SUPERSEDED_BY_STOP = "superseded_by_stop"  # it waited for the model when the person said STOP


def _finish(message: Message, error: str | None = None) -> None:
    message.status = "processed"
    message.processed_at = utcnow()
    message.error = error


def apply(session: Session, message: Message, identity: Identity, volunteer: Volunteer) -> bool:
    """Handle STOP/START/HELP; True when the message needs nothing more."""
    kind = compliance.classify(message.body, opted_out=volunteer.opted_out)
    if kind == "stop":
        if consent.opt_out(session, volunteer, message.channel, message.body):
            enqueue(session, identity, key="opt_out_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
        session.execute(
            update(Message)
            .where(Message.volunteer_id == volunteer.id, Message.direction == "in", Message.status == "received",
                   Message.id < message.id)
            .values(status="processed", processed_at=utcnow(), error=SUPERSEDED_BY_STOP)
        )
    elif kind == "start":
        if consent.opt_in(session, volunteer, message.channel, message.body):
            enqueue(session, identity, key="opt_in_confirmed", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif kind == "help":
        enqueue(session, identity, key="help", kind=COMPLIANCE_KIND, source_message_id=message.id)
    elif volunteer.opted_out:
        _finish(message, IGNORED_OPTED_OUT)
        return True
    else:
        return False
    _finish(message)
    return True
