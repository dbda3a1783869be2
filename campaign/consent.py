"""Consent: opting out is recorded with its time, channel and words, and honoured everywhere.

The other half is the first-contact record on the volunteer (channel, time, first message,
written when their first message is stored): automated messages (outbox CONSENT_KINDS) go only
to someone who has one, checked when each row is sent (campaign/outbox.py blocked_reason)."""
from sqlalchemy.orm import Session

from campaign.models import Volunteer, utcnow
from campaign.outbox import skip_pending


def opt_out(session: Session, volunteer: Volunteer, channel: str, words: str) -> bool:
    """Returns False when the person had already opted out (so no second confirmation)."""
    if volunteer.opted_out:
        return False
    volunteer.consent_status = "opted_out"
    volunteer.consent_at = utcnow()
    volunteer.consent_source = channel
    volunteer.opt_out_words = words[:500]
    skip_pending(session, volunteer.id, "opted_out")
    return True


def opt_in(session: Session, volunteer: Volunteer, channel: str, words: str) -> bool:
    """Returns False when the person was already subscribed."""
    if not volunteer.opted_out:
        return False
    volunteer.consent_status = "subscribed"
    volunteer.consent_at = utcnow()
    volunteer.consent_source = channel
    volunteer.opt_out_words = None
    return True
