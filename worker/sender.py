"""Send due outbox rows, each at most once, each on its own.

A pass takes a batch of due rows through three steps: prepare, in one short transaction
(send-time rules, rendering, the rate limit, and each row's claim pending -> sending); the
provider calls, with no transaction open, several recipients at a time; and record, in one
short transaction (sent, the transcript, the open offer). Whatever fails touches only its own
row: a missing catalog key, rate-limit storage that is down, or a database that refuses the
record after the provider accepted (the batch is then done again one row at a time).
"""
import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.channels import Channel, registry
from bot.channels.base import Rendered, SendError
from bot.render import render
from campaign import consent, leads, offers, outbox, reminders, shifts
from campaign.db import insert_ignore, is_postgres, lock_skip, session_scope
from campaign.outbox_status import OutboxStatus, claim, move, move_where
from campaign.schedule import cadence_from
from campaign.volunteers import identify
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from campaign.models.outbox import AUTOMATED_KINDS, OutboxKind
from onramp.settings import Settings

log = logging.getLogger(__name__)


# Sends per second per channel, kept below what each provider allows for one sender.
RATE_LIMITS = {name: parse_limit(rate) for name, rate in {
    "sms": "10/second", "whatsapp": "20/second", "telegram": "25/second", "whatsapp_cloud": "50/second",
    "webchat": "1000/second"}.items()}
DEFAULT_RATE = parse_limit("10/second")
# A pass looks at this many due rows: each is claimed (pending -> sending) in one transaction
# before their calls start, so a crash leaves at most one pass's rows in flight.
BATCH = 50
# On PostgreSQL a worker looks at this many batches' worth of due rows and locks the first
# batch of them that no other worker holds.
CANDIDATE_BATCHES = 4
# Provider calls at a time, each to a different recipient; the adapters' calls block a thread
# each, so the worker's thread pool has room for them and for its database steps.
IN_FLIGHT = 16
THREADS = IN_FLIGHT + 4
# Stale claims and held rows are looked at once a pass, at most this often.
HOUSEKEEPING_SECONDS = 1.0
RECORD_TRIES = 3
BATCHED = "outbox_batch"  # session.info flag: this transaction records a whole batch


def record_outbound(session: Session, row: OutboxRow, message: Rendered, provider_id: str) -> None:
    """The transcript (and the choices a number reply refers to) keeps what was sent."""
    values = dict(
        direction="out", channel=row.channel, provider_id=provider_id or f"outbox-{row.id}", identity_id=row.identity_id,
        volunteer_id=row.volunteer_id, body=message.text, language=message.language, status="sent", attempts=1,
        payload={"choices": [{"title": c.title, "payload": c.payload} for c in message.choices], "outbox_id": row.id},
        created_at=utcnow())
    if session.info.get(BATCHED):
        # written with the batch's one flush; a repeat fails the batch, which is then recorded
        # row by row, where a repeat is ignored
        session.add(Message(**values))
    else:
        insert_ignore(session, Message, values, ["channel", "direction", "provider_id"])
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


