"""The dashboard's pages. Every query goes through the viewer's scope (auth.Viewer)."""
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, or_, select

from api import csv_cells
from api.dashboard import charts, shift_form, transcript
from api.dashboard.auth import (LOGIN_CSRF_COOKIE, SESSION_COOKIE, FormDep, Viewer, ViewerDep, admins_only, client_address,
                                organizers_only, set_cookie)
from api.deps import SessionDep, SettingsDep
from api.schemas import MAX_ID, PathId, QueryId
from bot import catalog, handoff_sync
from bot.channels import sms_text
from bot.rasa_client import RasaClient, RasaUnavailable
from campaign import accounts, funnel, handoffs, outbox, outbox_status, reminders, shifts
from campaign.models import (Account, Booking, FUNNEL_STAGES, Handoff, Identity, Message, OutboxRow, Shift, Team,
                             Volunteer, utcnow)
from campaign.outbox_status import OutboxStatus
from campaign.schedule import cadence_from
from campaign.shifts import booked_count
from campaign.volunteers import reach
from onramp.settings import get_settings

router = APIRouter(prefix="/dashboard", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CANNED_PREFIX = "canned_"
FOLDERS = ("mine", "unassigned", "team", "all")
PAGE_SIZE = 30  # a table shows the first rows; search, filters and the CSV reach everyone
# what an organizer may do to a row: the moves campaign.outbox_status allows by hand
RETRYABLE = tuple(s for s in outbox_status.sources(OutboxStatus.PENDING, by_hand=True)
                  if s not in outbox_status.sources(OutboxStatus.PENDING))
CANCELLABLE = tuple(outbox_status.sources(OutboxStatus.CANCELLED, by_hand=True))


def page(request: Request, name: str, who: Viewer | None, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "now": utcnow(), **context}, status_code=status_code)


def waited(since: datetime) -> str:
    minutes = int((utcnow() - since).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


templates.env.filters["waited"] = waited
templates.env.filters["local"] = lambda value: value.astimezone(_zone()).strftime("%a %d %b %H:%M") if value else ""


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(get_settings().campaign_timezone)


# --- signing in -------------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request):
    return login_page(request)


def login_page(request: Request, error: str | None = None, status_code: int = 200):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", None, status_code=status_code, csrf=token, error=error)
    set_cookie(response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep):
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(str(form.get("csrf_token", "")).encode(), expected.encode()):
        raise HTTPException(403, "this form has expired or did not come from the dashboard: reload the page")
    try:
        signed = accounts.sign_in(session, str(form.get("email", "")), str(form.get("password", "")), client_address(request),
                                  settings)
    except accounts.Throttled as error:
        return login_page(request, str(error), status_code=429)
    if signed is None:
        return login_page(request, "Wrong email or password.", status_code=401)
    response = RedirectResponse("/dashboard/inbox", status_code=303)
    set_cookie(response, SESSION_COOKIE, signed.token, max_age=settings.dashboard_session_days * 86400)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, who: ViewerDep, form: FormDep):
    accounts.sign_out(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response


@router.get("")
@router.get("/")
def home(who: ViewerDep):
    return RedirectResponse("/dashboard/inbox", status_code=303)


# --- inbox --------------------------------------------------------------------------------

def _inbox_rows(session, who: Viewer, folder: str):
    query = (select(Handoff, Volunteer, Team).join(Volunteer, Volunteer.id == Handoff.volunteer_id)
             .outerjoin(Team, Team.id == Volunteer.team_id)
             .where(Handoff.status == handoffs.Status.open, who.people()))
    if folder == "mine":
        query = query.where(Handoff.assigned_account_id == who.account.id)
    elif folder == "unassigned":
        query = query.where(Handoff.assigned_account_id.is_(None))
    elif folder == "team" and who.account.team_id:
        query = query.where(Volunteer.team_id == who.account.team_id)
    rows = session.execute(query.order_by(Handoff.urgent.desc(), Handoff.opened_at)).all()
    channels = {vid: ch for vid, ch in session.execute(
        select(Identity.volunteer_id, Identity.channel).where(Identity.volunteer_id.in_([v.id for _, v, _ in rows]))
        .order_by(Identity.last_inbound_at.asc().nulls_first()))}
    owners = {a.id: a.email for a in session.scalars(select(Account))}
    return [dict(handoff=h, volunteer=v, team=t, channel=channels.get(v.id, "?"), owner=owners.get(h.assigned_account_id))
            for h, v, t in rows]


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, who: ViewerDep, folder: str = "all"):
    folder = folder if folder in FOLDERS else "all"
    return page(request, "inbox.html", who, folder=folder, rows=_inbox_rows(session, who, folder), folders=FOLDERS)


