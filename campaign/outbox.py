"""The outbox: every outbound message is a row first; the worker sends due rows at most once.

Statuses and their moves live in campaign/outbox_status.py, a table that imports nothing of ours;
this module queues rows, finds the due ones, claims them and records what happened to each: every
move that needs the model or a session is here (move_where, claim_many, at the end).
"""
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from campaign import consent, outbox_parts
from campaign.db import insert_ignore, is_postgres
from campaign.models import Identity, OutboxRow, Volunteer, utcnow
from campaign.models.outbox import CONSENT_KINDS, OutboxKind
from campaign.outbox_status import MOVES, OPEN, IllegalMove, OutboxStatus, SkipReason, move, sources

# Kinds that are sent even to someone who has opted out: the one confirmation of the opt-out.
COMPLIANCE_KIND = OutboxKind.COMPLIANCE
# Rows that are part of a conversation, and so must arrive in the order they were written.
CONVERSATION_KINDS = (OutboxKind.REPLY, OutboxKind.COMPLIANCE)


def enqueue(session: Session, identity: Identity, key: str | None = None, params: dict | None = None,
            choices: list | None = None, text: str | None = None, kind: str = OutboxKind.REPLY,
            send_after: datetime | None = None, source_message_id: int | None = None, seq: int = 0,
            subject_kind: str | None = None, subject_id: int | None = None,
            deadline: datetime | None = None, booking_id: int | None = None, shift_id: int | None = None,
            status: OutboxStatus = OutboxStatus.PENDING, reason: str | None = None) -> int | None:
    """Queue a message to a contact. A reply keyed by (source message, seq) is queued at most once;
    returns the row id, or None when that reply was already queued."""
    values = dict(
        kind=kind, volunteer_id=identity.volunteer_id, identity_id=identity.id, channel=identity.channel,
        recipient=identity.external_id, key=key, params=params or {}, choices=choices or [], text=text,
        send_after=send_after or utcnow(), status=str(status), reason=reason, attempts=0,
        source_message_id=source_message_id, seq=seq, deadline=deadline, booking_id=booking_id, shift_id=shift_id,
        created_at=utcnow(), subject_kind=subject_kind, subject_id=subject_id,
    )
    if source_message_id is None:
        row = OutboxRow(**values)
        session.add(row)
        session.flush()
        return row.id
    return insert_ignore(session, OutboxRow, values, ["source_message_id", "seq"])


def due_ids(session: Session, limit: int = 20, now: datetime | None = None) -> list[int]:
    """Due pending rows, oldest first. Nothing is claimed here (claim_many below does,
    just before the provider calls), so two workers can share one database.

    The replies of a conversation keep their order: one waits while an earlier reply to the same
    person is not sent yet (being sent, or deferred by a rate limit or a retry)."""
    return list(session.scalars(_due("ids"), _due_params(limit, now)))


def due_rows(session: Session, limit: int = 20, now: datetime | None = None, lock: bool = False) -> list[OutboxRow]:
    """The due rows themselves. With `lock`, on PostgreSQL, they stay locked until the
    transaction ends and rows another transaction holds are passed over (SKIP LOCKED): two
    workers take different rows."""
    locked = lock and is_postgres(session.get_bind())
    return list(session.scalars(_due("rows locked" if locked else "rows"), _due_params(limit, now)))


# The worker asks several times a second: each form of the query is built once, with its moment
# and its size as parameters (building it, its aliased comparison above all, cost more than
# running it).
_DUE: dict[str, object] = {}


def _due(form: str):
    if form not in _DUE:
        earlier = aliased(OutboxRow)
        waits_for_earlier = exists().where(
            earlier.identity_id == OutboxRow.identity_id, earlier.id < OutboxRow.id,
            earlier.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)), earlier.kind.in_(CONVERSATION_KINDS),
        )
        query = (
            select(OutboxRow.id if form == "ids" else OutboxRow)
            .where(OutboxRow.status == OutboxStatus.PENDING, OutboxRow.send_after <= bindparam("due_now"))
            .where(~(OutboxRow.kind.in_(CONVERSATION_KINDS) & waits_for_earlier))
            .order_by(OutboxRow.send_after, OutboxRow.id)
            .limit(bindparam("due_limit"))
        )
        _DUE[form] = query.with_for_update(skip_locked=True, of=OutboxRow) if form == "rows locked" else query
    return _DUE[form]


