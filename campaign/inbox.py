"""Inbound messages: stored once by provider id, then processed in order per contact.

A contact (identity) is held by one processor at a time through a lease on its row, so several
api processes can share the work and a crashed one lets go when its lease runs out.
"""
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from campaign.db import insert_ignore
from campaign.models import Identity, Message, utcnow


def store_inbound(session: Session, identity: Identity, channel: str, provider_id: str, body: str,
                  payload: dict | None = None) -> tuple[int, bool]:
    """Persist an inbound message; returns (message id, created). A repeat is a no-op."""
    new_id = insert_ignore(
        session,
        Message,
        dict(direction="in", channel=channel, provider_id=provider_id, identity_id=identity.id,
             volunteer_id=identity.volunteer_id, body=body, payload=payload or {}, status="received",
             attempts=0, created_at=utcnow()),
        ["channel", "direction", "provider_id"],
    )
    if new_id is not None:
        identity.last_inbound_at = utcnow()
        return new_id, True
    existing = session.scalars(
        select(Message.id).where(Message.channel == channel, Message.direction == "in", Message.provider_id == provider_id)
    ).one()
    return existing, False


def contacts_waiting(session: Session, limit: int = 100) -> list[int]:
    """Identities with unprocessed messages, oldest message first, that nobody holds."""
    now = utcnow()
    query = (
        select(Message.identity_id)
        .join(Identity, Identity.id == Message.identity_id)
        .where(Message.direction == "in", Message.status == "received")
        .where(or_(Identity.lease_until.is_(None), Identity.lease_until < now))
        .group_by(Message.identity_id)
        .order_by(func.min(Message.id))
        .limit(limit)
    )
    return list(session.scalars(query))


def claim_contact(session: Session, identity_id: int, owner: str, seconds: float) -> bool:
    """Take the lease on a contact; False when someone else holds it."""
    now = utcnow()
    result = session.execute(
        update(Identity)
        .where(Identity.id == identity_id)
        .where(or_(Identity.lease_until.is_(None), Identity.lease_until < now, Identity.lease_owner == owner))
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds), lease_version=Identity.lease_version + 1)
    )
    return result.rowcount == 1


def release_contact(session: Session, identity_id: int, owner: str) -> None:
    session.execute(
        update(Identity).where(Identity.id == identity_id, Identity.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def next_message(session: Session, identity_id: int) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.identity_id == identity_id, Message.direction == "in", Message.status == "received")
        .order_by(Message.id)
        .limit(1)
    ).first()


def being_processed(message: Message) -> bool:
    """Handed to the model and not finished: the only time the action server may act for it."""
    return message.direction == "in" and message.status == "received" and message.attempts > 0


def still_holds(session: Session, identity_id: int, owner: str, seconds: float) -> bool:
    """Renew our lease if we still hold it; False when it ran out and another process may have
    the contact. The UPDATE also locks the row until commit, so nobody takes it in between."""
    now = utcnow()
    result = session.execute(
        update(Identity)
        .where(Identity.id == identity_id, Identity.lease_owner == owner, Identity.lease_until > now)
        .values(lease_until=now + timedelta(seconds=seconds))
    )
    return result.rowcount == 1