@router.get("/inbox/rows")
def inbox_rows(request: Request, session: SessionDep, who: ViewerDep, folder: str = "all"):
    """The inbox's table body, polled by the page so that it updates by itself."""
    folder = folder if folder in FOLDERS else "all"
    return page(request, "_inbox_rows.html", who, rows=_inbox_rows(session, who, folder))


# --- conversation ---------------------------------------------------------------------------

def _handoff(session, who: Viewer, handoff_id: int) -> tuple[Handoff, Volunteer]:
    row = session.execute(select(Handoff, Volunteer).join(Volunteer, Volunteer.id == Handoff.volunteer_id)
                          .where(Handoff.id == handoff_id, who.people())).first()
    if row is None:
        raise HTTPException(404, "no such conversation")
    return row[0], row[1]


def _canned(language: str) -> list[tuple[str, str]]:
    texts = catalog.load(language if language in catalog.available() else "en")
    return [(key, text) for key, text in texts.items() if key.startswith(CANNED_PREFIX)]


@router.get("/conversations/{handoff_id}")
def conversation_page(request: Request, session: SessionDep, who: ViewerDep, handoff_id: PathId, notice: str | None = None):
    return conversation(request, session, who, handoff_id, notice)


def conversation(request: Request, session, who: Viewer, handoff_id: int, notice: str | None = None, status_code: int = 200):
    handoff, volunteer = _handoff(session, who, handoff_id)
    settings = get_settings()
    identity = reach(session, volunteer.id)
    blocked, template_only = handoffs.reply_block(session, volunteer, identity)
    bookings = session.execute(select(Booking, Shift).join(Shift, Shift.id == Booking.shift_id)
                               .where(Booking.volunteer_id == volunteer.id).order_by(Shift.starts_at)).all()
    language = volunteer.language or settings.default_language
    canned = [(key, catalog.render(key, {"name": volunteer.name or "", "campaign": settings.campaign_name}, language,
                                   settings.campaign_timezone)) for key, _ in _canned(language)]
    assignable = list(session.scalars(select(Account).where(Account.disabled.is_(False)).order_by(Account.email))) \
        if who.sees_everything else [who.account]
    return page(request, "conversation.html", who, status_code=status_code, handoff=handoff, volunteer=volunteer,
                identity=identity, lines=transcript.lines(session, volunteer, settings), blocked=blocked,
                template_only=template_only, bookings=bookings, canned=canned, assignable=assignable,
                last_step=transcript.last_bot_step(session, volunteer.id), notice=notice,
                outcomes=handoffs.OUTCOMES, window_open=identity is not None and handoffs.window_open(identity),
                whatsapp=identity is not None and identity.channel in handoffs.WHATSAPP_CHANNELS)


def _account_id(session, value) -> int | None:
    """An account id posted by a form: 0 for nobody, else an account that exists (422 otherwise)."""
    text = str(value).strip()
    if not text.isdigit() or int(text) > MAX_ID:
        raise HTTPException(422, f"account_id must be an account's id, not {text[:40]!r}")
    if int(text) == 0:
        return None
    if session.get(Account, int(text)) is None:
        raise HTTPException(422, f"there is no account {text}")
    return int(text)


@router.post("/conversations/{handoff_id}/claim")
def claim(session: SessionDep, who: ViewerDep, form: FormDep, handoff_id: PathId):
    handoff, _ = _handoff(session, who, handoff_id)
    account_id = who.account.id
    if form.get("account_id") and who.sees_everything:
        account_id = _account_id(session, form["account_id"])
    handoffs.assign(session, handoff, account_id)
    return RedirectResponse(f"/dashboard/conversations/{handoff_id}", status_code=303)


