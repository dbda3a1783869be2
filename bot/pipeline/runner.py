"""Step 3: process stored messages in order per contact, several contacts at once.

Runs inside the api process, after the webhooks have acknowledged. Each contact is leased to
one runner at a time (campaign.inbox), so more api processes can share the work; a runner
that dies lets go when its lease expires, and whatever it had not finished is done again.
"""
import asyncio
import logging
import os
import time
import uuid

from sqlalchemy.exc import OperationalError

from bot import langid_model
from bot.pipeline import spool
from bot.pipeline.process import LeaseLost, process
from bot.rasa_client import RasaClient, RasaUnavailable, Turn
from campaign import handoffs, inbox
from campaign.db import session_scope
from campaign.models import Identity, Message, utcnow
from campaign.outbox import enqueue
from onramp import logs
from onramp.settings import Settings

log = logging.getLogger(__name__)


class InboundRunner:
    def __init__(self, settings: Settings, rasa: RasaClient | None = None):
        self.settings = settings
        self.rasa = rasa or RasaClient(settings)
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.active: set[int] = set()
        self.wakeup = asyncio.Event()
        # contacts whose message waits for Rasa or the database: not before this (event loop time)
        self.retry_at: dict[int, float] = {}
        self._stopping = False
        self._tries: dict[int, int] = {}
        self.rasa_down = False

    def nudge(self) -> None:
        """A message was just stored: look now instead of at the next poll."""
        self.wakeup.set()

    async def run_forever(self) -> None:
        try:  # trained (or read from var/) once, before the first message waits on it
            await asyncio.to_thread(langid_model.model)
        except Exception:
            log.exception("the short-text language model could not be prepared; lingua alone decides")
        limit = asyncio.Semaphore(self.settings.inbound_concurrency)
        tasks: set[asyncio.Task] = set()
        while not self._stopping:
            await self._replay_spool()
            try:
                now = asyncio.get_running_loop().time()
                waiting = [c for c in await asyncio.to_thread(self._waiting)
                           if c not in self.active and self.retry_at.get(c, 0) <= now]
            except Exception:
                log.exception("inbound runner: could not read the queue")
                waiting = []
            for identity_id in waiting:
                if limit.locked():
                    break
                message_id = await asyncio.to_thread(self._take, identity_id)
                if message_id is None:
                    continue
                self.active.add(identity_id)
                await limit.acquire()
                task = asyncio.create_task(self._drain(identity_id, message_id, limit))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.inbound_poll_seconds)
            except TimeoutError:
                pass
            self.wakeup.clear()
        for task in list(tasks):
            task.cancel()

    async def _drain(self, identity_id: int, message_id: int | None, limit: asyncio.Semaphore) -> None:
        """Process this contact's messages one by one, oldest first, while holding its lease
        (just taken by run_forever with its first message; renewed with each later one)."""
        released = False
        try:
            while message_id is not None:
                started = time.perf_counter()
                turn, done = None, False
                try:
                    turn = await self._process_holding_lease(identity_id, message_id)
                    done = True
                    if self.rasa_down:
                        self.rasa_down = False
                        log.info("Rasa answers again: waiting messages are processed")
                except LeaseLost as error:
                    log.warning("%s", error)
                    return
                except RasaUnavailable as error:
                    given_up = await asyncio.to_thread(self._rasa_failed, message_id)
                    if not given_up:
                        # said once when Rasa goes away, not once a second per waiting contact
                        if not self.rasa_down:
                            log.warning("Rasa unreachable, messages wait for it: %s", error)
                        self.rasa_down = True
                        log.debug("message %s waits for Rasa", message_id)
                        self._back_off(identity_id)
                        return  # keep the order: the contact is retried after its backoff
                    log.error("message %s: Rasa did not answer after %s tries; handed to an organizer",
                              message_id, self.settings.rasa_max_attempts)
                except OperationalError as error:  # the database is locked or away for a moment
                    log.warning("message %s waits for the database: %s", message_id, error.orig)
                    self._back_off(identity_id)
                    return
                except Exception:
                    log.exception("message %s failed", message_id)
                    await asyncio.to_thread(self._mark_failed, message_id)
                self.retry_at.pop(identity_id, None)
                self._tries.pop(identity_id, None)
                logged = (message_id, time.perf_counter() - started, turn) if done else None
                message_id, released = await asyncio.to_thread(self._then, identity_id, logged)
        finally:
            if not released:
                await asyncio.to_thread(self._release, identity_id)
            self.active.discard(identity_id)
            limit.release()

    async def _replay_spool(self) -> None:
        """Messages a webhook spooled while the database was stuck: stored now, then processed in order."""
        if not spool.waiting(self.settings.spool_path):
            return
        try:
            await asyncio.to_thread(spool.replay, self.settings.spool_path, self.settings.webhook_db_seconds)
        except Exception as error:  # still stuck: the spool stays, and is tried at the next pass
            log.warning("the spool waits for the database: %r", error)

    async def _process_holding_lease(self, identity_id: int, message_id: int) -> Turn | None:
        """Process one message, renewing the contact's lease while Rasa thinks (it may take
        longer than a lease), so that no other process takes the contact meanwhile."""
        seconds = self.settings.inbound_lease_seconds

        async def renew() -> None:
            while True:
                await asyncio.sleep(seconds / 3)
                if not await asyncio.to_thread(self._claim, identity_id):
                    return

        renewer = asyncio.create_task(renew())
        try:
            return await process(message_id, self.rasa, self.settings, lease=(self.owner, seconds))
        finally:
            renewer.cancel()

    def _back_off(self, identity_id: int) -> None:
        """Exponential, capped: 1, 2, 4 ... 30 s between tries for this contact."""
        tries = self._tries.get(identity_id, 0) + 1
        self._tries[identity_id] = tries
        self.retry_at[identity_id] = asyncio.get_running_loop().time() + min(2 ** (tries - 1), 30)

    # Database steps, run in threads (see process.py for why).
    def _rasa_failed(self, message_id: int) -> bool:
        """After RASA_MAX_ATTEMPTS tries the message fails for good: the person hears once that we
        will get back to them, and an organizer takes the conversation (later messages go there)."""
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is None or message.attempts < self.settings.rasa_max_attempts:
                return False
            message.status, message.processed_at, message.error = "failed", utcnow(), "bot_unavailable"
            handoff = handoffs.open_handoff(session, message.volunteer_id)
            if handoff is None:
                handoffs.open_for(session, message.volunteer_id, "bot_unavailable", message.body[:500], settings=self.settings)
                identity = session.get(Identity, message.identity_id)
                enqueue(session, identity, key="bot_unavailable", source_message_id=message.id)
            return True

    def _waiting(self) -> list[int]:
        with session_scope() as session:
            return inbox.contacts_waiting(session)

    def _claim(self, identity_id: int) -> bool:
        with session_scope() as session:
            return inbox.claim_contact(session, identity_id, self.owner, self.settings.inbound_lease_seconds)

    def _take(self, identity_id: int) -> int | None:
        """Lease the contact and return its oldest waiting message; None when someone else holds
        it or nothing waits (then the lease is let go at once). One transaction."""
        with session_scope() as session:
            return self._lease_next(session, identity_id)[0]

    def _then(self, identity_id: int, logged: tuple | None) -> tuple[int | None, bool]:
        """After a message: its log line, then the contact's next message with the lease renewed,
        or the lease let go when nothing waits, in one transaction (a message costs the database
        few round trips: under SQLite every write transaction waits its turn for the one lock).
        Returns the next message (None: stop) and whether the lease was let go here."""
        with session_scope() as session:
            next_id, released = self._lease_next(session, identity_id)  # the write first: SQLite's lock
            if logged is not None and logs.processed_log.isEnabledFor(logging.INFO):
                self._log_processed(session, *logged)
            return next_id, released

    def _lease_next(self, session, identity_id: int) -> tuple[int | None, bool]:
        # the UPDATE comes first: a SQLite transaction that read first could not write after
        # another writer's commit
        if not inbox.claim_contact(session, identity_id, self.owner, self.settings.inbound_lease_seconds):
            return None, False  # someone else holds the contact: not ours to let go
        message_id = inbox.next_message_id(session, identity_id)
        if message_id is None:
            inbox.release_contact(session, identity_id, self.owner)
            return None, True
        return message_id, False

    def _release(self, identity_id: int) -> None:
        with session_scope() as session:
            inbox.release_contact(session, identity_id, self.owner)

    @staticmethod
    def _log_processed(session, message_id: int, seconds: float, turn: Turn | None = None) -> None:
        message = session.get(Message, message_id)
        if message is not None:
            # the intent: what the app decided itself (e.g. ignored_opted_out), else what Rasa
            # read (its parse comes back with the replies), else a button's payload ("/affirm{...}")
            button = (message.payload or {}).get("button") or ""
            intent = message.error or (turn.intent if turn else None) or (
                button[1:].split("{", 1)[0] if button.startswith("/") else None)
            confidence = turn.confidence if turn and not message.error and turn.intent else None
            logs.message_processed(message.id, message.channel, message.language, intent, seconds, message.status,
                                   confidence)

    def _mark_failed(self, message_id: int) -> None:
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None and message.status == "received":
                message.status = "failed"
                message.processed_at = utcnow()

    def stop(self) -> None:
        self._stopping = True
        self.wakeup.set()
