"""The web chat channel: a page at /chat and its JSON endpoints (post a message, poll replies)."""
import json
from pathlib import Path

import jinja2
from babel import negotiate_locale
from fastapi import APIRouter, Cookie, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.deps import SessionDep
from bot import catalog
from bot.channels import webchat
from bot.pipeline.receive import receive
from campaign.db import session_scope
from campaign.models import Message
from campaign.volunteers import find_identity
from onramp.settings import get_settings

router = APIRouter(tags=["web chat"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "chat.html"
MAX_BODY = 64 * 1024


PAGE_KEYS = ("webchat_title", "webchat_header", "webchat_placeholder", "webchat_send", "webchat_message_label",
             "webchat_not_sent")
LANGUAGE_COOKIE = "onramp_lang"   # set by the page once the conversation's language is known
_pages = jinja2.Environment(loader=jinja2.FileSystemLoader(PAGE.parent), autoescape=True)


def page_language(accept_language: str | None, conversation: str | None, languages: list[str], default: str) -> str:
    """The conversation's language when the page knows it, else the browser's best match among
    the campaign's languages ("es-MX,es;q=0.9" → es, "zh-Hant-TW" → zh), else the default."""
    if conversation in languages:
        return conversation
    ranked = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    preferred = [tag for _, _, tag in sorted(ranked)]
    return negotiate_locale(preferred, languages, sep="-") or default


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
def chat_page(request: Request, accept_language: str | None = Header(None),
              conversation: str | None = Cookie(None, alias=LANGUAGE_COOKIE)):
    settings = get_settings()
    languages = [lang for lang in settings.languages if lang in catalog.available()]
    lang = page_language(accept_language, conversation, languages, settings.default_language)
    params = {"campaign": settings.campaign_name}

    def words(language: str) -> dict[str, str]:
        return {key: catalog.render(key, params, language, settings.campaign_timezone) for key in PAGE_KEYS}

    html = _pages.get_template(PAGE.name).render(
        lang=lang, dir="rtl" if lang in catalog.RTL else "ltr", t=words(lang),
        words={language: words(language) for language in languages}, rtl=sorted(catalog.RTL))
    return HTMLResponse(html, headers={"Vary": "Accept-Language, Cookie", "Content-Language": lang})


def _store(inbound) -> tuple[int, bool]:
    with session_scope() as session:
        return receive(session, inbound)


@router.post("/chat/api/messages", status_code=202)
async def post_message(request: Request):
    """Store the message and acknowledge; the reply arrives through GET /chat/api/messages."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, f"the request body is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(400, f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    try:
        inbound = webchat.parse(body)
    except webchat.BadRequest as error:
        raise HTTPException(422, str(error)) from error
    # acknowledged only once it is committed; in a thread, so the event loop never waits on a lock
    message_id, created = await run_in_threadpool(_store, inbound)
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.nudge()
    return {"id": message_id, "duplicate": not created}


@router.get("/chat/api/messages")
def poll_messages(session: SessionDep, session_id: str = Query(..., alias="session", min_length=8, max_length=64),
                  after: int = Query(0, ge=0)):
    """The conversation since message `after`, both directions, oldest first."""
    identity = find_identity(session, "webchat", session_id)
    if identity is None:
        return {"messages": []}
    rows = session.scalars(
        select(Message).where(Message.identity_id == identity.id, Message.id > after).order_by(Message.id).limit(200)
    )
    return {
        "volunteer_id": identity.volunteer_id,
        "messages": [
            {"id": m.id, "direction": m.direction, "text": m.body, "language": m.language,
             "choices": (m.payload or {}).get("choices", []) if m.direction == "out" else [],
             "created_at": m.created_at.isoformat()}
            for m in rows
        ],
    }