class _RowError(Exception):
    """Preparing one row failed in a way that touches only that row."""

    def __init__(self, cause: Exception):
        super().__init__(repr(cause))
        self.cause = cause


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
        self._warm: set[str] = set()  # channels that have made a call

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
        """One pass over the due rows; returns how many were handled (sent, skipped, deferred...).

        The pass's rows are prepared and claimed in one transaction, sent with no transaction
        open (several recipients at a time), and their outcomes recorded in one transaction.
        Whatever goes wrong with the batch as a whole is done again one row at a time, so a
        failing row still touches only itself."""
        handled, jobs = await self._take()
        await self._deliver(jobs)
        return handled

    def _due(self) -> list[int]:
        """Candidates for the next batch: on PostgreSQL several batches' worth, so that a worker
        finds rows that another worker has not locked (SKIP LOCKED)."""
        with session_scope() as session:
            postgres = is_postgres(session.get_bind())
            if postgres:
                # the query's cost estimate (a correlated NOT EXISTS on a column with no index) is
                # high enough for PostgreSQL to JIT-compile it on every pass: ~90 ms, for a query
                # that runs in 3
                session.execute(text("SET LOCAL jit = off"))
            return outbox.due_ids(session, BATCH * (CANDIDATE_BATCHES if postgres else 1))

    async def _take(self) -> tuple[int, list[Job]]:
        """The next batch: due rows prepared and claimed, ready to send; and how many were handled."""
        candidates = await asyncio.to_thread(self._due)
        if not candidates:
            return 0, []
        try:
            taken, jobs, errors = await asyncio.to_thread(self._prepare_batch, candidates)
        except Exception:
            log.exception("outbox: preparing a batch together failed; one row at a time")
            for row_id in candidates[:BATCH]:
                await self._send_one(row_id)
            return len(candidates[:BATCH]), []
        for row_id, error in errors:
            log.error("outbox row %s could not be prepared: %r", row_id, error)
            await asyncio.to_thread(self._defer_after_error, row_id, error)
        return len(taken), jobs

    async def _deliver(self, jobs: list[Job]) -> None:
        accepted = await self._send_jobs(jobs)
        await asyncio.to_thread(self._record_batch, accepted)

    async def _send_one(self, row_id: int) -> None:
        try:
            job = await asyncio.to_thread(self._prepare, row_id)
        except Exception as error:  # this row only: the others of the pass go on
            log.exception("outbox row %s could not be prepared", row_id)
            cause = error.cause if isinstance(error, _RowError) else error
            await asyncio.to_thread(self._defer_after_error, row_id, cause)
            return
        if job is None:
            return
        provider_id = await self._call(job)
        if provider_id is not None:
            await asyncio.to_thread(self._record, row_id, job, provider_id)

    async def _call(self, job: Job) -> str | None:
        """The provider call for one claimed row; the provider's id, or None when it did not take
        the message (the row's outcome is then recorded on its own)."""
        try:
            return await job.channel.send(None, job.row, job.message)
        except SendError as error:
            await asyncio.to_thread(self._failed, job.row.id, error)
        except Exception as error:
            # the call started and failed in a way we do not know: it may have reached the person
            log.exception("outbox row %s: provider call failed", job.row.id)
            await asyncio.to_thread(self._outcome_unknown, job.row.id, job.channel, error)
        return None

    async def _send_jobs(self, jobs: list[Job]) -> list[tuple[Job, str]]:
        """Up to IN_FLIGHT calls at a time, one recipient's rows one after the other, in order."""
        lanes: dict[tuple[str, str], list[Job]] = {}
        for job in jobs:
            lanes.setdefault((job.row.channel, job.row.recipient), []).append(job)
        accepted: dict[int, str] = {}
        # a channel's first call goes alone: adapters build their HTTP client on first use, and
        # building it from several threads at once is not safe
        for lane in lanes.values():
            if lane and lane[0].channel.name not in self._warm:
                job = lane.pop(0)
                provider_id = await self._call(job)
                self._warm.add(job.channel.name)
                if provider_id is not None:
                    accepted[job.row.id] = provider_id
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def send(lane: list[Job]) -> None:
            for job in lane:
                async with gate:
                    provider_id = await self._call(job)
                if provider_id is not None:
                    accepted[job.row.id] = provider_id

        await asyncio.gather(*(send(lane) for lane in lanes.values() if lane))
        return [(job, accepted[job.row.id]) for job in jobs if job.row.id in accepted]

    def _prepare(self, row_id: int) -> Job | None:
        with session_scope() as session:
            row = lock_skip(session, OutboxRow, row_id)
            job = self._decide(session, row, utcnow())
            if job is not None:
                session.expunge(row)
                row.status = OutboxStatus.SENDING
        return job

    def _prepare_batch(self, candidates: list[int]) -> tuple[list[int], list[Job], list[tuple[int, Exception]]]:
        """_prepare for up to BATCH of the candidates in one transaction: the rows taken, the
        jobs to send, and the rows whose preparation failed on their own (rate-limit storage
        down), to be deferred. Any other error raises, and the whole batch is rolled back."""
        now = utcnow()
        jobs, errors = [], []
        with session_scope() as session:
            query = select(OutboxRow).where(OutboxRow.id.in_(candidates)).order_by(OutboxRow.send_after, OutboxRow.id)
            if is_postgres(session.get_bind()):  # the first BATCH that no other worker holds
                query = query.limit(BATCH).with_for_update(skip_locked=True)
            else:
                query = query.where(OutboxRow.id.in_(candidates[:BATCH]))
            rows = {row.id: row for row in session.scalars(query)}
            ids = list(rows)
            # loaded once for the whole batch; the per-row checks find them in the session
            people = [*session.scalars(select(Volunteer).where(Volunteer.id.in_(
                          {r.volunteer_id for r in rows.values() if r.volunteer_id}))),
                      *session.scalars(select(Identity).where(Identity.id.in_(
                          {r.identity_id for r in rows.values() if r.identity_id})))]
            for row_id in ids:
                row = rows[row_id]
                if row.kind == OutboxKind.NOTIFICATION:
                    session.refresh(row)  # an earlier row of this batch may have folded it into its digest
                try:
                    # an automated row is claimed as it is decided, since the daily cap of the
                    # next one counts it; the others are claimed together below
                    job = self._decide(session, row, now, claim_now=row.kind in AUTOMATED_KINDS)
                except _RowError as error:
                    session.expire(rows[row_id])  # nothing of it is written; deferred after the commit
                    errors.append((row_id, error.cause))
                    continue
                if job is not None:
                    jobs.append(job)
            session.flush()
            together = [job.row.id for job in jobs if job.row.kind not in AUTOMATED_KINDS]
            claimed = move_where(session, OutboxStatus.SENDING, OutboxRow.id.in_(together),
                                 only_from={OutboxStatus.PENDING}, attempts=OutboxRow.attempts + 1,
                                 claimed_at=now) if together else 0
            if claimed != len(together):  # something else moved one meanwhile: only row by row can tell which
                raise RuntimeError(f"claimed {claimed} of {len(together)} rows")
            for job in jobs:
                session.expunge(job.row)
                job.row.status = OutboxStatus.SENDING
            del people
        return ids, jobs, errors

    def _decide(self, session: Session, row: OutboxRow | None, now, claim_now: bool = True) -> Job | None:
        """The send-time rules, the rate limit, rendering and the claim (pending -> sending) for
        one row, in the caller's transaction; the job to send, or None. Without claim_now the
        caller claims the row, in the same transaction, before its call."""
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
        try:
            within = limit is None or self.limiter.hit(limit, row.channel)
        except Exception as error:  # its storage is down: this row waits, the others go on
            raise _RowError(error) from error
        if not within:
            row.send_after = now + timedelta(seconds=0.5)  # over the provider's rate: a moment later
            return None
        leads.fold_into_digest(session, row)
        try:
            message = render(session, row, self.settings)
        except LookupError as error:  # a missing catalog key: sending again cannot help
            row.last_error = f"cannot render: {error!r}"[:2000]
            move(row, OutboxStatus.FAILED, "render_failed")
            return None
        if claim_now:
            session.flush()
            if not claim(session, row.id, now):
                return None
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
                    row = session.get(OutboxRow, row_id)
                    outbox.mark_sent(row, provider_id)
                    if attempt == 0:  # the full record first; later tries keep only the status
                        record_outbound(session, row, job.message, provider_id)
                return
            except Exception:
                log.exception("outbox row %s was sent but could not be recorded (try %s)", row_id, attempt + 1)

    def _record_batch(self, accepted: list[tuple[Job, str]]) -> None:
        """_record for every row the provider accepted, in one transaction; if that fails, each
        row again on its own."""
        if not accepted:
            return
        try:
            with session_scope() as session, session.no_autoflush:
                session.info[BATCHED] = True
                rows = {row.id: row for row in session.scalars(
                    select(OutboxRow).where(OutboxRow.id.in_([job.row.id for job, _ in accepted])))}
                for job, provider_id in accepted:
                    row = rows[job.row.id]
                    outbox.mark_sent(row, provider_id)
                    record_outbound(session, row, job.message, provider_id)
                session.flush()
        except Exception:
            log.exception("outbox: recording %s sent rows together failed; one row at a time", len(accepted))
            for job, provider_id in accepted:
                self._record(job.row.id, job, provider_id)

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
        """Pass after pass; while one batch is on the wire the next is prepared (so at most two
        batches are in flight), and the worker polls only when nothing was due."""
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(THREADS, thread_name_prefix="outbox"))
        last_housekeeping = 0.0
        delivering: asyncio.Task | None = None
        while not self._stopping:
            try:
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                    await asyncio.to_thread(self.housekeeping)
                    last_housekeeping = time.monotonic()
                handled, jobs = await self._take()
                await self._settle(delivering)
                delivering = asyncio.create_task(self._deliver(jobs)) if jobs else None
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if not handled:
                await self._settle(delivering)
                delivering = None
                await asyncio.sleep(self.settings.outbox_poll_seconds)
        await self._settle(delivering)

    @staticmethod
    async def _settle(delivering: asyncio.Task | None) -> None:
        if delivering is None:
            return
        try:
            await delivering
        except Exception:
            log.exception("outbox: delivering a batch failed")

    def stop(self) -> None:
        self._stopping = True
