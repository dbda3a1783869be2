"""Step 8: what Rasa said, as outbox rows (message keys and parameters, rendered at send time)."""
from sqlalchemy.orm import Session

from campaign.models import Identity
from campaign.outbox import enqueue


def to_outbox(session: Session, identity: Identity, source_message_id: int, replies: list[dict]) -> int:
    """Queue each reply once: (source message, position) is unique in the outbox."""
    queued = 0
    for seq, reply in enumerate(replies):
        custom = reply.get("custom") or {}
        key = custom.get("key")
        if key is None and not reply.get("text"):
            continue
        kind = "compliance" if custom.get("kind") == "compliance" else "reply"
        subject = custom.get("subject") or {}
        row = enqueue(
            session, identity, key=key, kind=kind, params=custom.get("params") or {}, choices=custom.get("choices") or [],
            text=None if key else reply.get("text"), source_message_id=source_message_id, seq=seq,
            subject_kind=subject.get("kind"), subject_id=subject.get("id"),
        )
        queued += row is not None
    return queued
