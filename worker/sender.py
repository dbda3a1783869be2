"""Claim due outbox rows and send each one exactly once through its channel."""
import asyncio
import logging
from datetime import timedelta

from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from sqlalchemy import update

from bot.channels import Channel, registry
from bot.channels.base import Rendered, SendError
from bot.render import render
from campaign import consent, leads, offers, outbox
from campaign.db import insert_ignore, session_scope
from campaign.volunteers import identify
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from onramp.settings import Settings

log = logging.getLogger(__name__)


# Sends per second per channel, kept below what each provider allows for one sender.
RATE_LIMITS = {name: parse_limit(rate) for name, rate in {
    "sms": "10/second", "whatsapp": "20/second", "telegram": "25/second", "whatsapp_cloud": "50/second",
    "webchat": "1000/second"}.items()}
DEFAULT_RATE = parse_limit("10/second")


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


class OutboxWorker:
    def __init__(self, settings: Settings, channels: dict[str, Channel] | None = None):
        self.settings = settings
        self.channels = channels or registry(settings)
        # shared by every worker through Redis in production; in memory for one worker
        storage = storage_from_string(settings.redis_url if settings.rate_limit_storage == "redis" else "memory://")
        self.limiter = MovingWindowRateLimiter(storage)
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
                outbox.mark_failed(row, f"the {row.channel} channel is not configured", retry=False, max_attempts=0)
                return
            if not self.limiter.hit(RATE_LIMITS.get(row.channel, DEFAULT_RATE), row.channel):
                row.status, row.attempts = "pending", row.attempts - 1  # over the provider's rate: a moment later
                row.send_after = utcnow() + timedelta(seconds=0.5)
                return
            message = render(session, row, self.settings)
            try:
                provider_id = await channel.send(session, row, message)
            except SendError as error:
                if error.opted_out:
                    volunteer = session.get(Volunteer, row.volunteer_id)
                    consent.opt_out(session, volunteer, row.channel, f"provider: {error}")
                if error.unreachable and row.identity_id is not None:
                    session.get(Identity, row.identity_id).unreachable = True
                if error.fallback and self.reroute(session, row, error.fallback, str(error)):
                    return
                outbox.mark_failed(row, str(error), error.retry, self.settings.outbox_max_attempts, error.retry_after)
                return
            except Exception as error:  # an unknown failure: retry with backoff, never silently drop
                log.exception("outbox row %s", row_id)
                outbox.mark_failed(row, repr(error), True, self.settings.outbox_max_attempts)
                return
            outbox.mark_sent(row, provider_id)
            record_outbound(session, row, message, provider_id)

    def reroute(self, session: Session, row: OutboxRow, channel: str, why: str) -> bool:
        """Send the row on another channel of the same volunteer (WhatsApp → SMS to their phone)."""
        identity = session.get(Identity, row.identity_id) if row.identity_id else None
        if channel not in self.channels or identity is None or not identity.phone:
            return False
        target = identify(session, channel, identity.phone, phone=identity.phone)
        row.channel, row.recipient, row.identity_id = channel, target.external_id, target.id
        row.status, row.send_after, row.last_error = "pending", utcnow(), f"rerouted to {channel}: {why}"[:2000]
        return True

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

