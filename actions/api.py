"""A small client of Onramp's REST API, authenticated with the service token.

Every action acts for the person whose message Rasa is handling. The app stamps that message's
metadata (bot/stamp.py); `volunteer_id(tracker)` refuses a tracker without a valid stamp, and
every /v1 call made while handling it carries the stamp, so the API can check that the write is
for a message of that volunteer being processed right now (no forged ids, no replays).
"""
import asyncio
import base64
import contextvars
import hashlib
import hmac
import json
from typing import Any

import aiohttp

from actions.settings import SETTINGS

TIMEOUT = aiohttp.ClientTimeout(total=SETTINGS.timeout)
STAMP_FIELD, STAMP_HEADER = "stamp", "X-Onramp-Stamp"
# The stamped metadata of the message being handled by this action run (one asyncio task each).
_current_stamp: contextvars.ContextVar[str | None] = contextvars.ContextVar("onramp_stamp", default=None)


class ApiError(RuntimeError):
    pass


class Unstamped(ApiError):
    """The tracker's latest message does not carry a valid stamp from the app: do nothing."""


# One HTTP session for the process's event loop, so calls reuse their connections to the API
# (a new one for every call cost both processes a TCP handshake and a new HTTP connection).
# Idle connections are let go after 2 s, before uvicorn's 5 s keep-alive closes them from its side.
_sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        for stale in [other for other in _sessions if other.is_closed()]:
            del _sessions[stale]
        session = _sessions[loop] = aiohttp.ClientSession(
            timeout=TIMEOUT, connector=aiohttp.TCPConnector(keepalive_timeout=2))
    return session


async def call(method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
    headers = {"Authorization": f"Bearer {SETTINGS.token}"}
    if _current_stamp.get():
        headers[STAMP_HEADER] = _current_stamp.get()
    deadline = asyncio.get_running_loop().time() + SETTINGS.retry_seconds
    delay = 0.2
    while True:
        try:
            async with _session().request(method, f"{SETTINGS.api_url}{path}", json=json, params=params,
                                          headers=headers) as response:
                body = await response.json(content_type=None)
                if response.status >= 400:
                    raise ApiError(f"{method} {path} -> {response.status}: {body}")
                return body
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
            if asyncio.get_running_loop().time() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _canonical(metadata: dict) -> bytes:
    # the same canonical form as the app's bot/stamp.py (this process cannot import the app)
    unsigned = {key: value for key, value in metadata.items() if key != STAMP_FIELD}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _stamp_is_valid(metadata: dict) -> bool:
    given = metadata.get(STAMP_FIELD)
    if not isinstance(given, str):
        return False
    expected = hmac.new(SETTINGS.token.encode("utf-8"), _canonical(metadata), hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, expected)


def stamped(tracker) -> dict | None:
    """The latest message's metadata when the app stamped it (so its contents can be trusted)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if "volunteer_id" in metadata and _stamp_is_valid(metadata) else None


def volunteer_id(tracker) -> int:
    """The volunteer the app says this message is from, once its stamp is checked."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if "volunteer_id" not in metadata:
        raise Unstamped("the message carries no volunteer_id metadata")
    if not _stamp_is_valid(metadata):
        raise Unstamped("the message's metadata is not stamped by the app")
    _current_stamp.set(base64.urlsafe_b64encode(json.dumps(metadata, separators=(",", ":")).encode()).decode())
    return int(metadata["volunteer_id"])


def say(dispatcher, key: str, kind: str | None = None, choices: list | None = None, **params) -> None:
    """Send a catalog key with its parameters; the app renders it in the volunteer's language."""
    custom: dict = {"key": key, "params": params}
    if choices:
        custom["choices"] = choices
    if kind:
        custom["kind"] = kind
    dispatcher.utter_message(json_message=custom)
