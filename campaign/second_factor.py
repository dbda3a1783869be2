"""The second step of a dashboard sign-in (issue #25): a code from an authenticator app, or a
one-time recovery code; enrolment; and the roles that must have it.

- Codes are TOTP (RFC 6238: 30 s steps, 6 digits, what every authenticator app speaks), accepted
  for the step of now and one either side (a phone's clock a little off), and never twice: the
  last accepted step is kept on the account, and a code of that step or an earlier one is
  refused. The check is a conditional UPDATE, so two requests racing with one code cannot both
  pass, on SQLite or PostgreSQL.
- Ten recovery codes are made at enrolment, shown once, and stored as argon2 hashes, like
  passwords; each works once (spent by a conditional UPDATE too).
- The secret is stored as it is (`accounts.totp_secret`): the server must read it to check a
  code, and a key kept beside it, in the same settings, would protect little (README "Security").
- Enrolment shows one secret until it is confirmed (`totp_pending_secret`), so reloading the page
  shows the QR code already scanned, and only a code from it makes it the account's.

Nothing here signs anyone in: campaign/accounts.py does, with these checks.
"""
import secrets

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from campaign.models import Account, utcnow
from campaign.models.account import RecoveryCode, SecondFactorRequired

STEP_SECONDS = 30
RECOVERY_CODES = 10
RECOVERY_LENGTH = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to mistake: about 50 bits a code
_hasher = PasswordHasher()

WRONG = ("That code is not right. Type the 6 digits your authenticator app shows now (if it keeps "
         "failing, check that the phone sets its clock automatically), or one of your recovery codes.")
USED = "That code has been used already. Wait for the app to show the next one (a new code every 30 seconds)."
WRONG_RECOVERY = "That recovery code is not right, or has been used already: each recovery code works once."
NOT_A_CODE = "Type the 6 digits your authenticator app shows, or one of your recovery codes (like abcde-fghjk)."


class CodeRefused(ValueError):
    """A code that does not pass, with why, in words for the person who typed it."""


def new_secret() -> str:
    return pyotp.random_base32()  # 32 letters of base32: 160 bits, RFC 4226's recommended length


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """What the QR code holds: an authenticator app reads the secret, the account and the issuer from it."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _six_digits(text: str) -> str | None:
    code = "".join(text.split())
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def _step_of(secret: str, code: str) -> int | None:
    """The 30 s step, now or one either side, whose code this is."""
    now = int(utcnow().timestamp()) // STEP_SECONDS
    totp = pyotp.TOTP(secret)
    for step in (now, now - 1, now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_step(session: Session, account: Account, step: int) -> bool:
    """Records `step` as the account's last accepted one, unless it (or a later one) was already."""
    done = session.execute(
        update(Account).where(Account.id == account.id,
                              or_(Account.totp_last_step.is_(None), Account.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    session.expire(account, ["totp_last_step"])
    return done == 1


def check(session: Session, account: Account, text: str) -> None:
    """Passes when `text` is a current code of the account, not used before, or one of its unused
    recovery codes (now spent); raises CodeRefused with the reason otherwise."""
    if account.totp_secret is None:
        raise CodeRefused("Two-step sign-in is not set up for this account.")
    code = _six_digits(text)
    if code is not None:
        step = _step_of(account.totp_secret, code)
        if step is None:
            raise CodeRefused(WRONG)
        if not _accept_step(session, account, step):
            raise CodeRefused(USED)
        return
    recovery = _recovery_normal(text)
    if recovery is None:
        raise CodeRefused(NOT_A_CODE)
    if not _spend_recovery_code(session, account, recovery):
        raise CodeRefused(WRONG_RECOVERY)


def pending_secret(session: Session, account: Account) -> str:
    """The secret to show while enrolling: the same one until a code from it is confirmed."""
    if account.totp_pending_secret is None:
        account.totp_pending_secret = new_secret()
        session.flush()
    return account.totp_pending_secret


def confirm_enrolment(session: Session, account: Account, text: str) -> list[str]:
    """A code from the secret shown makes it the account's; the new recovery codes, to show once."""
    secret = account.totp_pending_secret
    if account.totp_secret is not None:
        raise CodeRefused("Two-step sign-in is already set up for this account.")
    if secret is None:
        raise CodeRefused("This set-up has expired: reload the page and scan the new QR code.")
    code = _six_digits(text)
    if code is None:
        raise CodeRefused("Type the 6 digits the authenticator app shows for this account, without letters.")
    step = _step_of(secret, code)
    if step is None:
        raise CodeRefused("That code does not match the QR code on this page. Scan it (or type the key) again, "
                          "then type the 6 digits the app shows now; check that the phone sets its clock automatically.")
    done = session.execute(
        update(Account).where(Account.id == account.id, Account.totp_pending_secret == secret, Account.totp_secret.is_(None))
        .values(totp_secret=secret, totp_pending_secret=None, totp_last_step=step, totp_enrolled_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.expire(account, ["totp_secret", "totp_pending_secret", "totp_last_step", "totp_enrolled_at"])
    if done != 1:
        raise CodeRefused("Two-step sign-in was set up a moment ago, in another window.")
    return new_recovery_codes(session, account)


def remove(session: Session, account: Account) -> None:
    """No second step any more (a lost phone): the secret and the recovery codes are gone."""
    account.totp_secret = account.totp_pending_secret = account.totp_last_step = account.totp_enrolled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    session.flush()


def _recovery_normal(text: str) -> str | None:
    code = "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())
    return code if len(code) == RECOVERY_LENGTH else None


def new_recovery_codes(session: Session, account: Account) -> list[str]:
    """Ten new one-time codes, replacing any left; only their hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(account_id=account.id, code_hash=_hasher.hash(code), created_at=utcnow()) for code in codes)
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _spend_recovery_code(session: Session, account: Account, code: str) -> bool:
    unused = session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id,
                                                        RecoveryCode.used_at.is_(None)).order_by(RecoveryCode.id))
    for row in list(unused):
        try:
            _hasher.verify(row.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        return session.execute(update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                               .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1
    return False


def recovery_codes_left(session: Session, account: Account) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)))


def required(session: Session, role: str) -> bool:
    return session.get(SecondFactorRequired, role) is not None


def set_required(session: Session, role: str, on: bool) -> None:
    found = session.get(SecondFactorRequired, role)
    if on and found is None:
        session.add(SecondFactorRequired(role=role, since=utcnow()))
    elif not on and found is not None:
        session.delete(found)
    session.flush()


def required_roles(session: Session) -> set[str]:
    return set(session.scalars(select(SecondFactorRequired.role)))
