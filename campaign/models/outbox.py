from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow


class OutboxRow(Base):
    """One message to send. Rows are written first and sent by the worker, exactly once.

    A reply to an inbound message carries (source_message_id, seq), unique, so that processing
    the same inbound message again can never queue its replies twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("source_message_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply, reminder, notification, broadcast
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(128))
    # catalog key and its parameters; rendered in the recipient's language at send time
    key: Mapped[str | None] = mapped_column(String(80))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    choices: Mapped[list] = mapped_column(JSON, default=list)
    text: Mapped[str | None] = mapped_column(Text)  # free text, e.g. an organizer's reply
    send_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # the furthest delivery report so far: sent, delivered, read, or failed / undelivered
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # what the message is about, when its choices are answered later ("booking", 12)
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
