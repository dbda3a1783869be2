from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow


class DeliveryEvent(Base):
    """A provider's delivery report in neutral words (a campaign.delivery.DeliveryStatus), kept once;
    error_code is the provider's own code, for the record."""

    __tablename__ = "delivery_events"
    __table_args__ = (UniqueConstraint("channel", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
