from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from campaign.models import OutboxRow


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template standing for a message outside the 24-hour window: its id
    (a Twilio ContentSid, or a Meta template name), language, and the values of its variables in
    order ({{1}}, {{2}}...: the catalog message's placeholders, in the order they appear)."""

    id: str
    language: str
    variables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    """A message in the recipient's language, before channel-specific layout."""

    text: str
    language: str
    choices: list[Choice] = field(default_factory=list)
    # WhatsApp's 24-hour customer-service window, decided upstream from the last inbound message
    # (the adapter gets plain values, not a database session); None where it does not apply
    window_open: bool | None = None
    template: Template | None = None  # chosen upstream when the window is closed and one is configured


class SendError(Exception):
    """A send failed. `retry`: trying again later can help (rate limit, provider down), after
    `retry_after` seconds when the provider said so. `opted_out`: the provider says the person
    unsubscribed (Twilio 21610) or blocked us (Telegram 403), which is recorded as an opt-out.
    `fallback`: this channel cannot carry it now (WhatsApp outside the 24-hour window), another can."""

    def __init__(self, message: str, retry: bool, retry_after: float | None = None, opted_out: bool = False,
                 unreachable: bool = False, fallback: str | None = None):
        super().__init__(message)
        self.fallback = fallback  # another channel to try, e.g. "sms" outside WhatsApp's window
        self.retry = retry
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.unreachable = unreachable


class Channel(Protocol):
    name: str
    # True when sending the same outbox row twice cannot reach the person twice, so a send
    # interrupted by a crash may simply be done again.
    idempotent: bool

    async def send(self, session: Session | None, row: OutboxRow, message: Rendered) -> str:
        """Deliver the message; returns the provider's id for it. Raises SendError. The worker
        passes no session (None): no transaction is open during a provider call."""
        ...
