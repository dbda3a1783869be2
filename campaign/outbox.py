"""The outbox: every outbound message is a row first; the worker sends due rows exactly once."""
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from campaign.db import insert_ignore, is_postgres
from campaign.models import Identity, OutboxRow, Volunteer, utcnow

# Kinds that are sent even to someone who has opted out: the one confirmation of the opt-out.
COMPLIANCE_KIND = "compliance"
# Rows that are part of a conversation, and so must arrive in the order they were written.
CONVERSATION_KINDS = ("reply", COMPLIANCE_KIND)


def enqueue(session: Session, identity: Identity, key: str | None = None, params: dict | None = None,
            choices: list | None = None, text: str | None = None, kind: str = "reply",
            send_after: datetime | None = None, source_message_id: int | None = None, seq: int = 0,
            subject_kind: str | None = None, subject_id: int | None = None) -> int | None:
    """Queue a message to a contact. A reply keyed by (source message, seq) is queued at most once;
    returns the row id, or None when that reply was already queued."""
    values = dict(
        kind=kind, volunteer_id=identity.volunteer_id, identity_id=identity.id, channel=identity.channel,
        recipient=identity.external_id, key=key, params=params or {}, choices=choices or [], text=text,
        send_after=send_after or utcnow(), status="pending", attempts=0, source_message_id=source_message_id,
        seq=seq, created_at=utcnow(), subject_kind=subject_kind, subject_id=subject_id,
    )
    if source_message_id is None:
        row = OutboxRow(**values)
        session.add(row)
        session.flush()
        return row.id
    return insert_ignore(session, OutboxRow, values, ["source_message_id", "seq"])


def claim_due(session: Session, limit: int = 20) -> list[OutboxRow]:
    """Due pending rows, marked as being sent. On PostgreSQL several workers can claim at once
    (FOR UPDATE SKIP LOCKED); on SQLite run one worker.

    The replies of a conversation keep their order: one waits while an earlier reply to the same
    person is not sent yet (being sent, or deferred by a rate limit or a retry)."""
    earlier = aliased(OutboxRow)
    waits_for_earlier = exists().where(
        earlier.identity_id == OutboxRow.identity_id, earlier.id < OutboxRow.id,
        earlier.status.in_(("pending", "sending")), earlier.kind.in_(CONVERSATION_KINDS),
    )
    query = (
        select(OutboxRow)
        .where(OutboxRow.status == "pending", OutboxRow.send_after <= utcnow())
        .where(~(OutboxRow.kind.in_(CONVERSATION_KINDS) & waits_for_earlier))
        .order_by(OutboxRow.send_after, OutboxRow.id)
        .limit(limit)
    )
    if is_postgres(session.get_bind()):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status = "sending"
        row.attempts += 1
    session.flush()
    return rows


def blocked_reason(session: Session, row: OutboxRow) -> str | None:
    """Why this row must not be sent now, checked at send time (consent can change after queueing)."""
    if row.volunteer_id is not None and row.kind != COMPLIANCE_KIND:
        volunteer = session.get(Volunteer, row.volunteer_id)
        if volunteer is not None and volunteer.opted_out:
            return "opted_out"
    if row.identity_id is not None:
        identity = session.get(Identity, row.identity_id)
        if identity is not None and identity.unreachable:
            return "unreachable"
    return None


def mark_sent(row: OutboxRow, provider_id: str | None) -> None:
    row.status = "sent"
    row.provider_id = provider_id
    row.sent_at = utcnow()
    row.last_error = None


def mark_failed(row: OutboxRow, error: str, retry: bool, max_attempts: int, retry_after: float | None = None) -> None:
    """Transient failures go back to pending, after the provider's Retry-After or an exponential
    backoff; others stop here."""
    row.last_error = error[:2000]
    if retry and row.attempts < max_attempts:
        row.status = "pending"
        row.send_after = utcnow() + timedelta(seconds=retry_after if retry_after is not None else min(2 ** row.attempts, 300))
    else:
        row.status = "failed"


def cancel_pending(session: Session, volunteer_id: int, reason: str) -> int:
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.status == "pending", OutboxRow.kind != COMPLIANCE_KIND)
        .values(status="cancelled", last_error=reason)
    )
    return result.rowcount
