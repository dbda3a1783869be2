"""Team leads: told of each new member and booking on their own channel, in their language.

Announcements wait a short while in the outbox (DIGEST_SECONDS) so that the worker can fold a
burst of them into one digest instead of a flood.
"""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import outbox
from campaign.db import is_postgres
from campaign.models import Booking, OutboxRow, Shift, Team, Volunteer, utcnow
from campaign.volunteers import identify, reach
from onramp.settings import get_settings

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


def _announce(session: Session, team: Team, key: str, params: dict) -> None:
    lead = ensure_lead_contact(session, team)
    identity = reach(session, lead.id) if lead else None
    if identity is None:
        return
    hold = timedelta(seconds=get_settings().lead_digest_seconds)
    outbox.enqueue(session, identity, key=key, params=params, kind="notification", send_after=utcnow() + hold)


def announce_member(session: Session, volunteer: Volunteer, team: Team) -> None:
    if team.lead_volunteer_id == volunteer.id:
        return
    _announce(session, team, "lead_new_member", {
        "team": team.name, "name": volunteer.name or "?", "neighborhood": volunteer.neighborhood_name or volunteer.zip_code or "?",
    })


def announce_booking(session: Session, volunteer: Volunteer, shift: Shift) -> None:
    team = session.get(Team, shift.team_id)
    _announce(session, team, "lead_new_booking", {
        "name": volunteer.name or "?", "when": {"type": "datetime", "value": shift.starts_at.isoformat()}, "place": shift.place,
    })


def announce_shift_wish(session: Session, volunteer: Volunteer, team: Team) -> None:
    _announce(session, team, "lead_shift_wanted", {
        "name": volunteer.name or "?", "neighborhood": volunteer.neighborhood_name or volunteer.zip_code or "?",
        "times": ", ".join(volunteer.availability or []) or "?",
    })


def fold_digests(session: Session, claimed: list[OutboxRow]) -> None:
    """Announcements to the same lead, claimed now or still waiting, go out as one digest.
    Runs in the claiming transaction, so no other worker can send one of them on its own."""
    groups: dict[int, list[OutboxRow]] = {}
    for row in claimed:
        if row.kind == "notification" and row.key in LEAD_KEYS:
            groups.setdefault(row.identity_id, []).append(row)
    for identity_id, rows in groups.items():
        waiting = select(OutboxRow).where(
            OutboxRow.identity_id == identity_id, OutboxRow.status == "pending",
            OutboxRow.kind == "notification", OutboxRow.key.in_(LEAD_KEYS),
        )
        if is_postgres(session.get_bind()):
            waiting = waiting.with_for_update(skip_locked=True)
        rows = rows + list(session.scalars(waiting))
        if len(rows) < 2:
            continue
        head, rest = rows[0], rows[1:]
        head.params, head.key = digest(rows), "lead_digest"
        for row in rest:
            row.status, row.last_error = "digested", f"sent in the digest of outbox row {head.id}"
    session.flush()


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
        .where(Booking.shift_id == shift.id, Booking.status == "booked").order_by(Booking.created_at)
    ).all()
    return "lead_roster", {
        "when": {"type": "datetime", "value": shift.starts_at.isoformat()}, "place": shift.place,
        "count": len(names), "names": ", ".join(n or "?" for n in names) or "-",
    }

