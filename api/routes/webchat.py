"""The web chat channel: a page at /chat and its JSON endpoints.

POST /chat/api/sessions  issues a session token (the server makes every chat's id)
POST /chat/api/messages  stores a message and acknowledges; the reply comes through polling
GET  /chat/api/messages  the conversation since a message id

The token travels in the X-Chat-Session header. Posts must be JSON (a form cannot be sent
cross-site as JSON without CORS), from this site or an origin in WEBCHAT_ALLOWED_ORIGINS (a
campaign may embed the chat on its own site), and are rate-limited per address.
"""
import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import jinja2
from babel import negotiate_locale
from fastapi import APIRouter, Cookie, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.bodies import read_limited
from api.deps import SessionDep
from api.ratelimit import per_address
from api.schemas import QueryOffset
from bot import catalog
from bot.channels import webchat
from bot.channels.base import ParseError
from bot.pipeline.receive import receive
from campaign.db import session_scope
from campaign.models import Message
from campaign.volunteers import find_identity
from onramp.settings import get_settings

router = APIRouter(tags=["web chat"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "chat.html"


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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site_json(request: Request, content_type: Annotated[str | None, Header()] = None,
                   origin: Annotated[str | None, Header()] = None) -> None:
    """Refuse what a page on another site could make a browser post."""
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "send the message as JSON (Content-Type: application/json)")
    if origin is not None:
        settings = get_settings()
        allowed = {_origin(settings.base_url), _origin(str(request.base_url)),
                   *(_origin(o) for o in settings.webchat_allowed_origins)}
        if origin.lower() not in allowed:
            raise HTTPException(403, f"posts from {origin} are not allowed: add it to WEBCHAT_ALLOWED_ORIGINS")


def chat_contact(x_chat_session: Annotated[str | None, Header(include_in_schema=False)] = None) -> str:
    contact = webchat.contact_of(x_chat_session, get_settings().service_token)
    if contact is None:
        raise HTTPException(401, "start a chat with POST /chat/api/sessions and send its token as X-Chat-Session")
    return contact


SameSiteJson = Depends(same_site_json)
Contact = Annotated[str, Depends(chat_contact)]


@router.post("/chat/api/sessions", status_code=201, dependencies=[SameSiteJson])
def new_session(request: Request):
    """A new chat: its token, for the X-Chat-Session header of every later request."""
    per_address(request, "webchat-session", get_settings().webchat_session_rate)
    return {"session": webchat.issue_session(get_settings().service_token), "header": webchat.SESSION_HEADER}


def _store(inbound) -> tuple[int, bool]:
    with session_scope() as session:
        return receive(session, inbound)


@router.post("/chat/api/messages", status_code=202, dependencies=[SameSiteJson])
async def post_message(request: Request, contact: Contact):
    """Store the message and acknowledge; the reply arrives through GET /chat/api/messages."""
    per_address(request, "webchat-message", get_settings().webchat_message_rate)
    raw = await read_limited(request)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(400, f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    try:
        inbound = webchat.parse(body, contact)
    except ParseError as error:
        raise HTTPException(422, str(error)) from error
    # acknowledged only once it is committed; in a thread, so the event loop never waits on a lock
    message_id, created = await run_in_threadpool(_store, inbound)
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.nudge()
    return {"id": message_id, "duplicate": not created}


@router.get("/chat/api/messages")
def poll_messages(session: SessionDep, contact: Contact, after: QueryOffset = 0):
    """The conversation since message `after`, both directions, oldest first."""
    identity = find_identity(session, "webchat", contact)
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
