"""Delivery reports from providers: each (message, status) kept once, and a status only moves
forward (a late "sent" never overwrites "delivered")."""
from sqlalchemy.orm import Session

from campaign import consent, outbox_parts
from campaign.db import insert_ignore
from campaign.models import DeliveryEvent, Volunteer, utcnow

RANK = {"accepted": 0, "queued": 0, "scheduled": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4,
        "undelivered": 5, "failed": 5, "canceled": 5}
UNSUBSCRIBED_CODES = {"21610"}  # Twilio: the person texted STOP to the carrier


def record(session: Session, channel: str, provider_id: str, status: str, error_code: str | None = None) -> bool:
    """Store a report; False when it was a repeat (nothing changes)."""
    if status not in RANK:
        raise ValueError(f"unknown delivery status {status!r}")
    new = insert_ignore(session, DeliveryEvent, dict(channel=channel, provider_id=provider_id, status=status,
                                                     error_code=error_code, created_at=utcnow()),
                        ["channel", "provider_id", "status"])
    if new is None:
        return False
    row = outbox_parts.row_for(session, channel, provider_id)
    if row is not None and RANK[status] > RANK.get(row.delivery_status or "", -1):
        row.delivery_status = status
    if row is not None and error_code in UNSUBSCRIBED_CODES and row.volunteer_id:
        consent.opt_out(session, session.get(Volunteer, row.volunteer_id), channel, f"provider error {error_code}")
    return True