@router.post("/conversations/{handoff_id}/reply")
def send_reply(request: Request, session: SessionDep, who: ViewerDep, form: FormDep, handoff_id: PathId):
    handoff, _ = _handoff(session, who, handoff_id)
    key = form.get("key") or None
    if key is not None and not key.startswith(CANNED_PREFIX):
        raise HTTPException(422, "only a saved reply can be sent by its name")
    try:
        handoffs.reply(session, handoff, who.account, text=None if key else str(form.get("text", "")), key=key)
    except handoffs.HandoffError as error:
        session.rollback()
        return conversation(request, session, who, handoff_id, notice=str(error), status_code=409)
    return RedirectResponse(f"/dashboard/conversations/{handoff_id}?notice=sent", status_code=303)


@router.post("/conversations/{handoff_id}/close")
async def close(request: Request, session: SessionDep, who: ViewerDep, form: FormDep, handoff_id: PathId):
    handoff, volunteer = _handoff(session, who, handoff_id)
    outcome = form.get("outcome") if form.get("outcome") in handoffs.OUTCOMES else "resolved"
    mode = form.get("resume_mode") or handoffs.ResumeMode.quiet
    if mode not in {m.value for m in handoffs.ResumeMode}:
        raise HTTPException(422, "resume_mode is continue or quiet")
    if form.get("name", "").strip() and form["name"].strip() != (volunteer.name or ""):
        volunteer.name = form["name"].strip()[:120]  # the organizer's correction, handed to the bot
    session.commit()  # nothing held open while Rasa is asked
    rasa = RasaClient(get_settings())
    try:
        await handoff_sync.close(rasa, handoff.id, who.account.id, outcome, mode)
    except RasaUnavailable:
        return conversation(request, session, who, handoff_id, status_code=503,
                            notice="The bot is not reachable, so the conversation stays with you. Try again in a minute.")
    except handoffs.HandoffError:  # closed meanwhile, from another tab or by someone else
        pass
    finally:
        await rasa.aclose()
    return RedirectResponse("/dashboard/inbox?closed=1", status_code=303)


@router.get("/segments")
def segments(who: ViewerDep, text: str = ""):
    """How many SMS parts a reply will travel in, for the reply box."""
    return JSONResponse({"segments": len(sms_text.segments(text)), "encoding": "GSM-7" if sms_text.is_gsm(text) else "UCS-2",
                         "characters": len(text)})


# --- volunteers ---------------------------------------------------------------------------------

def _volunteer_query(who: Viewer, q: str = "", language: str = "", team: str = "", stage: str = ""):
    last = (select(Message.volunteer_id, func.max(Message.created_at).label("last"))
            .where(Message.direction == "in").group_by(Message.volunteer_id).subquery())
    query = (select(Volunteer, Team, last.c.last).outerjoin(Team, Team.id == Volunteer.team_id)
             .outerjoin(last, last.c.volunteer_id == Volunteer.id)
             .where(who.people(), Volunteer.signup_source.is_(None) | (Volunteer.signup_source != "lead")))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Volunteer.name.ilike(like), Volunteer.zip_code.ilike(like),
                                Volunteer.id.in_(select(Identity.volunteer_id).where(Identity.external_id.ilike(like)))))
    if language:
        query = query.where(Volunteer.language == language)
    if team:
        query = query.where(Team.slug == team)
    if stage:
        query = query.where(Volunteer.stage == stage)
    return query.order_by(last.c.last.desc().nulls_last(), Volunteer.id.desc())


@router.get("/volunteers")
def volunteers(request: Request, session: SessionDep, who: ViewerDep, q: str = "", language: str = "", team: str = "",
               stage: str = ""):
    rows = session.execute(_volunteer_query(who, q, language, team, stage).limit(PAGE_SIZE)).all()
    total = session.scalar(select(func.count()).select_from(_volunteer_query(who, q, language, team, stage).subquery()))
    teams = session.scalars(select(Team).where(who.team(Team.id)).order_by(Team.name)).all()
    return page(request, "volunteers.html", who, rows=rows, total=total, page_size=PAGE_SIZE, teams=teams, languages=get_settings().languages,
                filters=dict(q=q, language=language, team=team, stage=stage),
                stages=("new", "onboarding", "assigned", "booked"))


