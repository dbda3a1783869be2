"""Volunteers: read, update what the bot learned, assign a team, offer and book shifts."""
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from api.schemas import PathId, QueryId, QueryOffset
from api.deps import SessionDep, SettingsDep, StampChecked
from api.schemas import (AlternativeOut, AssignmentIn, AssignmentOut, BookingIn, BookingOut, HandoffIn, HandoffOut,
                         OptOutIn, ScheduledOut, ShiftOut, ShiftWishOut, TeamOut, VolunteerOut, VolunteerPage,
                         VolunteerPatch)
from campaign import assignment, consent, handoffs, reminders, shifts
from campaign.schedule import cadence_from
from campaign.models import Neighborhood, Team, Volunteer

router = APIRouter(prefix="/v1/volunteers", tags=["volunteers"])


def _volunteer(session: SessionDep, volunteer_id: PathId) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise HTTPException(404, f"volunteer {volunteer_id} does not exist")
    return volunteer


def to_out(volunteer: Volunteer) -> VolunteerOut:
    return VolunteerOut.model_validate(volunteer)


def scheduled_out(row, zone) -> ScheduledOut:
    return ScheduledOut(id=row.id, kind=row.kind, key=row.key, status=row.status, reason=row.reason,
                        send_at=row.send_after.astimezone(zone), deadline=row.deadline.astimezone(zone) if row.deadline else None,
                        booking_id=row.booking_id, shift_id=row.shift_id, volunteer_id=row.volunteer_id, channel=row.channel)


def shift_out(session: SessionDep, shift) -> ShiftOut:
    out = ShiftOut.model_validate(shift)
    out.booked = shifts.booked_count(session, shift.id)
    return out


@router.get("", response_model=VolunteerPage)
def list_volunteers(session: SessionDep, team_id: QueryId | None = None, stage: str | None = None,
                    language: str | None = None, limit: int = Query(50, ge=1, le=500), offset: QueryOffset = 0):
    query = select(Volunteer)
    for column, value in ((Volunteer.team_id, team_id), (Volunteer.stage, stage), (Volunteer.language, language)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Volunteer.id).limit(limit).offset(offset))
    return VolunteerPage(items=[to_out(v) for v in rows], total=total or 0)


