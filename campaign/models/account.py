"""Dashboard accounts, their server-side sessions, failed sign-ins and the access log."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.models.base import Base, utcnow


class Role(StrEnum):
    admin = "admin"          # manages accounts, reads the access log, sees everything
    organizer = "organizer"  # sees everything
    lead = "lead"            # sees only their team


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # where alerts reach this person (a contact with identities); a lead's is the team's lead contact
    contact_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    telegram: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team = relationship("Team")

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.admin, Role.organizer)


class DashboardSession(Base):
    """A signed-in browser. Only the token's hash is stored; ending a row signs it out everywhere."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class SignInFailure(Base):
    """One refused sign-in, counted per account and per address to throttle guessing."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AccessLogEntry(Base):
    """Who looked at a person's page or exported people, and when: readable by admins."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # person_viewed, csv_exported, outbox_retried...
    subject: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    account: Mapped[Account] = relationship()
