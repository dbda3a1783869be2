"""Team leads: told of each new member and booking on their own channel, in their language.

Announcements wait a short while in the outbox (DIGEST_SECONDS) so that the worker can fold a
burst of them into one digest instead of a flood.
"""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import outbox
from campaign.outbox import move_where
from campaign.outbox_status import OutboxStatus
from campaign.db import is_postgres
from campaign.models import Booking, OutboxRow, Shift, Team, Volunteer, utcnow
from campaign.schedule import Cadence
from campaign.volunteers import identify, reach

LEAD_KEYS = ("lead_new_member", "lead_new_booking")


def ensure_lead_contact(session: Session, team: Team) -> Volunteer | None:
    """The lead as a contact reachable by SMS at their phone, created when first needed."""
    if team.lead_volunteer_id is not None:
        return session.get(Volunteer, team.lead_volunteer_id)
    if not team.lead_phone:
        return None
    identity = identify(session, "sms", team.lead_phone, phone=team.lead_phone, signup_source="lead")
    lead = identity.volunteer
    lead.name = lead.name or team.lead_name
    if team.lead_language and lead.language_source != "chosen":
        lead.language, lead.language_source = team.lead_language, "chosen"
    team.lead_volunteer_id = lead.id
    return lead


def team_led_by(session: Session, volunteer_id: int) -> Team | None:
    return session.scalars(select(Team).where(Team.lead_volunteer_id == volunteer_id)).first()


def _announce(session: Session, team: Team, key: str, params: dict, cadence: Cadence) -> None:
    lead = ensure_lead_contact(session, team)
    identity = reach(session, lead.id) if lead else None
    if identity is None:
        return
    hold = timedelta(seconds=cadence.lead_digest_seconds)
    outbox.enqueue(session, identity, key=key, params=params, kind="notification", send_after=utcnow() + hold)


def announce_member(session: Session, volunteer: Volunteer, team: Team, cadence: Cadence) -> None:
    if team.lead_volunteer_id == volunteer.id:
        return
    _announce(session, team, "lead_new_member", {
        "team": team.name, "name": volunteer.name or "?", "neighborhood": volunteer.neighborhood_name or volunteer.zip_code or "?",
    }, cadence)


def announce_booking(session: Session, volunteer: Volunteer, shift: Shift, cadence: Cadence) -> None:
    team = session.get(Team, shift.team_id)
    _announce(session, team, "lead_new_booking", {
        "name": volunteer.name or "?", "when": {"type": "datetime", "value": shift.starts_at.isoformat()}, "place": shift.place,
    }, cadence)


def announce_cancellation(session: Session, volunteer: Volunteer, shift: Shift) -> None:
    """A place given up close to the shift: the lead hears at once, not in a digest."""
    team = session.get(Team, shift.team_id)
    lead = ensure_lead_contact(session, team)
    identity = reach(session, lead.id) if lead else None
    if identity is None or lead.id == volunteer.id:
        return
    outbox.enqueue(session, identity, key="lead_booking_cancelled", kind="notification", params={
        "name": volunteer.name or "?", "when": {"type": "datetime", "value": shift.starts_at.isoformat()}, "place": shift.place})


def fold_into_digest(session: Session, head: OutboxRow) -> set[int]:
    """About to send an announcement to a lead: the others still waiting for the same lead go
    in it, as one digest. Each is taken only if still pending (the UPDATE checks), so another
    worker never sends one of them on its own as well. Returns the ids folded in."""
    if head.kind != "notification" or head.key not in LEAD_KEYS:
        return set()
    waiting = select(OutboxRow).where(
        OutboxRow.identity_id == head.identity_id, OutboxRow.id != head.id, OutboxRow.status == OutboxStatus.PENDING,
        OutboxRow.kind == "notification", OutboxRow.key.in_(LEAD_KEYS),
    ).order_by(OutboxRow.id)
    if is_postgres(session.get_bind()):
        waiting = waiting.with_for_update(skip_locked=True)
    folded = [row for row in list(session.scalars(waiting))
              if move_where(session, OutboxStatus.DIGESTED, OutboxRow.id == row.id, only_from={OutboxStatus.PENDING},
                            reason=f"sent in the digest of outbox row {head.id}")]
    if folded:
        head.params, head.key = digest([head, *folded]), "lead_digest"
    return {row.id for row in folded}


def announce_shift_wish(session: Session, volunteer: Volunteer, team: Team, cadence: Cadence) -> None:
    _announce(session, team, "lead_shift_wanted", {
        "name": volunteer.name or "?", "neighborhood": volunteer.neighborhood_name or volunteer.zip_code or "?",
        "times": ", ".join(volunteer.availability or []) or "?",
    }, cadence)



def digest(rows) -> dict:
    """The parameters of one digest standing for several announcements."""
    members = [r.params.get("name", "?") for r in rows if r.key == "lead_new_member"]
    bookings = [r for r in rows if r.key == "lead_new_booking"]
    team = next((r.params["team"] for r in rows if "team" in r.params), "")
    return {"count": len(members), "names": ", ".join(members) or "-", "bookings": len(bookings), "team": team}


def roster(session: Session, team: Team) -> tuple[str, dict]:
    """The catalog key and parameters of the roster of the team's next shift."""
    shift = session.scalars(
        select(Shift).where(Shift.team_id == team.id, Shift.starts_at > utcnow()).order_by(Shift.starts_at)
    ).first()
    if shift is None:
        return "lead_roster_empty", {}
    names = session.scalars(
        select(Volunteer.name).join(Booking, Booking.volunteer_id == Volunteer.id)
        .where(Booking.shift_id == shift.id, Booking.status.in_(("booked", "confirmed"))).order_by(Booking.created_at)
    ).all()
    return "lead_roster", {
        "when": {"type": "datetime", "value": shift.starts_at.isoformat()}, "place": shift.place,
        "count": len(names), "names": ", ".join(n or "?" for n in names) or "-",
    }

