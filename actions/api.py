"""A small client of Onramp's REST API, authenticated with the service token."""
import os
from typing import Any

import aiohttp

API_URL = os.environ.get("ONRAMP_API_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("SERVICE_TOKEN", "dev-service-token-change-me")
TIMEOUT = aiohttp.ClientTimeout(total=float(os.environ.get("ONRAMP_API_TIMEOUT", "10")))


class ApiError(RuntimeError):
    pass


async def call(method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=headers) as session:
        async with session.request(method, f"{API_URL}{path}", json=json, params=params) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise ApiError(f"{method} {path} -> {response.status}: {body}")
            return body


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
