"""Delivery reports, in neutral words (each channel adapter translates its provider's): each
(message, status) kept once, and a status only moves forward (a late "sent" never overwrites
"delivered"). A report may also say the person opted out or cannot be reached there."""
from enum import StrEnum

from sqlalchemy.orm import Session

from campaign import consent, outbox_parts
from campaign.db import insert_ignore
from campaign.models import DeliveryEvent, Identity, Volunteer, utcnow


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


RANK = {DeliveryStatus.QUEUED: 0, DeliveryStatus.SENDING: 1, DeliveryStatus.SENT: 2, DeliveryStatus.DELIVERED: 3,
        DeliveryStatus.READ: 4, DeliveryStatus.FAILED: 5}


class ContactEvent(StrEnum):
    """What a provider may say about the person besides a status."""

    OPTED_OUT = "opted_out"  # unsubscribed at the provider (texted STOP to the carrier)
    UNREACHABLE = "unreachable"  # cannot receive messages on this channel (blocked the bot)


def record(session: Session, channel: str, provider_id: str, status: str, error_code: str | None = None,
           event: ContactEvent | None = None) -> bool:
    """Store a report; False when it was a repeat (nothing changes). `error_code` is the
    provider's own code, kept for the record only."""
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
    if row is not None and event == ContactEvent.OPTED_OUT and row.volunteer_id:
        consent.opt_out(session, session.get(Volunteer, row.volunteer_id), channel, f"provider error {error_code}")
    if row is not None and event == ContactEvent.UNREACHABLE and row.identity_id:
        session.get(Identity, row.identity_id).unreachable = True
    return True
