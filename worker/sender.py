"""Send due outbox rows, each at most once, each on its own.

A row goes through prepare (send-time rules, rendering, the rate limit, and the claim pending ->
sending), the provider call with no transaction open, and record (sent, the transcript, the open
offer). Rows are sent one after the other, and the record of one row shares its transaction (and
its commit) with the prepare of the next: at any moment at most one row is `sending`, the one
whose call is in flight. Whatever fails touches only its own row: a missing catalog key,
rate-limit storage that is down, or a database that refuses the record after the provider
accepted (the two steps are then done again, each on its own).
"""
import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.channels import Channel, registry
from bot.channels.base import Rendered, SendError
from bot.render import render
from campaign import consent, leads, offers, outbox, reminders, shifts
from campaign.db import insert_ignore, is_postgres, lock_skip, session_scope
from campaign.outbox_status import OutboxStatus, claim, move
from campaign.schedule import cadence_from
from campaign.volunteers import identify
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from onramp.settings import Settings

log = logging.getLogger(__name__)


# Sends per second per channel, kept below what each provider allows for one sender.
RATE_LIMITS = {name: parse_limit(rate) for name, rate in {
    "sms": "10/second", "whatsapp": "20/second", "telegram": "25/second", "whatsapp_cloud": "50/second",
    "webchat": "1000/second"}.items()}
DEFAULT_RATE = parse_limit("10/second")
# A pass looks at this many due rows; each is claimed on its own just before it is sent.
BATCH = 50
# Stale claims and held rows are looked at once a pass, at most this often.
HOUSEKEEPING_SECONDS = 1.0
RECORD_TRIES = 3


def record_outbound(session: Session, row: OutboxRow, message: Rendered, provider_id: str) -> None:
    """The transcript (and the choices a number reply refers to) keeps what was sent."""
    insert_ignore(session, Message, dict(
        direction="out", channel=row.channel, provider_id=provider_id or f"outbox-{row.id}", identity_id=row.identity_id,
        volunteer_id=row.volunteer_id, body=message.text, language=message.language, status="sent", attempts=1,
        payload={"choices": [{"title": c.title, "payload": c.payload} for c in message.choices], "outbox_id": row.id},
        created_at=utcnow()), ["channel", "direction", "provider_id"])
    if message.choices and row.identity_id is not None:
        offers.record(session, identity_id=row.identity_id, volunteer_id=row.volunteer_id, source=row.kind,
                      choices=[{"payload": c.payload, "title": c.title} for c in message.choices],
                      subject_kind=row.subject_kind, subject_id=row.subject_id, outbox_id=row.id)


def consented_on_sms(session: Session, volunteer_id: int | None) -> bool:
    """Whether this person reached us by SMS (their first contact, or a text from their number)."""
    volunteer = session.get(Volunteer, volunteer_id) if volunteer_id else None
    if volunteer is None:
        return False
    if volunteer.first_contact_channel == "sms":
        return True
    return any(i.channel == "sms" and i.last_inbound_at is not None for i in volunteer.identities)


@dataclass
class Job:
    """A claimed row and what to send, read before the provider call."""

    row: OutboxRow  # detached: its attributes were loaded before the transaction closed
    message: Rendered
    channel: Channel