@router.get("/volunteers.csv")
def volunteers_csv(session: SessionDep, who: ViewerDep, q: str = "", language: str = "", team: str = "", stage: str = "",
                   id: QueryId | None = None):
    query = _volunteer_query(who, q, language, team, stage)
    if id is not None:
        query = query.where(Volunteer.id == id)
    rows = session.execute(query).all()
    if id is not None and not rows:
        raise HTTPException(404, "no such volunteer")
    text = csv_cells.table(
        ["id", "name", "language", "neighborhood", "zip_code", "team", "stage", "source", "last_message"],
        ([volunteer.id, volunteer.name or "", volunteer.language or "", volunteer.neighborhood_name or "",
          volunteer.zip_code or "", team_row.name if team_row else "", volunteer.stage,
          volunteer.signup_source or "", last.isoformat() if last else ""] for volunteer, team_row, last in rows))
    accounts.record_access(session, who.account, "csv_exported",
                           f"{len(rows)} volunteers; filters q={q!r} language={language!r} team={team!r} stage={stage!r} id={id}")
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="volunteers.csv"'})


@router.get("/volunteers/{volunteer_id}")
def person(request: Request, session: SessionDep, who: ViewerDep, volunteer_id: PathId):
    volunteer = session.scalars(select(Volunteer).where(Volunteer.id == volunteer_id, who.people())).one_or_none()
    if volunteer is None:
        raise HTTPException(404, "no such volunteer")
    accounts.record_access(session, who.account, "person_viewed", f"volunteer {volunteer.id}")
    handoff = handoffs.open_handoff(session, volunteer.id)
    return page(request, "person.html", who, volunteer=volunteer, handoff=handoff,
                identities=session.scalars(select(Identity).where(Identity.volunteer_id == volunteer.id)).all(),
                lines=transcript.lines(session, volunteer, get_settings()))


# --- teams and shifts ----------------------------------------------------------------------------

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


# --- funnel ---------------------------------------------------------------------------------------

# a funnel's dates: within them, the day after the end and the default start (30 days before the
# end) are dates too (9999-12-31 + 1 day is not), and the database can compare them
FunnelDate = Annotated[date, Query(ge=date(1970, 1, 31), le=date(9999, 12, 30))]


@router.get("/funnel")
def funnel_page(request: Request, session: SessionDep, who: ViewerDep, start: FunnelDate | None = None,
                end: FunnelDate | None = None, split: str = ""):
    end = end or utcnow().date()
    start = start or end - timedelta(days=30)
    split = split if split in funnel.SPLITS else ""
    result = funnel.cohort(session, datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC),
                           scope=who.people(), split=split or None)
    return page(request, "funnel.html", who, funnel=result, start=start, end=end, split=split, splits=funnel.SPLITS,
                chart=charts.funnel_svg(result), labels=STAGE_LABELS)


STAGE_LABELS = {"first_message": "First message", "name": "Name", "place": "Place", "availability": "Availability",
                "team": "Team", "booked": "Booked", "attended": "Attended"}
assert set(STAGE_LABELS) == set(FUNNEL_STAGES)
charts.LABELS.update(STAGE_LABELS)


# --- outbox --------------------------------------------------------------------------------------

OUTBOX_SHOWN = ("pending", "waiting", "failed", "unknown")


@router.get("/outbox")
def outbox_page(request: Request, session: SessionDep, who: Viewer = Depends(organizers_only), status: str = "",
                notice: str | None = None):
    return _outbox(request, session, who, status, notice)


