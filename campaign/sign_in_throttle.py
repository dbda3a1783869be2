"""Failed sign-ins, counted so that guessing is slow and a stranger cannot lock an owner out.

Three counts, over SIGN_IN_FAILURE_WINDOW_MINUTES, all in the database (every api process sees
them):
- per address, whatever the account (SIGN_IN_MAX_FAILURES_PER_ADDRESS): one place guessing
  across many accounts;
- per account from this address (SIGN_IN_MAX_FAILURES_PER_ACCOUNT): one place guessing one
  account;
- per account from every address, the same limit, but it holds back only the addresses that
  have themselves failed on this account: a stranger who knows an owner's e-mail cannot lock
  the owner out, since the owner's right password from an address that has not failed still
  works.
Past its limit a count locks for 30 s after its last failure, doubling with each failure more,
never more than 5 minutes. Addresses are the client's as uvicorn gives it, after applying
TRUSTED_PROXIES (X-Forwarded-For from a trusted load balancer), so a balancer is not one address.

The check and the count are one step: `hold` serializes sign-ins for the same e-mail and
address until the transaction ends, so 60 guesses at once evaluate at most the limit.
"""
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from campaign.db import is_postgres
from campaign.models import SignInFailure, utcnow
from onramp.settings import Settings

FIRST_LOCK, LONGEST_LOCK = timedelta(seconds=30), timedelta(minutes=5)


def window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.sign_in_failure_window_minutes)


def hold(session: Session, email: str, address: str) -> None:
    """Until the transaction ends, other sign-ins for this e-mail or from this address wait."""
    if is_postgres(session.get_bind()):
        for key in sorted({f"sign-in:{email}", f"sign-in:{address}"}):  # one order: no deadlock
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:  # SQLite has one writer at a time: a write that changes nothing takes that lock now
        session.execute(update(SignInFailure).where(SignInFailure.id == -1).values(id=SignInFailure.id))


def _locked_until(count: int, last: datetime | None, limit: int) -> datetime | None:
    if count < limit or last is None:
        return None
    return last + min(FIRST_LOCK * 2 ** (count - limit), LONGEST_LOCK)


def throttled(session: Session, email: str, address: str, settings: Settings) -> bool:
    now = utcnow()
    since = now - window(settings)

    def count(*where) -> tuple[int, datetime | None]:
        return session.execute(select(func.count(), func.max(SignInFailure.at))
                               .where(SignInFailure.at > since, *where)).one()

    here, on_account = count(SignInFailure.address == address), count(SignInFailure.email == email)
    pair = count(SignInFailure.email == email, SignInFailure.address == address)
    locks = [_locked_until(*here, settings.sign_in_max_failures_per_address),
             _locked_until(*pair, settings.sign_in_max_failures_per_account)]
    if pair[0]:  # this address has failed on this account: the account's whole count holds it back
        locks.append(_locked_until(*on_account, settings.sign_in_max_failures_per_account))
    return any(until is not None and until > now for until in locks)


def count_failure(session: Session, email: str, address: str) -> None:
    session.add(SignInFailure(email=email, address=address[:64], at=utcnow()))
    session.flush()
