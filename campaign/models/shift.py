from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.models.base import Base, utcnow


class Shift(Base):
    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=10)

    team = relationship("Team")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("shift_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked, waitlisted, cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # marked by the lead after the shift: True came, False did not, None not marked yet
    attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_marked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    attendance_marked_at: Mapped[datetime | None]

    shift: Mapped[Shift] = relationship()
