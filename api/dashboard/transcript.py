"""A conversation as an organizer reads it: the supporter, the bot, people, and the events
between them (booked, reminded, opted out, handed off), in time order."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import catalog
from bot.compose import compose
from campaign.models import Booking, Handoff, Message, OutboxRow, Shift, StageEvent, Volunteer
from onramp.settings import Settings


DASHBOARD_LANGUAGE = "en"  # the dashboard's own words; what the supporter read stays in their language


@dataclass
class Line:
    at: datetime
    who: str       # supporter, bot, organizer, event
    text: str
    detail: str = ""


def lines(session: Session, volunteer: Volunteer, settings: Settings) -> list[Line]:
    out: list[Line] = []
    for message in session.scalars(select(Message).where(Message.volunteer_id == volunteer.id, Message.direction == "in")):
        detail = message.channel + (" · kept from the bot" if message.status == "for_organizer" else "")
        out.append(Line(message.created_at, "supporter", message.body or (message.payload or {}).get("button", ""), detail))
    for row in session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer.id)):
        try:
            text = compose(session, row, settings).text
        except Exception as error:  # a row the catalogs cannot render still shows
            text = f"[{row.key}: {error}]"
        organizer = (row.params or {}).get("organizer")
        who = "organizer" if organizer else ("event" if row.kind in ("reminder", "notification", "broadcast") else "bot")
        detail = f"{row.kind} · {row.channel} · {row.status}" + (f" · {organizer}" if organizer else "")
        out.append(Line(row.sent_at or row.send_after or row.created_at, who, text, detail))
    for booking, shift in session.execute(select(Booking, Shift).join(Shift, Shift.id == Booking.shift_id)
                                          .where(Booking.volunteer_id == volunteer.id)):
        when = catalog.render("choice_shift", {"when": {"type": "datetime", "value": shift.starts_at.isoformat()}}, DASHBOARD_LANGUAGE,
                              settings.campaign_timezone)
        out.append(Line(booking.created_at, "event", f"{booking.status}: shift {when} at {shift.place}"))
    for handoff in session.scalars(select(Handoff).where(Handoff.volunteer_id == volunteer.id)):
        out.append(Line(handoff.opened_at, "event", f"handoff opened: {handoff.reason}" + (" (urgent)" if handoff.urgent else "")))
        if handoff.closed_at:
            out.append(Line(handoff.closed_at, "event", f"handoff closed: {handoff.outcome}, bot {handoff.resume_mode}"))
    if volunteer.opted_out and volunteer.consent_at:
        out.append(Line(volunteer.consent_at, "event", f"opted out ({volunteer.consent_source})"))
    for stage in session.scalars(select(StageEvent).where(StageEvent.volunteer_id == volunteer.id, StageEvent.stage == "team")):
        out.append(Line(stage.reached_at, "event", f"joined a team: {volunteer.team.name if volunteer.team else '?'}"))
    return sorted(out, key=lambda line: line.at)


def last_bot_step(session: Session, volunteer_id: int) -> str | None:
    return session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.key.is_not(None),
                                                       OutboxRow.kind == "reply").order_by(OutboxRow.id.desc()).limit(1)).first()
