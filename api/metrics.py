"""What an operator watches: /healthz (is each part reachable) and /metrics (Prometheus).

Both read the shared database and ask Rasa and Redis directly at request time, so any api
process answers for the whole installation, whichever worker did the sending.

/healthz answers 200 while the api can do its one urgent job, storing and acknowledging
webhooks: that needs the database only. Rasa down or loading, or Redis down, is reported in the
body (messages wait for them) but is no reason for a load balancer to take the api out.
It answers 503 when the database cannot be reached.

/metrics tells how much work there is and where it goes: it answers a client on this machine
(a Prometheus agent beside the api, or a proxy's health check) or one that brings
`Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 403.
"""
import asyncio
import ipaddress
import secrets

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, text

from campaign.db import session_scope
from campaign.models import Message, OutboxRow
from bot.rasa_client import auth_headers
from onramp.settings import Settings, get_settings

router = APIRouter(include_in_schema=False)
CHECK_TIMEOUT = 1.5
# Always shown, at 0 when empty, so that an alert on `unknown` has a series to watch.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "unknown")


def redis_in_use(settings: Settings) -> bool:
    return settings.rate_limit_storage == "redis" or settings.rasa_lock_store == "redis"


async def rasa_state(settings: Settings) -> str:
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as client:
            response = await client.get(f"{settings.rasa_url.rstrip('/')}/status", headers=auth_headers(settings))
    except httpx.HTTPError:
        return "down"
    return "ok" if response.status_code == 200 else f"answered {response.status_code}"


async def redis_state(settings: Settings) -> str:
    if not redis_in_use(settings):
        return "not used"
    import redis.asyncio as redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT)
    try:
        await client.ping()
        return "ok"
    except (redis.RedisError, OSError):
        return "down"
    finally:
        await client.aclose()


def database_state() -> str:
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # any driver's error: the point is to say it, not to raise
        return f"down: {type(error).__name__}"


def backlog() -> dict:
    with session_scope() as session:
        inbound = session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.status == "received"))
        by_status = dict(session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())
        sent = dict(session.execute(select(OutboxRow.channel, func.count()).where(OutboxRow.status == "sent")
                                    .group_by(OutboxRow.channel)).all())
    return {"inbound": inbound, "outbox": {**{s: 0 for s in OUTBOX_STATUSES}, **by_status}, "sent": sent}


@router.get("/healthz")
async def health():
    settings = get_settings()
    database, rasa, redis_ = await asyncio.gather(run_in_threadpool(database_state), rasa_state(settings),
                                                  redis_state(settings))
    ok = database == "ok"
    body = {"ok": ok, "database": database, "rasa": rasa, "redis": redis_}
    return JSONResponse(body, status_code=200 if ok else 503)


class _Snapshot:
    """A prometheus collector over values read once for this scrape."""

    def __init__(self, numbers: dict, rasa_up: bool, redis_up: bool | None):
        self.numbers, self.rasa_up, self.redis_up = numbers, rasa_up, redis_up

    def collect(self):
        yield GaugeMetricFamily("onramp_inbound_backlog", "Inbound messages stored and not yet processed",
                                value=self.numbers["inbound"])
        outbox = GaugeMetricFamily("onramp_outbox_rows", "Outbox rows by status (unknown: the provider call "
                                   "started and its outcome cannot be known)", labels=["status"])
        for status, count in sorted(self.numbers["outbox"].items()):
            outbox.add_metric([status], count)
        yield outbox
        sends = CounterMetricFamily("onramp_sends", "Messages sent, per channel", labels=["channel"])
        for channel, count in sorted(self.numbers["sent"].items()):
            sends.add_metric([channel], count)
        yield sends
        yield GaugeMetricFamily("onramp_rasa_up", "1 when Rasa answers /status", value=int(self.rasa_up))
        if self.redis_up is not None:
            yield GaugeMetricFamily("onramp_redis_up", "1 when Redis answers PING", value=int(self.redis_up))


def _may_read_metrics(request: Request, settings: Settings) -> bool:
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    token = settings.metrics_token
    return bool(token and scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), token.encode()))


@router.get("/metrics")
async def metrics(request: Request):
    settings = get_settings()
    if not _may_read_metrics(request, settings):
        raise HTTPException(403, "/metrics answers this machine, or a bearer token (METRICS_TOKEN)")
    numbers, rasa, redis_ = await asyncio.gather(run_in_threadpool(backlog), rasa_state(settings), redis_state(settings))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(numbers, rasa == "ok", None if redis_ == "not used" else redis_ == "ok"))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
