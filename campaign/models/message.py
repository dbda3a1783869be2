from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow


class Message(Base):
    """Every message in or out, keyed by the provider's id so a retried webhook is a no-op.

    Inbound status: received -> processed, for_organizer (a person owns the conversation: it waits
    for them), ignored_opted_out (from someone opted out, until they send START), or failed;
    outbound rows are written when sent (status sent).
    """

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "direction", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    # a button tap ("/affirm"), the choices shown with an outbound message, provider hints
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class Handoff(Base):
    """A human organizer owns the conversation while a handoff is open."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # asked, not_understood, sensitive
    status: Mapped[str] = mapped_column(String(16), default="open")
    summary: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    # the dashboard's side (campaign.handoffs holds the rules)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str | None] = mapped_column(String(32))  # the sensitive topic that opened it
    assigned_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    answered_at: Mapped[datetime | None]
    alert_outbox_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    resume_mode: Mapped[str | None] = mapped_column(String(16))
    closed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # Rasa's copy of the conversation: paused while open, resumed after the close
    rasa_paused_at: Mapped[datetime | None]
    rasa_resumed_at: Mapped[datetime | None]
