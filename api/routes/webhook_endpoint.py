"""One endpoint for every adapter route: verify (403, nothing written), parse (400), store the
messages keyed by the provider's id and the delivery reports, then acknowledge in the words the
provider expects; the inbound runner does the rest."""
import logging

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import OperationalError

from api.bodies import MAX_BODY, read_limited
from bot.channels.base import Adapter, Delivery, ParseError, Route, RouteKind, WebhookRequest
from bot.pipeline import spool
from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from campaign import delivery
from campaign.db import impatient_scope, session_scope
from onramp.settings import Settings, get_settings

log = logging.getLogger(__name__)


def public_url(settings: Settings, request: Request) -> str:
    """The URL the provider signed: our public address, not the one we listen on."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{settings.base_url}{request.url.path}{query}"


def _store_all(messages: list[Inbound], seconds: float) -> None:
    with impatient_scope(seconds) as session:
        for message in messages:
            receive(session, message)


async def store(request: Request, settings: Settings, messages: list[Inbound]) -> None:
    """Commit before acknowledging; in a thread, so the event loop never waits on a lock. A
    database that cannot take them within WEBHOOK_DB_SECONDS (providers give up on slow
    webhooks and do not send again) gets them later, from the spool."""
    if not messages:
        return
    try:
        await run_in_threadpool(_store_all, messages, settings.webhook_db_seconds)
    except OperationalError as error:  # locked, timed out, or away
        log.warning("webhook: the database did not take the message(s) in time: %s", error.orig)
        await run_in_threadpool(spool.append, settings.spool_path, messages)
    runner = getattr(request.app.state, "runner", None)
    if runner is not None:
        runner.nudge()


def _record(deliveries: list[Delivery]) -> None:
    with session_scope() as session:
        for report in deliveries:
            delivery.record(session, report.channel, report.provider_id, report.status, report.error_code, report.event)


def endpoint(adapter: type[Adapter], route: Route):
    async def webhook(request: Request, settings: Settings = Depends(get_settings)):
        body = await read_limited(request, MAX_BODY) if route.method == "POST" else b""
        call = WebhookRequest(url=public_url(settings, request), headers=request.headers,
                              query=dict(request.query_params), body=body)
        handler = adapter(settings)
        if route.kind == RouteKind.HANDSHAKE:
            challenge = handler.handshake(call)
            if challenge is None:
                raise HTTPException(403, "wrong verify token")
            return PlainTextResponse(challenge)
        try:
            if not handler.verify(call):
                raise HTTPException(403, f"bad or missing {handler.signature_header}")
            parsed = handler.parse(route.kind, call)
        except ParseError as error:
            raise HTTPException(400, str(error)) from error
        await store(request, settings, parsed.messages)
        if parsed.deliveries:
            await run_in_threadpool(_record, parsed.deliveries)
        answer = handler.answer(route.kind)
        return Response(answer.body, media_type=answer.media_type)

    webhook.__name__ = f"{adapter.__name__}_{route.kind}"
    return webhook
