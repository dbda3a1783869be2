from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow
from campaign.outbox_status import OutboxStatus


class OutboxKind:
    """What a row is for. Automated kinds (reminders, follow-ups) obey the sending window and the
    daily cap; replies to a person's own message do not."""

    REPLY = "reply"
    COMPLIANCE = "compliance"  # sent even to someone who opted out: the one confirmation
    NOTIFICATION = "notification"  # team-lead announcements, shift changes, waitlist promotions
    REMINDER = "reminder"
    FOLLOW_UP = "follow_up"
    BROADCAST = "broadcast"


AUTOMATED_KINDS = (OutboxKind.REMINDER, OutboxKind.FOLLOW_UP)
# Kinds sent only to someone with a consent record (how they first reached us): not a reply to
# their own message, not a notice about their own booking, but something we start.
CONSENT_KINDS = (*AUTOMATED_KINDS, OutboxKind.BROADCAST)


class OutboxRow(Base):
    """One message to send. Rows are written first and sent by the worker, exactly once.

    A reply to an inbound message carries (source_message_id, seq), unique, so that processing
    the same inbound message again can never queue its replies twice. A planned row (reminder,
    follow-up) names its cause (booking, shift) so that it is re-planned or cancelled with it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("source_message_id", "seq"),
        # the worker's due query (campaign/outbox.py): pending rows in sending order, and a
        # person's earlier rows
        Index("ix_outbox_due", "status", "send_after", "id"),
        Index("ix_outbox_identity_id", "identity_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=OutboxKind.REPLY)
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
    # never sent after this moment (a reminder after its shift started); expired instead
    deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING, index=True)
    # why a row is skipped, expired, waiting or cancelled (opted_out, quiet_hours, handoff, ...)
    reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # the provider's ids, one per call (a long SMS takes several): campaign/models/provider_message.py
    # the furthest delivery report so far, a campaign.delivery.DeliveryStatus (it only moves forward)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # what the message is about, when its choices are answered later ("booking", 12)
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # the cause of a planned row
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when the row went to `sending`: a claim older than the visibility timeout is stale
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
