from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campaign.models.base import Base, utcnow


class OpenOffer(Base):
    """Choices put in front of one contact (identity): by the bot, a reminder or an organizer.

    A tapped or typed answer is accepted only against an offer recorded here, so a payload the
    person was never shown (a typed `/affirm{"shift_id": 7}`) books nothing. The subject names
    what the offer is about (a shift, a booking), so "no puedo" after a reminder is read against
    the booking it reminded of."""

    __tablename__ = "open_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # the outbox kind that offered it: reply, reminder, ...
    subject_kind: Mapped[str | None] = mapped_column(String(16))  # "shift", "booking", ...
    subject_id: Mapped[int | None] = mapped_column(Integer)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    # [{"payload": "/affirm{\"shift_id\": 7}", "title": "Sat 10:00"}, ...], as shown
    choices: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
