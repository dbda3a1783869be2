"""Claim due outbox rows and send each one exactly once through its channel."""
import asyncio
import logging

from sqlalchemy import update

from bot.channels import Channel, registry
from bot.channels.base import SendError
from bot.render import render
from campaign import leads, outbox
from campaign.db import session_scope
from campaign.models import OutboxRow
from onramp.settings import Settings

log = logging.getLogger(__name__)


class OutboxWorker:
    def __init__(self, settings: Settings, channels: dict[str, Channel] | None = None):
        self.settings = settings
        self.channels = channels or registry()
        self._stopping = False

    def recover(self) -> int:
        """Rows left "sending" by a crash: sent again where the channel makes that harmless,
        otherwise set aside for an organizer to look at (never sent twice)."""
        idempotent = [name for name, channel in self.channels.items() if channel.idempotent]
        with session_scope() as session:
            again = session.execute(
                update(OutboxRow).where(OutboxRow.status == "sending", OutboxRow.channel.in_(idempotent))
                .values(status="pending")
            ).rowcount
            session.execute(
                update(OutboxRow).where(OutboxRow.status == "sending")
                .values(status="unknown", last_error="the worker stopped while sending; not sent again")
            )
        return again

    async def send_due(self) -> int:
        """One pass over the due rows; returns how many were handled."""
        with session_scope() as session:
            rows = outbox.claim_due(session)
            leads.fold_digests(session, rows)
            ids = [row.id for row in rows if row.status == "sending"]
        for row_id in ids:
            await self._send_one(row_id)
        return len(ids)

    async def _send_one(self, row_id: int) -> None:
        with session_scope() as session:
            row = session.get(OutboxRow, row_id)
            blocked = outbox.blocked_reason(session, row)
            if blocked:
                row.status, row.last_error = "cancelled", blocked
                return
            channel = self.channels.get(row.channel)
            if channel is None:
                outbox.mark_failed(row, f"no channel {row.channel!r} is configured", retry=False, max_attempts=0)
                return
            try:
                provider_id = await channel.send(session, row, render(session, row, self.settings))
            except SendError as error:
                outbox.mark_failed(row, str(error), error.retry, self.settings.outbox_max_attempts)
                return
            except Exception as error:  # an unknown failure: retry with backoff, never silently drop
                log.exception("outbox row %s", row_id)
                outbox.mark_failed(row, repr(error), True, self.settings.outbox_max_attempts)
                return
            outbox.mark_sent(row, provider_id)

    async def run_forever(self) -> None:
        recovered = self.recover()
        if recovered:
            log.info("re-queued %s rows interrupted by a restart", recovered)
        while not self._stopping:
            try:
                handled = await self.send_due()
            except Exception:
                log.exception("outbox pass failed")
                handled = 0
            if not handled:
                await asyncio.sleep(self.settings.outbox_poll_seconds)

    def stop(self) -> None:
        self._stopping = True

