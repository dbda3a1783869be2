"""Dashboard accounts, their server-side sessions, failed sign-ins and the access log; the second
step of signing in (a TOTP secret, recovery codes, sign-ins waiting for a code, roles that must
have it)."""
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
    # two-step sign-in (campaign/second_factor.py): the authenticator's secret once confirmed, the
    # one shown while enrolling, and the last 30 s step whose code was accepted (never twice)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    totp_enrolled_at: Mapped[datetime | None]

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


class SignInStep(Base):
    """A sign-in whose password was right, waiting for its second step: a code (`code`), or
    enrolment when the role requires it (`enrol`). Not a session: no page but that step opens."""

    __tablename__ = "sign_in_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship()


class RecoveryCode(Base):
    """One of an account's one-time recovery codes, as an argon2 hash; used once, then spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class SecondFactorRequired(Base):
    """A role whose accounts must sign in with a second step (`onramp users require-2fa`)."""

    __tablename__ = "second_factor_required"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


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