def _outbox(request: Request, session, who: Viewer, status: str = "", notice: str | None = None, error: str | None = None,
            status_code: int = 200):
    query = select(OutboxRow).where(OutboxRow.status.in_((status,) if status in OUTBOX_SHOWN else OUTBOX_SHOWN))
    rows = session.scalars(query.order_by(OutboxRow.send_after.desc()).limit(200)).all()
    counts = dict(session.execute(select(OutboxRow.status, func.count()).where(OutboxRow.status.in_(OUTBOX_SHOWN))
                                  .group_by(OutboxRow.status)).all())
    names = dict(session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_({r.volunteer_id for r in rows}))).all())
    return page(request, "outbox.html", who, status_code=status_code, rows=rows, counts=counts, status=status, notice=notice,
                error=error, names=names, retryable=RETRYABLE, cancellable=CANCELLABLE)


STATUS_WORDS = {"pending": "scheduled", "sending": "being sent right now", "waiting": "held"}


def _refused(request: Request, session, who: Viewer, row: OutboxRow, doing: str):
    """The outbox page again, saying why this row cannot be retried or cancelled (409)."""
    session.rollback()
    status = session.scalar(select(OutboxRow.status).where(OutboxRow.id == row.id))
    why = f"Row {row.id} is {STATUS_WORDS.get(status, status)}, so it cannot be {doing}: nothing was changed."
    return _outbox(request, session, who, error=why, status_code=409)


def _outbox_row(session, row_id: int) -> OutboxRow:
    row = session.get(OutboxRow, row_id)
    if row is None:
        raise HTTPException(404, "no such outbox row")
    return row


@router.post("/outbox/{row_id}/retry")
def outbox_retry(request: Request, session: SessionDep, form: FormDep, row_id: PathId, who: Viewer = Depends(organizers_only)):
    row = _outbox_row(session, row_id)
    if row.status not in RETRYABLE:
        return _refused(request, session, who, row, "retried")
    if row.status == "unknown" and form.get("confirm") != "yes":
        return page(request, "confirm_retry.html", who, row=row, status_code=409)
    was = row.status
    # only from the status read: a worker that claimed the row meanwhile keeps it
    moved = outbox.move_where(
        session, OutboxStatus.PENDING, OutboxRow.id == row.id, only_from={OutboxStatus(was)}, by_hand=True,
        reason=f"retried by {who.account.email}", send_after=utcnow(),
        last_error=f"retried from {was} by {who.account.email}; was: {row.last_error or ''}"[:2000])
    if not moved:
        return _refused(request, session, who, row, "retried")
    accounts.record_access(session, who.account, "outbox_retried", f"outbox {row.id} ({was})")
    return RedirectResponse("/dashboard/outbox?notice=retried", status_code=303)


@router.post("/outbox/{row_id}/cancel")
def outbox_cancel(request: Request, session: SessionDep, form: FormDep, row_id: PathId, who: Viewer = Depends(organizers_only)):
    row = _outbox_row(session, row_id)
    if row.status not in CANCELLABLE:
        return _refused(request, session, who, row, "cancelled")
    was = row.status
    moved = outbox.move_where(session, OutboxStatus.CANCELLED, OutboxRow.id == row.id, only_from={OutboxStatus(was)},
                              by_hand=True, reason=f"cancelled by {who.account.email}",
                              last_error=f"cancelled by {who.account.email}")
    if not moved:
        return _refused(request, session, who, row, "cancelled")
    accounts.record_access(session, who.account, "outbox_cancelled", f"outbox {row.id} ({was})")
    return RedirectResponse("/dashboard/outbox?notice=cancelled", status_code=303)


# --- accounts and the access log (admins) ------------------------------------------------------

@router.get("/accounts")
def accounts_page(request: Request, session: SessionDep, who: Viewer = Depends(admins_only)):
    teams = {t.id: t.name for t in session.scalars(select(Team))}
    return page(request, "accounts.html", who, accounts=accounts.list_all(session), teams=teams, log=accounts.access_log(session))


@router.post("/accounts/{account_id}/disable")
def account_disable(session: SessionDep, form: FormDep, account_id: PathId, who: Viewer = Depends(admins_only)):
    account = session.get(Account, account_id)
    if account is None:
        raise HTTPException(404, "no such account")
    accounts.disable(session, account.email)
    return RedirectResponse("/dashboard/accounts", status_code=303)
