"""Consent: opting out is recorded with its time, channel and words, and honoured everywhere.

The other half is the first-contact record on the volunteer (channel, time, first message,
written when their first message is stored): automated messages (outbox CONSENT_KINDS) go only
to someone who has one, checked when each row is sent (campaign/outbox.py blocked_reason).

A pending revocation (#24): a message that may have withdrawn consent ("maybe stop texting me")
is asked about once ("Reply STOP to stop"). Until the person answers, nothing automated is sent
to them (held(), asked by blocked_reason when each row is sent); replies to their own messages and
compliance messages still go. STOP (or a clear opt-out) then opts them out; anything else lifts
the hold.

blocked_reason asks this module, so this module imports nothing from campaign/outbox.py (no
circle): the rows an opt-out skips are moved here, by the status table's own rules.
"""
from sqlalchemy import update
from sqlalchemy.orm import Session

from campaign.models import OutboxRow, Volunteer, utcnow
from campaign.models.outbox import CONSENT_KINDS, OutboxKind
from campaign.outbox_status import OPEN, OutboxStatus, sources

# What a pending revocation holds back: what we start (reminders, follow-ups, the sign-up nudge,
# broadcasts). Replies to the person's own messages, notices about their own booking and
# compliance messages still go.
# A row held so is skipped with SkipReason.STOP_ASKED ("stop_asked").
HELD_KINDS = CONSENT_KINDS


def opt_out(session: Session, volunteer: Volunteer, channel: str, words: str) -> bool:
    """Returns False when the person had already opted out (so no second confirmation)."""
    if volunteer.opted_out:
        return False
    volunteer.consent_status = "opted_out"
    volunteer.consent_at = utcnow()
    volunteer.consent_source = channel
    volunteer.opt_out_words = words[:500]
    volunteer.stop_asked_at = None  # answered
    _skip_open_rows(session, volunteer.id, "opted_out")
    return True


def opt_in(session: Session, volunteer: Volunteer, channel: str, words: str) -> bool:
    """Returns False when the person was already subscribed."""
    if not volunteer.opted_out:
        return False
    volunteer.consent_status = "subscribed"
    volunteer.consent_at = utcnow()
    volunteer.consent_source = channel
    volunteer.opt_out_words = None
    volunteer.stop_asked_at = None
    return True


def ask_stop(volunteer: Volunteer) -> bool:
    """A message may have withdrawn consent: hold automated messages until the person answers.
    False when the question is already pending (it is asked once)."""
    if volunteer.opted_out or volunteer.stop_asked_at is not None:
        return False
    volunteer.stop_asked_at = utcnow()
    return True


def stop_asked(volunteer: Volunteer) -> bool:
    return volunteer.stop_asked_at is not None


def lift_hold(volunteer: Volunteer) -> bool:
    """They answered with something other than STOP: carry on. False when nothing was held."""
    if volunteer.stop_asked_at is None:
        return False
    volunteer.stop_asked_at = None
    return True


def held(volunteer: Volunteer | None, row_kind: str) -> bool:
    """Whether a row of this kind must wait for the answer to "do you want to stop?": automated
    rows do, while the question is pending (checked when each row is sent)."""
    return volunteer is not None and volunteer.stop_asked_at is not None and row_kind in HELD_KINDS


def _skip_open_rows(session: Session, volunteer_id: int, reason: str) -> int:
    """What still waits to go to this person is skipped with the reason (compliance
    confirmations excepted), in one UPDATE that makes only moves the status table allows."""
    skippable = [status for status in sources(OutboxStatus.SKIPPED) if status in OPEN]
    statement = (update(OutboxRow)
                 .where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.kind != OutboxKind.COMPLIANCE,
                        OutboxRow.status.in_(skippable))
                 .values(status=str(OutboxStatus.SKIPPED), reason=reason)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).rowcount
