"""The app's only door into Rasa: its REST channel and its tracker API, over HTTP.

Rasa's HTTP API (trackers, events, status) takes a JWT in the Authorization header, signed with
RASA_JWT_SECRET: unlike `--auth-token`, which travels in the query string and so lands in access
logs, a header stays out of them.
"""
import time

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


class RasaClient:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None):
        self.base = settings.rasa_url.rstrip("/")
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=settings.rasa_timeout_seconds)

    async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
        """Hand one user message to Rasa; returns the bot's messages."""
        try:
            response = await self.client.post(
                f"{self.base}/webhooks/rest/webhook", json={"sender": sender, "message": text, "metadata": metadata}
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self.base}: {error!r}") from error
        return response.json()

    async def replies_to(self, sender: str, message_id: int) -> list[dict] | None:
        """If Rasa already handled our message `message_id` (a crash came between its answer and
        our commit), the replies it gave, read back from its tracker; None if it never saw it."""
        try:
            response = await self.client.get(f"{self.base}/conversations/{sender}/tracker", params={"include_events": "ALL"},
                                             headers=auth_headers(self.settings))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa at {self.base}: {error!r}") from error
        events = response.json().get("events") or []
        replies: list[dict] | None = None
        for event in events:
            kind = event.get("event")
            if kind == "user":
                if replies is not None:
                    break
                if (event.get("metadata") or {}).get("message_id") == message_id:
                    replies = []
            elif kind == "bot" and replies is not None:
                data = event.get("data") or {}
                reply = {"text": event.get("text")} if event.get("text") else {}
                if data.get("custom"):
                    reply["custom"] = data["custom"]
                replies.append(reply)
        return replies

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
