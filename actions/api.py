"""A small client of Onramp's REST API, authenticated with the service token."""
import asyncio
import os
from typing import Any

import aiohttp

API_URL = os.environ.get("ONRAMP_API_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("SERVICE_TOKEN", "dev-service-token-change-me")
TIMEOUT = aiohttp.ClientTimeout(total=float(os.environ.get("ONRAMP_API_TIMEOUT", "10")))


class ApiError(RuntimeError):
    pass


# While the api restarts (a deploy, a crash) calls are retried, so the conversation goes on.
# Every call we make is safe to repeat: updates set values, bookings and handoffs are idempotent.
RETRY_SECONDS = float(os.environ.get("ONRAMP_API_RETRY_SECONDS", "30"))


async def call(method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = asyncio.get_running_loop().time() + RETRY_SECONDS
    delay = 0.2
    while True:
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT, headers=headers) as session:
                async with session.request(method, f"{API_URL}{path}", json=json, params=params) as response:
                    body = await response.json(content_type=None)
                    if response.status >= 400:
                        raise ApiError(f"{method} {path} -> {response.status}: {body}")
                    return body
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
            if asyncio.get_running_loop().time() + delay > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def volunteer_id(tracker) -> int:
    """The app sends the volunteer id with every message (see bot/pipeline/process.py)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if "volunteer_id" not in metadata:
        raise ApiError("the message carries no volunteer_id metadata")
    return int(metadata["volunteer_id"])


def say(dispatcher, key: str, kind: str | None = None, choices: list | None = None, **params) -> None:
    """Send a catalog key with its parameters; the app renders it in the volunteer's language."""
    custom: dict = {"key": key, "params": params}
    if choices:
        custom["choices"] = choices
    if kind:
        custom["kind"] = kind
    dispatcher.utter_message(json_message=custom)
