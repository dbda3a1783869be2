"""Inbound messages: stored once by provider id, then processed in order per contact.

A contact (identity) is held by one processor at a time through a lease on its row, so several
api processes can share the work and a crashed one lets go when its lease runs out.
"""
from datetime import timedelta

from sqlalchemy import bindparam, func, or_, select, update
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


# The lease statements run several times for every message: built once, run on the session's
# connection (Core, not the ORM: no object of the session holds these columns), about a tenth of
# the ORM's cost each.
_CLAIM = (
    update(Identity)
    .where(Identity.id == bindparam("contact"))
    .where(or_(Identity.lease_until.is_(None), Identity.lease_until < bindparam("now"),
               Identity.lease_owner == bindparam("owner")))
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"), lease_version=Identity.lease_version + 1)
)
_RENEW = (
    update(Identity)
    .where(Identity.id == bindparam("contact"), Identity.lease_owner == bindparam("owner"),
           Identity.lease_until > bindparam("now"))
    .values(lease_until=bindparam("until"))
)
_RELEASE = (
    update(Identity).where(Identity.id == bindparam("contact"), Identity.lease_owner == bindparam("owner"))
    .values(lease_owner=None, lease_until=None)
)
_NEXT = (
    select(Message.id)
    .where(Message.identity_id == bindparam("contact"), Message.direction == "in", Message.status == "received")
    .order_by(Message.id)
    .limit(1)
)


def _lease(session: Session, statement, identity_id: int, owner: str, seconds: float) -> bool:
    now = utcnow()
    params = {"contact": identity_id, "owner": owner, "now": now, "until": now + timedelta(seconds=seconds)}
    return session.connection().execute(statement, params).rowcount == 1


def claim_contact(session: Session, identity_id: int, owner: str, seconds: float) -> bool:
    """Take the lease on a contact; False when someone else holds it."""
    return _lease(session, _CLAIM, identity_id, owner, seconds)


def release_contact(session: Session, identity_id: int, owner: str) -> None:
    session.connection().execute(_RELEASE, {"contact": identity_id, "owner": owner})


def next_message_id(session: Session, identity_id: int) -> int | None:
    """The contact's oldest message still waiting to be processed."""
    return session.connection().execute(_NEXT, {"contact": identity_id}).scalar()


def being_processed(message: Message) -> bool:
    """Handed to the model and not finished: the only time the action server may act for it."""
    return message.direction == "in" and message.status == "received" and message.attempts > 0


def still_holds(session: Session, identity_id: int, owner: str, seconds: float) -> bool:
    """Renew our lease if we still hold it; False when it ran out and another process may have
    the contact. The UPDATE also locks the row until commit, so nobody takes it in between."""
    return _lease(session, _RENEW, identity_id, owner, seconds)
