"""The app's only door into Rasa: our input channel (bot/assistant/onramp_channel.py) and its
tracker API, over HTTP.

Rasa's HTTP API (trackers, events, status) and our channel take a JWT in the Authorization header, signed with
RASA_JWT_SECRET: unlike `--auth-token`, which travels in the query string and so lands in access
logs, a header stays out of them.
"""
import time
from dataclasses import dataclass

import httpx
import jwt

from onramp.settings import Settings


def auth_headers(settings: Settings) -> dict[str, str]:
    """A short-lived admin token for Rasa's HTTP API."""
    now = int(time.time())
    token = jwt.encode({"user": {"username": "onramp", "role": "admin"}, "username": "onramp",
                        "iat": now, "exp": now + 300}, settings.rasa_jwt_secret_value, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


class RasaUnavailable(RuntimeError):
    """Rasa did not answer; the message stays queued and is tried again."""


@dataclass(frozen=True)
class Turn:
    """What Rasa made of one message: its replies, the intent it read (None when it does not
    say), and whether it had handled this message before (a retry it did not run again)."""
    replies: list[dict]
    intent: str | None = None
    confidence: float | None = None
    seen: bool = False


class RasaClient:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None):
        self.base = settings.rasa_url.rstrip("/")
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=settings.rasa_timeout_seconds)

    async def send(self, sender: str, text: str, metadata: dict, check_seen: bool = False) -> "Turn":
        """Hand one user message to Rasa, through our channel (bot/assistant/onramp_channel.py):
        the bot's messages and the parse come back in the same answer. With `check_seen` (a
        retry), Rasa first looks its tracker up for our `metadata["message_id"]`: if it handled
        the message already (a crash came between its answer and our commit), it returns the
        replies it gave then and does not run the message again."""
        try:
            response = await self.client.post(
                f"{self.base}/webhooks/onramp/message",
                json={"sender": sender, "message": text, "metadata": metadata, "check_seen": check_seen},
                headers=auth_headers(self.settings),
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self.base}: {error!r}") from error
        answer = response.json()
        intent = answer.get("intent") or {}
        return Turn(replies=answer.get("replies") or [], intent=intent.get("name"),
                    confidence=intent.get("confidence"), seen=bool(answer.get("seen")))

    async def append_events(self, sender: str, events: list[dict]) -> None:
        """Add events to a conversation (pause, resume, slots, a follow-up action) through Rasa's
        tracker API, the way an organizer's hand on the conversation is recorded there."""
        try:
            response = await self.client.post(f"{self.base}/conversations/{sender}/tracker/events",
                                              params={"include_events": "NONE"}, json=events,
                                              headers=auth_headers(self.settings))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self.base}: {error!r}") from error

    async def active_form(self, sender: str) -> str | None:
        """The form (active loop) the conversation is in, if any."""
        try:
            response = await self.client.get(f"{self.base}/conversations/{sender}/tracker", params={"include_events": "NONE"},
                                             headers=auth_headers(self.settings))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self.base}: {error!r}") from error
        return (response.json().get("active_loop") or {}).get("name")

    async def ready(self) -> bool:
        try:
            response = await self.client.get(f"{self.base}/status", headers=auth_headers(self.settings))
            return response.status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self.client.aclose()
