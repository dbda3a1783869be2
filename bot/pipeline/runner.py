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

from bot.pipeline.process import process
from bot.rasa_client import RasaClient, RasaUnavailable
from campaign import inbox
from campaign.db import session_scope
from campaign.models import Message, utcnow
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
        self._stopping = False
        self.rasa_down = False

    def nudge(self) -> None:
        """A message was just stored: look now instead of at the next poll."""
        self.wakeup.set()

    async def run_forever(self) -> None:
        limit = asyncio.Semaphore(self.settings.inbound_concurrency)
        tasks: set[asyncio.Task] = set()
        while not self._stopping:
            try:
                waiting = [c for c in await asyncio.to_thread(self._waiting) if c not in self.active]
            except Exception:
                log.exception("inbound runner: could not read the queue")
                waiting = []
            for identity_id in waiting:
                if limit.locked():
                    break
                if not await asyncio.to_thread(self._claim, identity_id):
                    continue
                self.active.add(identity_id)
                await limit.acquire()
                task = asyncio.create_task(self._drain(identity_id, limit))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.settings.inbound_poll_seconds)
            except TimeoutError:
                pass
            self.wakeup.clear()
        for task in list(tasks):
            task.cancel()

    async def _drain(self, identity_id: int, limit: asyncio.Semaphore) -> None:
        """Process this contact's messages one by one, oldest first, while holding its lease."""
        try:
            while True:
                if not await asyncio.to_thread(self._claim, identity_id):
                    return  # our lease ran out and someone else took the contact
                message_id = await asyncio.to_thread(self._next, identity_id)
                if message_id is None:
                    return
                started = time.perf_counter()
                try:
                    await process(message_id, self.rasa, self.settings)
                    if self.rasa_down:
                        self.rasa_down = False
                        log.info("Rasa answers again: waiting messages are processed")
                    if logs.processed_log.isEnabledFor(logging.INFO):
                        await asyncio.to_thread(self._log_processed, message_id, time.perf_counter() - started)
                except RasaUnavailable as error:
                    # said once when Rasa goes away, not once a second per waiting contact
                    if not self.rasa_down:
                        log.warning("Rasa unreachable, messages wait for it: %s", error)
                    self.rasa_down = True
                    log.debug("message %s waits for Rasa", message_id)
                    await asyncio.sleep(1.0)
                    return  # keep the order: the contact is retried at the next poll
                except Exception:
                    log.exception("message %s failed", message_id)
                    await asyncio.to_thread(self._mark_failed, message_id)
        finally:
            await asyncio.to_thread(self._release, identity_id)
            self.active.discard(identity_id)
            limit.release()

    # Database steps, run in threads (see process.py for why).
    def _waiting(self) -> list[int]:
        with session_scope() as session:
            return inbox.contacts_waiting(session)

    def _claim(self, identity_id: int) -> bool:
        with session_scope() as session:
            return inbox.claim_contact(session, identity_id, self.owner, self.settings.inbound_lease_seconds)

    def _next(self, identity_id: int) -> int | None:
        with session_scope() as session:
            message = inbox.next_message(session, identity_id)
            return message.id if message else None

    def _release(self, identity_id: int) -> None:
        with session_scope() as session:
            inbox.release_contact(session, identity_id, self.owner)

    def _log_processed(self, message_id: int, seconds: float) -> None:
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None:
                # the intent when the app knows it: a button's payload ("/affirm{...}"), or what the
                # app decided itself (e.g. ignored_opted_out); Rasa's own parse is not returned to us
                button = (message.payload or {}).get("button") or ""
                intent = message.error or (button[1:].split("{", 1)[0] if button.startswith("/") else None)
                logs.message_processed(message.id, message.channel, message.language, intent, seconds, message.status)

    def _mark_failed(self, message_id: int) -> None:
        with session_scope() as session:
            message = session.get(Message, message_id)
            if message is not None and message.status == "received":
                message.status = "failed"
                message.processed_at = utcnow()

    def stop(self) -> None:
        self._stopping = True
        self.wakeup.set()
