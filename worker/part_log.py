"""The part log of a message sent in several provider calls (a long SMS): which parts the
provider accepted, written so that a retry sends only the rest and never a part twice.
campaign/outbox_parts.py holds the rows; the worker (worker/sender.py) keeps one log per call."""
import asyncio

from sqlalchemy.orm import Session

from campaign import outbox, outbox_parts
from campaign.db import session_scope
from campaign.models import utcnow


class Parts:
    """The part log a channel that sends in several calls reports to (bot/channels/twilio.py).

    Accepted parts are written before the next call starts, and the next call's start in a
    transaction of its own: a worker killed between two calls leaves no call in flight, and
    the retry sends only the rest. Nothing is written while a call runs."""

    def __init__(self, row_id: int, channel: str, sent: dict[int, str], first: int, fence: int):
        self.row_id, self.channel, self.fence = row_id, channel, fence
        self.sent = dict(sent)
        self.unsaved: dict[int, str] = {}
        self._started = {first}

    async def starting(self, part: int) -> None:
        if part in self._started:
            return
        self._started.add(part)
        await asyncio.to_thread(self._save)
        await asyncio.to_thread(self._start, part)

    async def accepted(self, part: int, provider_id: str) -> None:
        self.sent[part] = self.unsaved[part] = provider_id

    def save(self, session: Session) -> None:
        """Write the accepted parts not written yet, in the caller's transaction (written twice
        is harmless)."""
        for part, provider_id in sorted(self.unsaved.items()):
            outbox_parts.accept(session, self.row_id, part, self.channel, provider_id)

    def _save(self) -> None:
        with session_scope() as session:
            self.save(session)
        self.unsaved.clear()

    def _start(self, part: int) -> None:
        with session_scope() as session:
            # a worker that stalled past its lease may wake up here, after another worker took
            # the row over: its claim is gone, and the next part is not its to send
            if not outbox.still_claimed(session, self.row_id, self.fence, utcnow()):
                raise outbox.Fenced(f"outbox row {self.row_id}: claimed again by another worker")
            outbox_parts.starting(session, self.row_id, part, self.channel)

    @property
    def first_id(self) -> str | None:
        return self.sent[min(self.sent)] if self.sent else None