def _due_params(limit: int, now: datetime | None) -> dict:
    return {"due_now": now or utcnow(), "due_limit": limit}


def blocked_reason(session: Session, row: OutboxRow) -> SkipReason | None:
    """Why this row must not be sent at all, checked at send time (consent can change after
    queueing): the row is then skipped with this reason."""
    volunteer = session.get(Volunteer, row.volunteer_id) if row.volunteer_id is not None else None
    if volunteer is not None and volunteer.opted_out and row.kind != COMPLIANCE_KIND:
        return SkipReason.OPTED_OUT
    if volunteer is not None and consent.held(volunteer, row.kind):
        return SkipReason.STOP_ASKED  # we asked "do you want to stop?": nothing automated until they answer
    if row.kind in CONSENT_KINDS and (volunteer is None or volunteer.first_contact_at is None):
        return SkipReason.NO_CONSENT_RECORD
    if row.identity_id is not None:
        identity = session.get(Identity, row.identity_id)
        if identity is not None and identity.unreachable:
            return SkipReason.UNREACHABLE
    return None


def mark_sent(row: OutboxRow) -> None:
    """Its provider ids are in provider_messages (campaign/outbox_parts.py)."""
    move(row, OutboxStatus.SENT)
    row.sent_at = utcnow()
    row.last_error = None


def mark_sent_many(session: Session, fences: dict[int, int]) -> None:
    """mark_sent for rows being sent, in one UPDATE; each only under the claim that sent it
    (row id -> its fencing token, see still_claimed)."""
    if fences:
        move_where(session, OutboxStatus.SENT, or_(*(and_(OutboxRow.id == row_id, OutboxRow.attempts == fence)
                                                      for row_id, fence in fences.items())),
                   only_from={OutboxStatus.SENDING}, sent_at=utcnow(), last_error=None)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    return timedelta(seconds=retry_after if retry_after is not None else min(2 ** attempts, 300))


def mark_failed(row: OutboxRow, error: str, retry: bool, max_attempts: int, retry_after: float | None = None) -> None:
    """Transient failures go back to pending, after the provider's Retry-After or an exponential
    backoff; others stop here."""
    row.last_error = error[:2000]
    if retry and row.attempts < max_attempts:
        move(row, OutboxStatus.PENDING)
        row.send_after = utcnow() + backoff(row.attempts, retry_after)
    else:
        move(row, OutboxStatus.FAILED, "gave up" if retry else "refused")


def cancel(session: Session, row: OutboxRow, reason: str) -> bool:
    """An organizer cancels one row; False when it can no longer be cancelled (sent, or in flight)."""
    if row.status not in OPEN:
        return False
    move(row, OutboxStatus.CANCELLED, reason)
    return True


def cancel_for(session: Session, reason: str, booking_id: int | None = None, shift_id: int | None = None) -> int:
    """Cancel the open rows planned for a booking or a shift (its cause went away or changed)."""
    conditions = []
    if booking_id is not None:
        conditions.append(OutboxRow.booking_id == booking_id)
    if shift_id is not None:
        conditions.append(OutboxRow.shift_id == shift_id)
    if not conditions:
        return 0
    return move_where(session, OutboxStatus.CANCELLED, or_(*conditions), reason=reason, only_from=set(OPEN))


