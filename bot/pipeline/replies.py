"""Step 8: what Rasa said, as outbox rows (message keys and parameters, rendered at send time)."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.models import Identity, OutboxRow
from campaign.outbox import CONVERSATION_KINDS, enqueue


# Carriers expect the first message to a new SMS contact to name the sender and say how to stop.
FIRST_SMS_NOTICE = "first_sms_notice"
# Said once to a contact: a later "hi" (or a message the model reads as one) from someone who was
# welcomed goes on from where they are, without the greeting of a first contact again.
ONCE = ("welcome",)


def _said_before(session: Session, identity: Identity, key: str | None = None) -> bool:
    """A reply (with this key, or any) was queued to this contact before; planned reminders and
    nudges do not count."""
    said = select(OutboxRow.id).where(OutboxRow.identity_id == identity.id, OutboxRow.kind.in_(CONVERSATION_KINDS))
    if key is not None:
        said = said.where(OutboxRow.key == key)
    return session.scalar(said.limit(1)) is not None


def to_outbox(session: Session, identity: Identity, source_message_id: int, replies: list[dict]) -> int:
    """Queue each reply once: (source message, position) is unique in the outbox."""
    queued = 0
    notice = identity.channel == "sms" and not _said_before(session, identity)
    for seq, reply in enumerate(replies):
        custom = reply.get("custom") or {}
        key = custom.get("key")
        if key is None and not reply.get("text"):
            continue
        if key in ONCE and _said_before(session, identity, key):
            continue
        kind = "compliance" if custom.get("kind") == "compliance" else "reply"
        subject = custom.get("subject") or {}
        params = dict(custom.get("params") or {})
        if notice and seq == 0:
            params[FIRST_SMS_NOTICE] = True
        row = enqueue(
            session, identity, key=key, kind=kind, params=params, choices=custom.get("choices") or [],
            text=None if key else reply.get("text"), source_message_id=source_message_id, seq=seq,
            subject_kind=subject.get("kind"), subject_id=subject.get("id"),
        )
        queued += row is not None
    return queued
