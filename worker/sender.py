"""Send due outbox rows, each at most once.

A pass takes a batch of due rows through three steps: prepare (send-time rules, rendering, the
rate limit, and the claim pending -> sending), in one transaction for the batch; the provider
calls, several at once, with no transaction open; and settle (sent, the transcript, the open
offer; or failed, or unknown), in one transaction for the calls that ended together. A long
SMS sent in several calls adds two short transactions between its calls (the part accepted,
the next call starting: campaign/outbox_parts.py). One commit per batch instead of three per
row is what lets one worker send hundreds a second (docs/benchmarks.md).

Whatever fails touches only its own row: when the batch's transaction fails (a database
error, a bug one row triggers), the batch is done again row by row, each in its own
transaction. A missing catalog key fails its row alone; a database that refuses the record
after the provider accepted leaves that row `sending` (then `unknown`), never sent twice.
Rate-limit storage that is down is no row's fault: sending waits until it is back
(worker/send_rates.py).
"""
import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.channels import Channel, registry
from bot.channels.base import Rendered, SendError
from bot.compose import compose
from campaign import consent, leads, offers, outbox, outbox_parts, reminders, shifts
from campaign.db import insert_ignore_many, is_postgres, lock_skip, session_scope, write_lock
from campaign.outbox import claim_many
from campaign.outbox_status import OutboxStatus, move
from campaign.schedule import cadence_from
from campaign.volunteers import identify
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from onramp.settings import Settings
from worker import send_rates
from worker.part_log import Parts
from worker.send_rates import LimiterDown

log = logging.getLogger(__name__)


# (A pass looks at OUTBOX_CONCURRENT_CALLS due rows and claims those the send-time rules let go;
# their calls start at once, one person's one after the other. So a claimed row is a call in
# flight, and a worker killed at any moment leaves at most that many rows `unknown`.)

# Calls that end this soon after another are recorded in the same transaction.
GATHER_SECONDS = 0.05
# Stale claims and held rows are looked at once a pass, at most this often.
HOUSEKEEPING_SECONDS = 1.0
RECORD_TRIES = 3


def record_outbound(session: Session, sent: list[tuple[OutboxRow, Rendered, str | None]]) -> None:
    """The transcript (and the choices a number reply refers to) keeps what was sent: one
    statement for the transcript rows of all of them."""
    insert_ignore_many(session, Message, [dict(
        direction="out", channel=row.channel, provider_id=provider_id or f"outbox-{row.id}", identity_id=row.identity_id,
        volunteer_id=row.volunteer_id, body=message.text, language=message.language, status="sent", attempts=1,
        payload={"choices": [{"title": c.title, "payload": c.payload} for c in message.choices], "outbox_id": row.id},
        created_at=utcnow()) for row, message, provider_id in sent], ["channel", "direction", "provider_id"])
    for row, message, _ in sent:
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
    sent: dict[int, str]  # parts the provider accepted in earlier attempts: not sent again
    first: int  # the part whose call the claim recorded as starting
    fence: int  # the claim's fencing token (campaign/outbox.py still_claimed)


@dataclass
class Outcome:
    """How a row's provider calls ended, to be recorded: accepted (no error), refused (a
    SendError), or anything else (it may have reached the person)."""

    job: Job
    parts: Parts
    error: Exception | None = None

    @property
    def row_id(self) -> int:
        return self.job.row.id


def _no_jit(session: Session) -> None:
    if is_postgres(session.get_bind()):
        # the due query's correlated NOT EXISTS once made PostgreSQL JIT-compile it on every
        # pass (~90 ms, for a query that runs in 3); the indexes of migration 0009 lower the
        # estimate, and this keeps it from coming back with a big backlog
        session.execute(text("SET LOCAL jit = off"))


