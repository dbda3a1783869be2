"""Every status an outbox row can have, and every move between them, in one table.

A move not in the table is refused (IllegalMove), so no code path can, say, send a row again
that may already have reached the person. `unknown` means: the provider call started and its
outcome cannot be known. Such a row is never sent again automatically (at most once).

Only the table and the move of one loaded row live here, importing nothing of ours, so that the
model (campaign/models/outbox.py) can name its statuses. The moves made by a query (move_where,
the claims) are in campaign/outbox.py.
"""
from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"      # waits for its send_after
    SENDING = "sending"      # claimed, its provider call is about to start or running
    SENT = "sent"
    FAILED = "failed"        # the provider refused it for good, or retries ran out
    CANCELLED = "cancelled"  # by an organizer, or because its cause went away (booking cancelled)
    UNKNOWN = "unknown"      # the provider call started; whether it arrived cannot be known
    SKIPPED = "skipped"      # a send-time rule said no (opted out, quiet hours, booked too late)
    EXPIRED = "expired"      # its deadline passed before it could go; never sent late
    WAITING = "waiting"      # held while a rule holds (an open handoff); back to pending after
    DIGESTED = "digested"    # folded into a team lead's digest, which was sent instead


class SkipReason(StrEnum):
    """Why a send-time rule said no to a row (its `reason` when skipped)."""

    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    # an automated message (reminder, follow-up, nudge, broadcast) to someone with no record of
    # how they first reached us: carriers expect that consent before anything automated
    NO_CONSENT_RECORD = "no_consent_record"
    # an automated message while we wait for the answer to "do you want to stop getting messages?"
    # (a message that may have withdrawn consent, issue #24)
    STOP_ASKED = "stop_asked"


S = OutboxStatus

# Where a row may go from each status. Terminal statuses have no way out.
MOVES: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    S.PENDING: frozenset({S.SENDING, S.PENDING, S.CANCELLED, S.SKIPPED, S.EXPIRED, S.WAITING, S.DIGESTED, S.FAILED}),
    # back to pending: a transient failure to retry, or a stale claim on a channel where sending
    # twice cannot reach the person twice
    S.SENDING: frozenset({S.SENT, S.PENDING, S.FAILED, S.UNKNOWN}),
    S.WAITING: frozenset({S.PENDING, S.CANCELLED, S.SKIPPED, S.EXPIRED}),
    S.SENT: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.UNKNOWN: frozenset(),
    S.SKIPPED: frozenset(),
    S.EXPIRED: frozenset(),
    S.DIGESTED: frozenset(),
}
# Moves only a person makes, from the dashboard, with their name recorded: a failed or `unknown`
# row sent again (an unknown one after a warning that it may arrive twice) or put away. No
# worker code asks for these, so `unknown` still means "never sent again automatically".
BY_HAND: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    S.FAILED: frozenset({S.PENDING, S.CANCELLED}),
    S.UNKNOWN: frozenset({S.PENDING, S.CANCELLED}),
}
# A row is written as pending, or already skipped (planned, but a rule ruled it out at once:
# kept so that an organizer sees why a reminder will not come).
INITIAL = frozenset({S.PENDING, S.SKIPPED})
# Statuses a row can still leave towards the person.
OPEN = frozenset({S.PENDING, S.WAITING})
TERMINAL = frozenset(status for status, to in MOVES.items() if not to)


class IllegalMove(ValueError):
    pass


def allowed(source: str, to: str, by_hand: bool = False) -> bool:
    source, to = OutboxStatus(source), OutboxStatus(to)
    return to in MOVES[source] or (by_hand and to in BY_HAND.get(source, ()))


def sources(to: OutboxStatus, by_hand: bool = False) -> list[str]:
    """The statuses from which a row may move to `to` (by a person, too, with by_hand)."""
    return [str(status) for status in OutboxStatus if allowed(status, to, by_hand)]


def move(row, to: OutboxStatus, reason: str | None = None, by_hand: bool = False) -> None:
    """Move one loaded row; refuses a move that is not in the table."""
    if not allowed(row.status, to, by_hand):
        raise IllegalMove(f"outbox row {row.id}: {row.status} -> {to} is not allowed")
    row.status = str(to)
    row.reason = reason[:200] if reason else None