class OutboxWorker:
    def __init__(self, settings: Settings, channels: dict[str, Channel] | None = None,
                 rate_limits: dict | None = None):
        self.settings = settings
        # per channel; None lifts a channel's limit (the outbox benchmark does)
        self.rate_limits = RATE_LIMITS if rate_limits is None else rate_limits
        self.cadence = cadence_from(settings)
        self.channels = channels or registry(settings)
        # shared by every worker through Redis in production; in memory for one worker
        storage = storage_from_string(settings.redis_url if settings.rate_limit_storage == "redis" else "memory://")
        self.limiter = MovingWindowRateLimiter(storage)
        self._stopping = False

    @property
    def idempotent(self) -> list[str]:
        return [name for name, channel in self.channels.items() if channel.idempotent]

    def recover(self, older_than_seconds: float | None = None) -> int:
        """Rows left `sending` for longer than the visibility timeout: re-queued where the channel
        makes that harmless, otherwise `unknown` (never sent twice). Returns how many were re-queued."""
        seconds = self.settings.outbox_visibility_timeout_seconds if older_than_seconds is None else older_than_seconds
        with session_scope() as session:
            again, unknown = outbox.reclaim_stale(session, self.idempotent, utcnow() - timedelta(seconds=seconds))
        if again or unknown:
            log.info("stale sends: %s re-queued, %s marked unknown", again, unknown)
        return again

    def housekeeping(self) -> None:
        """Stale claims, and held rows whose hold has ended (run_forever: at most once a second)."""
        self.recover()
        with session_scope() as session:
            reminders.release_waiting(session, utcnow())
            shifts.release_opted_out(session, self.cadence)

    async def send_due(self) -> int:
        """One pass over the due rows; returns how many were handled (sent, skipped, deferred...)."""
        ids = await asyncio.to_thread(self._due)
        sent: tuple[int, Job, str] | None = None  # accepted by the provider, not recorded yet
        for row_id in ids:
            job = await asyncio.to_thread(self._record_then_prepare, sent, row_id)
            sent = None
            if job is None:
                continue
            provider_id = await self._call(job)
            if provider_id is not None:
                sent = (row_id, job, provider_id)
        if sent is not None:
            await asyncio.to_thread(self._record, *sent)
        return len(ids)

    def _due(self) -> list[int]:
        with session_scope() as session:
            if is_postgres(session.get_bind()):
                # the query's cost estimate (a correlated NOT EXISTS on a column with no index) is
                # high enough for PostgreSQL to JIT-compile it on every pass: ~90 ms, for a query
                # that runs in 3
                session.execute(text("SET LOCAL jit = off"))
            return outbox.due_ids(session, BATCH)

    async def _send_one(self, row_id: int) -> None:
        job = await asyncio.to_thread(self._prepare_alone, row_id)
        if job is None:
            return
        provider_id = await self._call(job)
        if provider_id is not None:
            await asyncio.to_thread(self._record, row_id, job, provider_id)

    async def _call(self, job: Job) -> str | None:
        """The provider call for a claimed row: the provider's id, or None when it did not take
        the message (its outcome is then recorded on its own)."""
        try:
            return await job.channel.send(None, job.row, job.message)
        except SendError as error:
            await asyncio.to_thread(self._failed, job.row.id, error)
        except Exception as error:
            # the call started and failed in a way we do not know: it may have reached the person
            log.exception("outbox row %s: provider call failed", job.row.id)
            await asyncio.to_thread(self._outcome_unknown, job.row.id, job.channel, error)
        return None

    def _record_then_prepare(self, sent: tuple[int, Job, str] | None, row_id: int) -> Job | None:
        """The record of the row just sent and the prepare of the next, in one transaction. If it
        fails, each again on its own: the record with its retries, the prepare (when it had
        started) deferring its row."""
        if sent is None:
            return self._prepare_alone(row_id)
        preparing = False
        try:
            with session_scope() as session:
                self._record_in(session, *sent, full=True)
                preparing = True
                return self._prepare_in(session, row_id)
        except Exception as error:
            self._record(*sent)
            if not preparing:
                return self._prepare_alone(row_id)
            log.exception("outbox row %s could not be prepared", row_id)
            self._defer_after_error(row_id, error)
            return None

    def _prepare_alone(self, row_id: int) -> Job | None:
        try:
            return self._prepare(row_id)
        except Exception as error:  # this row only: the others of the pass go on
            log.exception("outbox row %s could not be prepared", row_id)
            self._defer_after_error(row_id, error)
            return None

    def _prepare(self, row_id: int) -> Job | None:
        with session_scope() as session:
            return self._prepare_in(session, row_id)

    def _prepare_in(self, session: Session, row_id: int) -> Job | None:
        now = utcnow()
        row = lock_skip(session, OutboxRow, row_id)
        if row is None or row.status != OutboxStatus.PENDING or row.send_after > now:
            return None  # another worker handled it meanwhile
        blocked = outbox.blocked_reason(session, row)
        if blocked:
            move(row, OutboxStatus.SKIPPED, blocked)
            return None
        if not reminders.ready(session, row, self.cadence, now):
            return None  # skipped, expired, waiting or deferred, with its reason
        channel = self.channels.get(row.channel)
        if channel is None:
            row.last_error = f"the {row.channel} channel is not configured"
            move(row, OutboxStatus.FAILED, "channel_not_configured")
            return None
        limit = self.rate_limits.get(row.channel, DEFAULT_RATE)
        if limit is not None and not self.limiter.hit(limit, row.channel):
            row.send_after = now + timedelta(seconds=0.5)  # over the provider's rate: a moment later
            return None
        leads.fold_into_digest(session, row)
        try:
            message = render(session, row, self.settings)
        except LookupError as error:  # a missing catalog key: sending again cannot help
            row.last_error = f"cannot render: {error!r}"[:2000]
            move(row, OutboxStatus.FAILED, "render_failed")
            return None
        session.flush()
        if not claim(session, row.id, now):
            return None
        session.expunge(row)
        row.status = OutboxStatus.SENDING
        return Job(row=row, message=message, channel=channel)

    def _defer_after_error(self, row_id: int, error: Exception) -> None:
        """Preparing failed (rate-limit storage down, a database error): try this row again later."""
        try:
            with session_scope() as session:
                row = session.get(OutboxRow, row_id)
                if row is not None and row.status == OutboxStatus.PENDING:
                    row.attempts += 1
                    outbox.mark_failed(row, f"before sending: {error!r}", True, self.settings.outbox_max_attempts)
        except Exception:
            log.exception("outbox row %s: could not record the error either", row_id)

    def _failed(self, row_id: int, error: SendError) -> None:
        with session_scope() as session:
            row = session.get(OutboxRow, row_id)
            if error.opted_out and row.volunteer_id is not None:
                consent.opt_out(session, session.get(Volunteer, row.volunteer_id), row.channel, f"provider: {error}")
            if error.unreachable and row.identity_id is not None:
                session.get(Identity, row.identity_id).unreachable = True
            if error.fallback and self.reroute(session, row, error.fallback, str(error)):
                return
            outbox.mark_failed(row, str(error), error.retry, self.settings.outbox_max_attempts, error.retry_after)

    def _outcome_unknown(self, row_id: int, channel: Channel, error: Exception) -> None:
        with session_scope() as session:
            row = session.get(OutboxRow, row_id)
            if channel.idempotent:
                outbox.mark_failed(row, repr(error), True, self.settings.outbox_max_attempts)
            else:
                row.last_error = repr(error)[:2000]
                move(row, OutboxStatus.UNKNOWN, "provider call failed midway")

    def _record(self, row_id: int, job: Job, provider_id: str) -> None:
        """The provider accepted: record it. If the database refuses, retry; only this row is
        left `sending` (then `unknown` after the visibility timeout), never sent twice."""
        for attempt in range(RECORD_TRIES):
            try:
                with session_scope() as session:
                    self._record_in(session, row_id, job, provider_id, full=attempt == 0)
                return
            except Exception:
                log.exception("outbox row %s was sent but could not be recorded (try %s)", row_id, attempt + 1)

    def _record_in(self, session: Session, row_id: int, job: Job, provider_id: str, full: bool) -> None:
        """Sent, in the caller's transaction; with the transcript unless `full` is False (a retry
        that keeps only the status)."""
        row = session.get(OutboxRow, row_id)
        outbox.mark_sent(row, provider_id)
        if full:
            record_outbound(session, row, job.message, provider_id)

    def reroute(self, session: Session, row: OutboxRow, channel: str, why: str) -> bool:
        """Send the row on another channel of the same volunteer (WhatsApp → SMS to their phone)."""
        identity = session.get(Identity, row.identity_id) if row.identity_id else None
        if channel not in self.channels or identity is None or not identity.phone:
            return False
        if channel == "sms" and not consented_on_sms(session, row.volunteer_id):
            return False  # SMS only to someone who reached us by SMS; the row fails, with the reason
        target = identify(session, channel, identity.phone, phone=identity.phone)
        row.channel, row.recipient, row.identity_id = channel, target.external_id, target.id
        move(row, OutboxStatus.PENDING, f"rerouted to {channel}")
        row.send_after, row.last_error = utcnow(), f"rerouted to {channel}: {why}"[:2000]
        return True

    async def run_forever(self) -> None:
        last_housekeeping = 0.0
        while not self._stopping:
            try:
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                    await asyncio.to_thread(self.housekeeping)
                    last_housekeeping = time.monotonic()
                handled = await self.send_due()
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if not handled:
                await asyncio.sleep(self.settings.outbox_poll_seconds)

    def stop(self) -> None:
        self._stopping = True
