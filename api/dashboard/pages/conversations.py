"""One conversation handed to a person: its transcript, claiming it, replying through the
outbox, closing it (the bot resumes), and the SMS length of a reply being typed."""
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select

from api.dashboard import transcript
from api.dashboard.auth import FormDep, Viewer, ViewerDep
from api.dashboard.templating import page
from api.deps import SessionDep
from api.schemas import MAX_ID, PathId
from bot import catalog, handoff_sync
from bot.channels import sms_text
from bot.rasa_client import RasaClient, RasaUnavailable
from campaign import handoffs
from campaign.models import Account, Booking, Handoff, Shift, Volunteer
from campaign.volunteers import reach
from onramp.settings import get_settings

router = APIRouter(prefix="/dashboard", include_in_schema=False)
CANNED_PREFIX = "canned_"


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
