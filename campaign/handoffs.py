"""Human handoff: while a handoff is open, an organizer owns the conversation, not the bot."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.models import Handoff, utcnow


def open_handoff(session: Session, volunteer_id: int) -> Handoff | None:
    return session.scalars(
        select(Handoff).where(Handoff.volunteer_id == volunteer_id, Handoff.status == "open")
    ).first()


def open_for(session: Session, volunteer_id: int, reason: str, summary: str | None = None) -> Handoff:
    handoff = open_handoff(session, volunteer_id)
    if handoff is None:
        handoff = Handoff(volunteer_id=volunteer_id, reason=reason, summary=summary, status="open")
        session.add(handoff)
        session.flush()
    return handoff


def close(session: Session, handoff: Handoff) -> None:
    handoff.status = "closed"
    handoff.closed_at = utcnow()
