"""Provider webhooks. Each one: verify the signature (403, nothing written), parse (400), store
keyed by the provider's message id, acknowledge; the inbound runner does the rest."""
import json
import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import OperationalError

from api.bodies import MAX_BODY, read_limited
from bot.channels import telegram, twilio, whatsapp_cloud
from bot.pipeline import spool
from bot.pipeline.inbound import Inbound
from bot.pipeline.receive import receive
from campaign import delivery
from campaign.db import impatient_scope, session_scope
from onramp.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def raw_body(request: Request) -> bytes:
    return await read_limited(request, MAX_BODY)


def public_url(request: Request) -> str:
    """The URL the provider signed: our public address, not the one we listen on."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{get_settings().base_url}{request.url.path}{query}"


def _store_all(messages: list[Inbound], seconds: float) -> None:
    with impatient_scope(seconds) as session:
        for message in messages:
            receive(session, message)


async def store(request: Request, messages: list[Inbound]) -> None:
    """Commit before acknowledging; in a thread, so the event loop never waits on a lock. A
    database that cannot take them within WEBHOOK_DB_SECONDS (providers give up on slow
    webhooks and do not send again) gets them later, from the spool."""
    if not messages:
        return
    settings = get_settings()
    try:
        await run_in_threadpool(_store_all, messages, settings.webhook_db_seconds)
    except OperationalError as error:  # locked, timed out, or away
        log.warning("webhook: the database did not take the message(s) in time: %s", error.orig)
        await run_in_threadpool(spool.append, settings.spool_path, messages)
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.nudge()


def twilio_params(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPException(400, f"the body is not a form: {error}") from error


@router.post("/twilio")
async def twilio_inbound(request: Request):
    params = twilio_params(await raw_body(request))
    if not twilio.verify(get_settings(), public_url(request), params, request.headers.get("x-twilio-signature")):
        raise HTTPException(403, "bad or missing X-Twilio-Signature")
    try:
        message = twilio.parse(params)
    except twilio.BadRequest as error:
        raise HTTPException(400, str(error)) from error
    await store(request, [message])
    return Response(EMPTY_TWIML, media_type="text/xml")


def json_body(body: bytes):
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HTTPException(400, f"the body is not JSON: {error}") from error


@router.post("/telegram")
async def telegram_update(request: Request):
    body = await raw_body(request)
    if not telegram.verify(get_settings(), request.headers.get("x-telegram-bot-api-secret-token")):
        raise HTTPException(403, "bad or missing X-Telegram-Bot-Api-Secret-Token")
    try:
        message = telegram.parse(json_body(body))
    except telegram.Malformed as error:
        raise HTTPException(400, str(error)) from error
    await store(request, [message] if message else [])
    return {"ok": True}


@router.get("/whatsapp")
def whatsapp_handshake(request: Request):
    challenge = whatsapp_cloud.handshake(get_settings(), dict(request.query_params))
    if challenge is None:
        raise HTTPException(403, "wrong hub.verify_token")
    return PlainTextResponse(challenge)


def _store_statuses(channel: str, statuses: list[tuple[str, str, str | None]]) -> None:
    with session_scope() as session:
        for wamid, status, code in statuses:
            if status in delivery.RANK:
                delivery.record(session, channel, wamid, status, code)


@router.post("/whatsapp")
async def whatsapp_inbound(request: Request):
    body = await raw_body(request)
    if not whatsapp_cloud.verify(get_settings(), body, request.headers.get("x-hub-signature-256")):
        raise HTTPException(403, "bad or missing X-Hub-Signature-256")
    try:
        messages, statuses = whatsapp_cloud.parse(json_body(body))
    except whatsapp_cloud.Malformed as error:
        raise HTTPException(400, str(error)) from error
    await store(request, messages)
    if statuses:
        await run_in_threadpool(_store_statuses, "whatsapp_cloud", statuses)
    return {"ok": True}


def _record_status(channel: str, sid: str, status: str, error_code: str | None) -> None:
    with session_scope() as session:
        delivery.record(session, channel, sid, status, error_code)


@router.post("/twilio/status")
async def twilio_status(request: Request):
    params = twilio_params(await raw_body(request))
    if not twilio.verify(get_settings(), public_url(request), params, request.headers.get("x-twilio-signature")):
        raise HTTPException(403, "bad or missing X-Twilio-Signature")
    try:
        sid, status, error_code = twilio.parse_status(params)
        channel = "whatsapp" if (params.get("To") or "").startswith(twilio.WHATSAPP_PREFIX) else "sms"
        await run_in_threadpool(_record_status, channel, sid, status, error_code)
    except (twilio.BadRequest, ValueError) as error:
        raise HTTPException(400, str(error)) from error
    return Response(EMPTY_TWIML, media_type="text/xml")