def reclaim_stale(session: Session, idempotent_channels: list[str], older_than: datetime) -> tuple[int, int]:
    """Rows left `sending` longer than the visibility timeout (their worker died, or stalled past
    every provider timeout). Sent again where that cannot reach the person twice: on an
    idempotent channel, or when none of the row's provider calls was in flight (the worker died
    between the parts of a long SMS: only the parts not yet accepted go). Otherwise `unknown`,
    never sent twice. Returns (re-queued, unknown)."""
    stale = (OutboxRow.status == OutboxStatus.SENDING, OutboxRow.claimed_at.is_(None) | (OutboxRow.claimed_at < older_than))
    again = move_where(session, OutboxStatus.PENDING, *stale, OutboxRow.channel.in_(idempotent_channels),
                       only_from={OutboxStatus.SENDING}, reason="re-queued after an interrupted send")
    again += move_where(session, OutboxStatus.PENDING, *stale, ~outbox_parts.in_flight(),
                        only_from={OutboxStatus.SENDING}, reason="re-queued: interrupted between provider calls")
    unknown = move_where(session, OutboxStatus.UNKNOWN, *stale, only_from={OutboxStatus.SENDING},
                         reason="interrupted while sending; not sent again")
    return again, unknown


# --- moves made by a query (the table they obey: campaign/outbox_status.py) ------------------

def move_where(session: Session, to: OutboxStatus, *conditions, reason: str | None = None,
               only_from: set[OutboxStatus] | None = None, by_hand: bool = False, **values) -> int:
    """Move every row matching the conditions that may move to `to` (and is in `only_from`),
    in one UPDATE; returns how many moved. The status condition is part of the UPDATE, so a row
    that another worker moved meanwhile is left alone. Asking only for moves that are not in
    the table (only_from holding no legal source) is refused."""
    allowed_from = [s for s in sources(to, by_hand) if only_from is None or s in only_from]
    if only_from is not None and not allowed_from:
        raise IllegalMove(f"outbox rows: {', '.join(sorted(only_from))} -> {to} is not allowed")
    statement = (update(OutboxRow).where(OutboxRow.status.in_(allowed_from), *conditions)
                 .values(status=str(to), reason=reason[:200] if reason else None, **values)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).rowcount


def claim(session: Session, row_id: int, now) -> bool:
    """claim_many for one row: True if this caller got it."""
    return row_id in claim_many(session, [row_id], now)


def claim_many(session: Session, row_ids: list[int], now) -> dict[int, tuple[dict[int, str], int, int]]:
    """pending -> sending for these rows, each only if it is still pending: with two workers
    (even on SQLite, where there is no SKIP LOCKED) exactly one of them gets each row.

    The claim also records each row's first provider call as starting (campaign/outbox_parts.py),
    in the same write: a claimed row may have a call in flight until that call is settled.
    Returns, per claimed row, the parts accepted in earlier attempts, the part starting, and the
    claim's fencing token (its attempt number: see still_claimed)."""
    assert OutboxStatus.SENDING in MOVES[OutboxStatus.PENDING]
    if not row_ids:
        return {}
    statement = (update(OutboxRow).where(OutboxRow.id.in_(row_ids), OutboxRow.status == str(OutboxStatus.PENDING))
                 .values(status=str(OutboxStatus.SENDING), attempts=OutboxRow.attempts + 1, claimed_at=now, reason=None)
                 .returning(OutboxRow.id, OutboxRow.channel, OutboxRow.attempts)
                 .execution_options(synchronize_session=False))
    claimed = session.execute(statement).all()
    # a first attempt has no part accepted or started before: nothing to look up for it
    parts = outbox_parts.start_first_many(session, {row_id: channel for row_id, channel, _ in claimed},
                                          tried={row_id for row_id, _, attempts in claimed if attempts > 1})
    return {row_id: (*parts[row_id], attempts) for row_id, _, attempts in claimed}


class Fenced(Exception):
    """This worker's claim on the row is gone: the row was reclaimed after the worker stalled past
    its lease, and another worker has it (or had it). Nothing more is sent or written for it."""


def still_claimed(session: Session, row_id: int, fence: int, now) -> bool:
    """The fencing check, and a renewed lease: true, and claimed_at moved to now, only while the
    row is still `sending` under this claim (each claim adds one to attempts, so a reclaimed row
    has moved on). A stalled worker that wakes up cannot start another part or complete the row."""
    statement = (update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.status == str(OutboxStatus.SENDING),
                                         OutboxRow.attempts == fence)
                 .values(claimed_at=now).execution_options(synchronize_session=False))
    return session.execute(statement).rowcount == 1
