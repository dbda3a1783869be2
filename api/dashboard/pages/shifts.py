"""Teams' shifts: the list, one shift with its roster, adding, changing and cancelling a shift
(the people booked are told, as through PATCH /v1/shifts), and marking attendance."""
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from api.dashboard import shift_form
from api.dashboard.auth import FormDep, Viewer, ViewerDep
from api.dashboard.templating import PAGE_SIZE, page
from api.deps import SessionDep
from api.schemas import PathId
from campaign import accounts, reminders, shifts
from campaign.models import Booking, Shift, Team, Volunteer, utcnow
from campaign.schedule import cadence_from
from campaign.shifts import booked_count
from onramp.settings import get_settings

router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _shift_counts(session, shift_ids):
    counts = {}
    for shift_id, status, n in session.execute(select(Booking.shift_id, Booking.status, func.count())
                                               .where(Booking.shift_id.in_(shift_ids)).group_by(Booking.shift_id, Booking.status)):
        counts.setdefault(shift_id, {})[status] = n
    return counts


@router.get("/shifts")
def shifts_page(request: Request, session: SessionDep, who: ViewerDep, past: int = 0, team: str = ""):
    now = utcnow()
    query = select(Shift, Team).join(Team, Team.id == Shift.team_id).where(who.team(Shift.team_id))
    if team:
        query = query.where(Team.slug == team)
    query = query.where(Shift.starts_at < now).order_by(Shift.starts_at.desc()) if past else \
        query.where(Shift.starts_at >= now).order_by(Shift.starts_at)
    rows = session.execute(query.limit(PAGE_SIZE)).all()
    teams = session.scalars(select(Team).where(who.team(Team.id)).order_by(Team.name)).all()
    return page(request, "shifts.html", who, rows=rows, counts=_shift_counts(session, [s.id for s, _ in rows]), past=past,
                teams=teams, team=team, page_size=PAGE_SIZE)


def _shift_teams(session, who: Viewer) -> list[Team]:
    return list(session.scalars(select(Team).where(who.team(Team.id)).order_by(Team.name)))


def _shift_form(request: Request, session, who: Viewer, values: dict, errors: dict | None = None, shift: Shift | None = None,
                team: Team | None = None, status_code: int = 200):
    return page(request, "shift_form.html", who, status_code=status_code, values=values, errors=errors or {}, shift=shift,
                team=team, teams=_shift_teams(session, who), timezone=get_settings().campaign_timezone,
                booked=booked_count(session, shift.id) if shift else 0)


def _own_shift(session, who: Viewer, shift_id: int) -> tuple[Shift, Team]:
    """A shift the viewer may see (a lead: their team's); another team's is a 404."""
    row = session.execute(select(Shift, Team).join(Team, Team.id == Shift.team_id)
                          .where(Shift.id == shift_id, who.team(Shift.team_id))).first()
    if row is None:
        raise HTTPException(404, "no such shift")
    return row[0], row[1]


def _to_change(request: Request, session, who: Viewer, shift_id: int) -> tuple[Shift, Team, HTMLResponse | None]:
    """A shift the viewer may see, its team, and the edit page with the reason (409) when the
    shift cannot change any more (else None)."""
    shift, team = _own_shift(session, who, shift_id)
    why = ("This shift was cancelled." if shift.cancelled_at is not None
           else "This shift has started: it can no longer be changed or cancelled." if shift.starts_at <= utcnow() else None)
    if why is None:
        return shift, team, None
    return shift, team, _shift_form(request, session, who, shift_form.of_shift(shift, get_settings().campaign_timezone),
                                    {"shift": why}, shift=shift, team=team, status_code=409)


@router.get("/shifts/new")
def new_shift_page(request: Request, session: SessionDep, who: ViewerDep):
    teams = _shift_teams(session, who)
    values = {**shift_form.BLANK, "team": teams[0].slug if len(teams) == 1 else ""}
    return _shift_form(request, session, who, values)


@router.post("/shifts/new")
def create_shift(request: Request, session: SessionDep, who: ViewerDep, form: FormDep):
    timezone = get_settings().campaign_timezone
    checked = shift_form.read(form, timezone, teams={t.slug: t.id for t in _shift_teams(session, who)})
    if checked.errors:
        return _shift_form(request, session, who, checked.values, checked.errors, status_code=422)
    shift = shifts.create_shift(session, checked.team_id, checked.starts_at, checked.ends_at, checked.place, checked.capacity)
    accounts.record_access(session, who.account, "shift_created",
                           f"shift {shift.id} ({checked.values['team']}, {shift_form.local_value(shift.starts_at, timezone)})")
    return RedirectResponse(f"/dashboard/shifts/{shift.id}?notice=created", status_code=303)