def _load_people(session: Session, rows: list[OutboxRow]) -> list:
    """The batch's volunteers and identities in two queries, so that the rules' session.get
    finds them loaded instead of asking once per row."""
    volunteers = {row.volunteer_id for row in rows if row.volunteer_id is not None}
    identities = {row.identity_id for row in rows if row.identity_id is not None}
    loaded: list = []
    if volunteers:
        loaded += session.scalars(select(Volunteer).where(Volunteer.id.in_(volunteers))).all()
    if identities:
        loaded += session.scalars(select(Identity).where(Identity.id.in_(identities))).all()
    return loaded


class OutboxWorker:
    def __init__(self, settings: Settings, channels: dict[str, Channel] | None = None,
                 rate_limits: dict | None = None):
        self.settings = settings
        self.cadence = cadence_from(settings)
        self.channels = channels or registry(settings)
        # per channel: its adapter's rate, or OUTBOX_SEND_RATES's (None: no limit); an undeclared
        # channel stops the worker here. `rate_limits` replaces them all (a benchmark lifts them).
        self.rate_limits = send_rates.send_rates(settings, self.channels) if rate_limits is None else rate_limits
        self.limiter = send_rates.limiter(settings)
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
        """Once a pass: stale claims, and held rows whose hold has ended."""
        self.recover()
        with session_scope() as session:
            reminders.release_waiting(session, utcnow())
            shifts.release_opted_out(session, self.cadence)

    async def send_due(self) -> int:
        """One pass over a batch of due rows; returns how many were handled (sent, skipped,
        deferred...)."""
        try:
            ids, jobs = await asyncio.to_thread(self._prepare_due)
        except LimiterDown as error:
            log.warning("rate limit storage unreachable, sending waits: %r", error.__cause__)
            return 0  # the loop waits a moment, then tries again
        except Exception:
            log.exception("preparing the batch together failed; preparing each row on its own")
            return await self._send_each()
        await self._call_all(jobs)
        return len(ids)

    async def _send_each(self) -> int:
        """The same pass, row by row, each row in its own transactions: what one row breaks
        stays with that row."""
        ids = await asyncio.to_thread(self._due)
        for row_id in ids:
            try:
                await self._send_one(row_id)
            except LimiterDown as error:
                log.warning("rate limit storage unreachable, sending waits: %r", error.__cause__)
                return 0
        return len(ids)

    def _due(self) -> list[int]:
        with session_scope() as session:
            _no_jit(session)
            return outbox.due_ids(session, self.settings.outbox_concurrent_calls)

    def _prepare_due(self) -> tuple[list[int], list[Job]]:
        """The due rows, each through the send-time rules, and those to send claimed: one
        transaction. On PostgreSQL the rows are locked (SKIP LOCKED), so two workers take
        different batches; SQLite has one writer, whose lock is taken first."""
        now = utcnow()
        if not self._due():  # a read first: an idle pass takes no lock from the api's writers
            return [], []
        with session_scope() as session:
            _no_jit(session)
            write_lock(session, OutboxRow)
            rows = outbox.due_rows(session, self.settings.outbox_concurrent_calls, lock=True)
            loaded = _load_people(session, rows)  # noqa: F841 (kept alive: session.get finds them)
            decided, folded = [], set()
            for row in rows:
                if row.id in folded:
                    continue  # went in a lead's digest earlier in this batch
                ready = self._decide(session, row, now, going=[r for r, _, _ in decided], folded=folded)
                if ready is not None:
                    decided.append((row, *ready))
            session.flush()
            claimed = claim_many(session, [row.id for row, _, _ in decided], now)
            jobs = []
            for row, message, channel in decided:
                if row.id in claimed:
                    session.expunge(row)
                    row.status = OutboxStatus.SENDING
                    jobs.append(Job(row, message, channel, *claimed[row.id]))
            return [row.id for row in rows], jobs

    async def _send_one(self, row_id: int) -> None:
        try:
            job = await asyncio.to_thread(self._prepare, row_id)
        except LimiterDown:
            raise
        except Exception as error:  # this row only: the others of the pass go on
            log.exception("outbox row %s could not be prepared", row_id)
            await asyncio.to_thread(self._defer_after_error, row_id, error)
            return
        if job is not None:
            await self._call_all([job])

    def _prepare(self, row_id: int) -> Job | None:
        now = utcnow()
        with session_scope() as session:
            row = lock_skip(session, OutboxRow, row_id)
            if row is None or row.status != OutboxStatus.PENDING or row.send_after > now:
                return None  # another worker handled it meanwhile
            ready = self._decide(session, row, now)
            if ready is None:
                return None
            session.flush()
            claimed = claim_many(session, [row.id], now)
            if row.id not in claimed:
                return None
            session.expunge(row)
            row.status = OutboxStatus.SENDING
        return Job(row, *ready, *claimed[row.id])

    def _decide(self, session: Session, row: OutboxRow, now, going: list[OutboxRow] = (),
                folded: set[int] | None = None) -> tuple[Rendered, Channel] | None:
        """The send-time rules for one pending row: what to send and on which channel, or None
        (the row was moved or deferred, with its reason). `going`: the rows of this batch
        already let go; `folded` collects the rows a lead's digest takes in."""
        blocked = outbox.blocked_reason(session, row)
        if blocked:
            move(row, OutboxStatus.SKIPPED, blocked)
            return None
        if not reminders.ready(session, row, self.cadence, now, going):
            return None  # skipped, expired, waiting or deferred, with its reason
        channel = self.channels.get(row.channel)
        if channel is None:
            row.last_error = f"the {row.channel} channel is not configured"
            move(row, OutboxStatus.FAILED, "channel_not_configured")
            return None
        if not send_rates.within(self.limiter, self.rate_limits[row.channel], row.channel):
            row.send_after = now + timedelta(seconds=0.5)  # over the provider's rate: a moment later
            return None
        taken = leads.fold_into_digest(session, row)
        if folded is not None:
            folded |= taken
        try:
            message = compose(session, row, self.settings)
        except LookupError as error:  # a missing catalog key: sending again cannot help
            row.last_error = f"cannot render: {error!r}"[:2000]
            move(row, OutboxStatus.FAILED, "render_failed")
            return None
        return message, channel

    async def _call_all(self, jobs: list[Job]) -> None:
        """The provider calls, all at once (at most OUTBOX_CONCURRENT_CALLS were claimed). When
        one ends, those ending within GATHER_SECONDS after it are recorded with it, in one
        transaction: a reply leaves `sending` within milliseconds (the next reply to the same
        person waits for that), one stalled call holds back nobody else's record, and a batch
        costs a commit or two instead of one per call."""
        waiting, last_to = set(), {}
        for job in sorted(jobs, key=lambda j: j.row.id):
            # one call at a time to one person, so that their messages arrive in the order they
            # were written ("you are on the waitlist" before "a place came free")
            task = asyncio.create_task(self._call_after(last_to.get(job.row.identity_id), job))
            if job.row.identity_id is not None:
                last_to[job.row.identity_id] = task
            waiting.add(task)
        while waiting:
            ended, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if waiting:
                more, waiting = await asyncio.wait(waiting, timeout=GATHER_SECONDS)
                ended |= more
            outcomes = sorted((task.result() for task in ended), key=lambda o: o.row_id)  # the transcript in order
            await asyncio.to_thread(self._settle_all, outcomes)

    async def _call_after(self, before: asyncio.Task | None, job: Job) -> "Outcome":
        if before is not None:
            await asyncio.wait([before])
        return await self._call(job)

    async def _call(self, job: Job) -> "Outcome":
        parts = Parts(job.row.id, job.row.channel, job.sent, job.first, job.fence)
        try:
            if getattr(job.channel, "sends_parts", False):
                await job.channel.send(job.row, job.message, parts=parts)
            else:
                provider_id = await job.channel.send(job.row, job.message)
                if provider_id:
                    await parts.accepted(job.first, provider_id)
        except SendError as error:
            return Outcome(job, parts, error)
        except outbox.Fenced as error:  # stalled past its lease: the row went to another worker
            log.warning("%s; this worker stops sending it", error)
            return Outcome(job, parts, error)
        except Exception as error:
            # the call started and failed in a way we do not know: it may have reached the person
            log.exception("outbox row %s: provider call failed", job.row.id)
            return Outcome(job, parts, error)
        return Outcome(job, parts)

    def _settle_all(self, outcomes: list["Outcome"]) -> None:
        """Record how the calls ended, in one transaction; if it fails, each on its own."""
        try:
            with session_scope() as session:
                self._settle(session, outcomes)
            return
        except Exception:
            if len(outcomes) == 1:
                log.exception("outbox row %s: recording its outcome failed", outcomes[0].row_id)
            else:
                log.exception("recording %s outcomes together failed; recording each on its own", len(outcomes))
        for outcome in outcomes:
            self._settle_alone(outcome)

    def _settle_alone(self, outcome: "Outcome") -> None:
        """An accepted call is retried up to RECORD_TRIES, the last tries with the status only:
        if the database refuses, only this row is left `sending` (then `unknown` after the
        visibility timeout), never sent twice."""
        for attempt in range(RECORD_TRIES):
            try:
                with session_scope() as session:
                    self._settle(session, [outcome], full=attempt == 0)
                return
            except Exception:
                log.exception("outbox row %s: its outcome could not be recorded (try %s)", outcome.row_id, attempt + 1)

    def _settle(self, session: Session, outcomes: list["Outcome"], full: bool = True) -> None:
        """Accepted calls in a few statements for all of them (what they need of their rows was
        read at the claim); refused and failed ones one by one, on their loaded rows."""
        accepted = [outcome for outcome in outcomes if outcome.error is None]
        outbox_parts.accept_many(session, [(o.row_id, part, o.job.row.channel, provider_id)
                                           for o in outcomes for part, provider_id in sorted(o.parts.unsaved.items())])
        outbox_parts.forget_unaccepted(session, *[o.row_id for o in accepted])
        outbox.mark_sent_many(session, {o.row_id: o.job.fence for o in accepted})
        if full:  # the transcript and the open offers; a last try keeps only the statuses
            record_outbound(session, [(o.job.row, o.job.message, o.parts.first_id) for o in accepted])
        for outcome in outcomes:
            if outcome.error is None:
                continue
            row, error = session.get(OutboxRow, outcome.row_id), outcome.error
            if row.status != OutboxStatus.SENDING or row.attempts != outcome.job.fence:
                continue  # reclaimed from this worker while it stalled: the row is another's now
            if isinstance(error, SendError):
                self._refused(session, row, error)
            elif outcome.job.channel.idempotent:
                outbox_parts.forget_unaccepted(session, row.id)
                outbox.mark_failed(row, repr(error), True, self.settings.outbox_max_attempts)
            else:
                row.last_error = repr(error)[:2000]
                move(row, OutboxStatus.UNKNOWN, "provider call failed midway")

    def _defer_after_error(self, row_id: int, error: Exception) -> None:
        """Preparing failed (a database error, a bug): try this row again later."""
        try:
            with session_scope() as session:
                row = session.get(OutboxRow, row_id)
                if row is not None and row.status == OutboxStatus.PENDING:
                    row.attempts += 1
                    outbox.mark_failed(row, f"before sending: {error!r}", True, self.settings.outbox_max_attempts)
        except Exception:
            log.exception("outbox row %s: could not record the error either", row_id)

    def _refused(self, session: Session, row: OutboxRow, error: SendError) -> None:
        """The provider refused a call (so it is not in flight); parts accepted before it are kept."""
        outbox_parts.forget_unaccepted(session, row.id)
        if error.opted_out and row.volunteer_id is not None:
            consent.opt_out(session, session.get(Volunteer, row.volunteer_id), row.channel, f"provider: {error}")
        if error.unreachable and row.identity_id is not None:
            session.get(Identity, row.identity_id).unreachable = True
        if error.fallback and self.reroute(session, row, error.fallback, str(error)):
            return
        outbox.mark_failed(row, str(error), error.retry, self.settings.outbox_max_attempts, error.retry_after)

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
