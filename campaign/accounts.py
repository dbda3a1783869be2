"""Dashboard accounts: passwords (argon2), server-side sessions, throttled sign-in, access log.

Everything lives in the database, so every api process sees the same sessions and the same
count of failed sign-ins: signing out or disabling an account ends its sessions at once.

An account with two-step sign-in (campaign/second_factor.py), or whose role requires it, gets no
session for its password alone: a `SecondStep` waits (10 minutes) for a code, or for enrolment,
and only then is the session made. Wrong codes count as failed sign-ins."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign import second_factor, sign_in_throttle
from campaign.models import AccessLogEntry, Account, DashboardSession, Role, Team, utcnow
from campaign.models.account import SignInStep
from onramp.settings import Settings

_hasher = PasswordHasher()
# A real hash to verify against when the email is unknown, so timing does not tell accounts apart.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD = 10
SECOND_STEP_MINUTES = 10  # a right password waits this long for its code (or enrolment)


class AccountError(ValueError):
    """A request that cannot be done, in words for the person who asked."""


class Throttled(AccountError):
    pass


@dataclass
class SignedIn:
    account: Account
    token: str  # goes in the cookie; only its hash is stored
    csrf_token: str


@dataclass
class SecondStep:
    """The password was right; next, a code (`kind` "code") or enrolment ("enrol")."""
    account: Account
    kind: str
    token: str  # goes in its own cookie; only its hash is stored
    csrf_token: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def by_email(session: Session, email: str) -> Account | None:
    return session.scalars(select(Account).where(Account.email == normalize_email(email))).one_or_none()


def add(session: Session, email: str, password: str, role: str, team_slug: str | None = None,
        phone: str | None = None, telegram: str | None = None) -> Account:
    role = Role(role)
    if by_email(session, email) is not None:
        raise AccountError(f"an account for {normalize_email(email)} exists already")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    team = None
    if role == Role.lead:
        if not team_slug:
            raise AccountError("a lead needs --team SLUG")
        team = session.scalars(select(Team).where(Team.slug == team_slug)).one_or_none()
        if team is None:
            raise AccountError(f"no team with the slug {team_slug!r}")
    elif team_slug:
        raise AccountError("only a lead belongs to a team")
    account = Account(email=normalize_email(email), password_hash=_hasher.hash(password), role=role.value,
                      team_id=team.id if team else None, phone=phone, telegram=telegram, disabled=False,
                      # the lead's account is the team's lead contact: alerts reach them there
                      contact_volunteer_id=team.lead_volunteer_id if team else None)
    session.add(account)
    session.flush()
    return account


def list_all(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.email)))


def end_sessions(session: Session, account_id: int) -> int:
    """Every session of the account ends, and every sign-in waiting for its second step."""
    session.execute(update(SignInStep).where(SignInStep.account_id == account_id, SignInStep.ended_at.is_(None))
                    .values(ended_at=utcnow()))
    return session.execute(
        update(DashboardSession).where(DashboardSession.account_id == account_id, DashboardSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount


def reset_password(session: Session, email: str, password: str) -> Account:
    account = _existing(session, email)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    account.password_hash = _hasher.hash(password)
    end_sessions(session, account.id)
    return account


def disable(session: Session, email: str) -> Account:
    account = _existing(session, email)
    account.disabled = True
    end_sessions(session, account.id)
    return account


def _existing(session: Session, email: str) -> Account:
    account = by_email(session, email)
    if account is None:
        raise AccountError(f"no account for {normalize_email(email)}")
    return account


failure_window = sign_in_throttle.window


def sign_in(session: Session, email: str, password: str, address: str,
            settings: Settings) -> SignedIn | SecondStep | None:
    """A new session for the right password, or the second step it needs first (a code, or
    enrolment when the role requires one); None for a wrong one (the failure is counted).
    Throttled when this address failed too often lately, right password or not
    (campaign/sign_in_throttle.py says how, and why an owner is never locked out by a stranger)."""
    email = normalize_email(email)
    sign_in_throttle.hold(session, email, address)
    if sign_in_throttle.throttled(session, email, address, settings):
        raise Throttled("too many failed sign-ins: wait a few minutes and try again")
    account = by_email(session, email)
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
        ok = account is not None and not account.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        sign_in_throttle.count_failure(session, email, address)
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    if account.totp_secret is not None:
        return _second_step(session, account, "code")
    if second_factor.required(session, account.role):
        return _second_step(session, account, "enrol")
    return _new_session(session, account, settings)


def _new_session(session: Session, account: Account, settings: Settings) -> SignedIn:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(DashboardSession(token_hash=_hash_token(token), account_id=account.id, csrf_token=csrf,
                                 created_at=utcnow(), expires_at=utcnow() + timedelta(days=settings.dashboard_session_days)))
    session.flush()
    return SignedIn(account, token, csrf)


def _second_step(session: Session, account: Account, kind: str) -> SecondStep:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(SignInStep(token_hash=_hash_token(token), account_id=account.id, kind=kind, csrf_token=csrf,
                           created_at=utcnow(), expires_at=utcnow() + timedelta(minutes=SECOND_STEP_MINUTES)))
    session.flush()
    return SecondStep(account, kind, token, csrf)


def waiting_step(session: Session, token: str | None) -> SignInStep | None:
    """The sign-in waiting for its second step for this cookie: not ended, not expired, its account not disabled."""
    if not token:
        return None
    found = session.scalars(select(SignInStep).where(SignInStep.token_hash == _hash_token(token))).one_or_none()
    if found is None or found.ended_at is not None or found.expires_at <= utcnow() or found.account.disabled:
        return None
    return found


def check_code(session: Session, account: Account, code: str, address: str, settings: Settings) -> None:
    """The account's code (or a recovery code), throttled and counted like a password: raises
    Throttled, or second_factor.CodeRefused with the reason (the failure counted)."""
    sign_in_throttle.hold(session, account.email, address)
    if sign_in_throttle.throttled(session, account.email, address, settings):
        raise Throttled("too many failed sign-ins: wait a few minutes and try again")
    try:
        second_factor.check(session, account, code)
    except second_factor.CodeRefused:
        sign_in_throttle.count_failure(session, account.email, address)
        raise


def finish_with_code(session: Session, step: SignInStep, code: str, address: str, settings: Settings) -> SignedIn:
    """The second step of a sign-in: the session, once the code passes (see check_code)."""
    check_code(session, step.account, code, address, settings)
    step.ended_at = utcnow()
    return _new_session(session, step.account, settings)


def finish_enrolment(session: Session, step: SignInStep, code: str, settings: Settings) -> tuple[SignedIn, list[str]]:
    """An account that had to enrol confirmed its first code: the session, and its recovery codes
    to show once. Raises second_factor.CodeRefused."""
    codes = second_factor.confirm_enrolment(session, step.account, code)
    step.ended_at = utcnow()
    return _new_session(session, step.account, settings), codes


def end_step(session: Session, token: str) -> None:
    session.execute(update(SignInStep).where(SignInStep.token_hash == _hash_token(token)).values(ended_at=utcnow()))


def require_second_factor(session: Session, role: str, on: bool = True) -> list[str]:
    """Makes two-step sign-in required (or optional again) for a role. The e-mails of the role's
    active accounts without it: their sessions end now, and they enrol at their next sign-in."""
    role = Role(role).value
    second_factor.set_required(session, role, on)
    if not on:
        return []
    waiting = list(session.scalars(select(Account).where(Account.role == role, Account.totp_secret.is_(None),
                                                         Account.disabled.is_(False)).order_by(Account.email)))
    for account in waiting:
        end_sessions(session, account.id)
    return [account.email for account in waiting]


def reset_second_factor(session: Session, email: str) -> Account:
    """A lost phone: the account signs in with its password alone again (or enrols again, when
    its role requires it); its sessions end."""
    account = _existing(session, email)
    second_factor.remove(session, account)
    end_sessions(session, account.id)
    return account


def current(session: Session, token: str | None) -> DashboardSession | None:
    """The live session for this cookie: not ended, not expired, its account not disabled."""
    if not token:
        return None
    found = session.scalars(select(DashboardSession).where(DashboardSession.token_hash == _hash_token(token))).one_or_none()
    if found is None or found.ended_at is not None or found.expires_at <= utcnow() or found.account.disabled:
        return None
    return found


def sign_out(session: Session, token: str) -> None:
    session.execute(update(DashboardSession).where(DashboardSession.token_hash == _hash_token(token))
                    .values(ended_at=utcnow()))


def record_access(session: Session, account: Account, action: str, subject: str) -> None:
    session.add(AccessLogEntry(account_id=account.id, action=action, subject=subject, at=utcnow()))


def access_log(session: Session, limit: int = 200) -> list[AccessLogEntry]:
    return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(limit)))
