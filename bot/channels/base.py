from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from campaign.models import OutboxRow


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class Rendered:
    """A message in the recipient's language, before channel-specific layout."""

    text: str
    language: str
    choices: list[Choice] = field(default_factory=list)


class SendError(Exception):
    """A send failed; `retry` says whether trying again later can help."""

    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


class Channel(Protocol):
    name: str
    # True when sending the same outbox row twice cannot reach the person twice, so a send
    # interrupted by a crash may simply be done again.
    idempotent: bool

    async def send(self, session: Session, row: OutboxRow, message: Rendered) -> str:
        """Deliver the message; returns the provider's id for it. Raises SendError."""
        ...