@router.get("/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(session: SessionDep, volunteer_id: PathId):
    return to_out(_volunteer(session, volunteer_id))


@router.patch("/{volunteer_id}", response_model=VolunteerOut, dependencies=[StampChecked])
def update_volunteer(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, patch: VolunteerPatch):
    volunteer = _volunteer(session, volunteer_id)
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("neighborhood_id") is not None and session.get(Neighborhood, changes["neighborhood_id"]) is None:
        raise HTTPException(422, f"neighborhood_id {changes['neighborhood_id']} does not exist")
    if "language" in changes and changes["language"] not in settings.languages:
        raise HTTPException(422, f"language {changes['language']!r} is not one of {settings.languages}")
    for name, value in changes.items():
        setattr(volunteer, name, value)
    session.flush()
    session.refresh(volunteer)  # so the answer shows the new neighborhood, not the old one
    return to_out(volunteer)


@router.post("/{volunteer_id}/assignment", response_model=AssignmentOut, dependencies=[StampChecked])
def assign_team(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, body: AssignmentIn | None = None):
    """Assign by the volunteer's neighborhood or ZIP (and say why), or override with a team."""
    volunteer = _volunteer(session, volunteer_id)
    team = None
    if body and body.team_id is not None:
        team = session.get(Team, body.team_id)
        if team is None:
            raise HTTPException(422, f"team_id {body.team_id} does not exist")
    before = volunteer.team_id
    result = assignment.assign(session, volunteer, cadence_from(settings), team=team, reason=body.reason if body else None)
    return AssignmentOut(team=TeamOut.model_validate(result.team), reason=result.reason, code=result.code,
                         joined=result.team.id != before)


@router.get("/{volunteer_id}/shift-offers", response_model=list[ShiftOut])
def shift_offers(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, limit: int = Query(3, ge=1, le=10)):
    """The next shifts of the volunteer's team that fit their availability."""
    volunteer = _volunteer(session, volunteer_id)
    found = shifts.upcoming_fitting(session, volunteer, settings.campaign_timezone, limit=limit)
    return [shift_out(session, s) for s in found]


@router.get("/{volunteer_id}/shift-alternatives", response_model=list[AlternativeOut])
def shift_alternatives(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, limit: int = Query(3, ge=1, le=9)):
    """When no shift of the team fits: other times of the team, and nearby teams' shifts that fit."""
    volunteer = _volunteer(session, volunteer_id)
    found = shifts.alternatives(session, volunteer, settings.campaign_timezone, limit=limit)
    return [AlternativeOut(**shift_out(session, s).model_dump(), team_name=s.team.name,
                           own_team=s.team_id == volunteer.team_id) for s in found]


@router.post("/{volunteer_id}/shift-wish", response_model=ShiftWishOut, status_code=201, dependencies=[StampChecked])
def shift_wish(session: SessionDep, settings: SettingsDep, volunteer_id: PathId):
    """The volunteer wants to be told when a shift that fits opens: their team lead is told."""
    return ShiftWishOut(lead_told=shifts.wish_for_shift(session, _volunteer(session, volunteer_id), cadence_from(settings)))


NOT_BOOKABLE = {409: {"description": "The shift cannot be booked; `reason` says why: \"shift cancelled\", "
                                     "\"shift already started\", or not this volunteer's to book.",
                      "content": {"application/json": {"example": {"error": "shift 1 cannot be booked: shift cancelled",
                                                                   "reason": "shift cancelled"}}}}}


@router.post("/{volunteer_id}/bookings", response_model=BookingOut, status_code=201, dependencies=[StampChecked],
             responses=NOT_BOOKABLE)
def book_shift(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, body: BookingIn):
    volunteer = _volunteer(session, volunteer_id)
    try:
        booking = shifts.book(session, volunteer, body.shift_id, cadence_from(settings))
    except LookupError as error:
        raise HTTPException(404, str(error)) from error
    except shifts.NotBookable as error:  # the domain decides (cancelled, started, not theirs); we say why
        return JSONResponse(status_code=409, content={"error": str(error), "reason": error.reason})
    note = reminders.note_for(session, booking) if booking.status in reminders.HOLDING else None
    return BookingOut(id=booking.id, status=booking.status, shift=shift_out(session, booking.shift), reminders=note)


@router.post("/{volunteer_id}/bookings/cancel-next", response_model=BookingOut | None, dependencies=[StampChecked])
def cancel_next_booking(session: SessionDep, settings: SettingsDep, volunteer_id: PathId):
    """Cancel the volunteer's next booking; null when there was none."""
    booking = shifts.cancel(session, _volunteer(session, volunteer_id), cadence_from(settings))
    if booking is None:
        return None
    return BookingOut(id=booking.id, status=booking.status, shift=shift_out(session, booking.shift))


@router.get("/{volunteer_id}/scheduled", response_model=list[ScheduledOut])
def scheduled(session: SessionDep, settings: SettingsDep, volunteer_id: PathId):
    """What is planned for this person: reminders, follow-ups and notices, with their local send
    time, deadline, status and the reason for a skip."""
    _volunteer(session, volunteer_id)
    zone = cadence_from(settings).zone
    return [scheduled_out(row, zone) for row in reminders.scheduled(session, volunteer_id)]


@router.post("/{volunteer_id}/handoffs", response_model=HandoffOut, status_code=201, dependencies=[StampChecked])
def open_handoff(session: SessionDep, settings: SettingsDep, volunteer_id: PathId, body: HandoffIn):
    volunteer = _volunteer(session, volunteer_id)
    return handoffs.open_for(session, volunteer.id, body.reason, body.summary, settings=settings)


@router.post("/{volunteer_id}/opt-out", response_model=VolunteerOut, dependencies=[StampChecked])
def opt_out(session: SessionDep, volunteer_id: PathId, body: OptOutIn):
    """Record a natural-language opt-out that the model recognized ("stop texting me")."""
    volunteer = _volunteer(session, volunteer_id)
    consent.opt_out(session, volunteer, body.channel, body.words)
    return to_out(volunteer)
