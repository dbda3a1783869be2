from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow


class ProviderMessage(Base):
    """One provider call for an outbox row: a long SMS goes as several calls (parts), each
    accepted with its own id.

    The row is written just before its call starts, with no provider id; the id is filled in
    when the provider accepts. A part with no id therefore means: its call started and its
    outcome is not known. A retry skips the parts that have an id (never part 1 twice), and a
    delivery report finds its outbox row here by (channel, provider id), through the index.
    The id is not unique on its own: Telegram numbers messages per chat."""

    __tablename__ = "provider_messages"
    __table_args__ = (UniqueConstraint("outbox_id", "part"),
                      Index("ix_provider_messages_channel_provider_id", "channel", "provider_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    part: Mapped[int] = mapped_column(Integer)  # 0 for the first call
    channel: Mapped[str] = mapped_column(String(16))  # the row's channel when this part was sent
    provider_id: Mapped[str | None] = mapped_column(String(128))  # None while the call runs
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
