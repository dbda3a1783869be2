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
    cancelled_at: Mapped[datetime | None]  # a cancelled shift is kept, never offered again

    team = relationship("Team")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("shift_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    # booked, confirmed (said yes to a reminder), waitlisted, cancelled
    status: Mapped[str] = mapped_column(String(16), default="booked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # attended / no_show, and who said so: "lead" (wins) or "supporter" (their own answer)
    attendance: Mapped[str | None] = mapped_column(String(16))
    attendance_source: Mapped[str | None] = mapped_column(String(16))
    attendance_at: Mapped[datetime | None]
    # the dashboard account that marked it, when a lead did
    attendance_marked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    @property
    def attended(self) -> bool | None:
        """True came, False did not, None not known yet (one truth: `attendance`)."""
        return None if self.attendance is None else self.attendance == "attended"

    @attended.setter
    def attended(self, value: bool | None) -> None:  # for seeding data; the rules use reminders.record_attendance
        self.attendance = None if value is None else ("attended" if value else "no_show")

    shift: Mapped[Shift] = relationship()