@router.get("/shifts/{shift_id}/edit")
def edit_shift_page(request: Request, session: SessionDep, who: ViewerDep, shift_id: PathId):
    shift, team, refused = _to_change(request, session, who, shift_id)
    return refused or _shift_form(
        request, session, who, shift_form.of_shift(shift, get_settings().campaign_timezone), shift=shift, team=team)


@router.post("/shifts/{shift_id}/edit")
def edit_shift(request: Request, session: SessionDep, who: ViewerDep, form: FormDep, shift_id: PathId):
    shift, team, refused = _to_change(request, session, who, shift_id)
    if refused is not None:
        return refused
    timezone = get_settings().campaign_timezone
    checked = shift_form.read(form, timezone)
    if checked.errors:
        return _shift_form(request, session, who, checked.values, checked.errors, shift=shift, team=team, status_code=422)
    was = shift_form.of_shift(shift, timezone)
    changed = {name for name in ("starts_at", "ends_at", "place", "capacity") if checked.values[name] != was[name]}
    if not changed:
        return RedirectResponse(f"/dashboard/shifts/{shift.id}?notice=unchanged", status_code=303)
    moved = bool(changed & {"starts_at", "ends_at"})
    # the same rules as PATCH /v1/shifts/{id}: reminders re-planned, the people booked told
    told = shifts.change_shift(session, shift, cadence_from(get_settings()),
                               starts_at=checked.starts_at if moved else None, ends_at=checked.ends_at if moved else None,
                               place=checked.place if "place" in changed else None,
                               capacity=checked.capacity if "capacity" in changed else None)
    accounts.record_access(session, who.account, "shift_changed", f"shift {shift.id}: " + "; ".join(
        f"{name} {was[name]} -> {checked.values[name]}" for name in sorted(changed)) + f"; {len(told)} told")
    return RedirectResponse(f"/dashboard/shifts/{shift.id}?notice=changed&told={len(told)}", status_code=303)


@router.post("/shifts/{shift_id}/cancel")
def cancel_shift(request: Request, session: SessionDep, who: ViewerDep, form: FormDep, shift_id: PathId):
    shift, team, refused = _to_change(request, session, who, shift_id)
    if refused is not None:
        return refused
    told = shifts.cancel_shift(session, shift, cadence_from(get_settings()))
    accounts.record_access(session, who.account, "shift_cancelled", f"shift {shift.id}; {len(told)} told")
    return RedirectResponse(f"/dashboard/shifts/{shift.id}?notice=cancelled&told={len(told)}", status_code=303)


@router.get("/shifts/{shift_id}")
def shift_page(request: Request, session: SessionDep, who: ViewerDep, shift_id: PathId, notice: str = "", told: int = 0):
    shift, team = _own_shift(session, who, shift_id)
    roster = session.execute(select(Booking, Volunteer).join(Volunteer, Volunteer.id == Booking.volunteer_id)
                             .where(Booking.shift_id == shift_id).order_by(Booking.status, Booking.created_at)).all()
    notices = {"created": "Shift added.", "unchanged": "Nothing to change.",
               "changed": f"Shift changed. {told} booked {'person was' if told == 1 else 'people were'} told.",
               "cancelled": f"Shift cancelled. {told} {'person was' if told == 1 else 'people were'} told."}
    return page(request, "shift.html", who, shift=shift, team=team, roster=roster, started=shift.starts_at <= utcnow(),
                notice=notices.get(notice))


@router.post("/bookings/{booking_id}/attendance")
def attendance(session: SessionDep, who: ViewerDep, form: FormDep, booking_id: PathId):
    row = session.execute(select(Booking, Shift).join(Shift, Shift.id == Booking.shift_id)
                          .where(Booking.id == booking_id, who.team(Shift.team_id))).first()
    if row is None:
        raise HTTPException(404, "no such booking")
    booking, shift = row
    if shift.starts_at > utcnow():
        raise HTTPException(409, "attendance is marked after the shift has started")
    # the lead's marking wins over the supporter's own answer, and re-plans the follow-ups
    came = "attended" if form.get("attended") == "yes" else "no_show"
    reminders.record_attendance(session, booking, came, reminders.LEAD, cadence_from(get_settings()))
    booking.attendance_marked_by = who.account.id
    return RedirectResponse(f"/dashboard/shifts/{shift.id}", status_code=303)
