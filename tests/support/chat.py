"""A supporter in the web chat: says something, waits until the bot has answered, reads replies."""
import re
import time
import uuid
from datetime import timedelta
from functools import lru_cache

import httpx
from sqlalchemy import create_engine, func, select

from bot import catalog
from campaign.models import Message, OutboxRow, utcnow

# Rows due within this are waited for: replies a rate limit put a moment later, reminders made
# due at once; rows planned for later (a reminder tomorrow, a sign-up nudge) are not.
SOON = timedelta(seconds=30)


@lru_cache
def catalog_patterns(language: str) -> list[tuple[str, re.Pattern]]:
    patterns = []
    for key, template in catalog.load(language).items():
        parts = re.split(r"{\w+}", template)
        patterns.append((key, re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL), len("".join(parts))))
    # the most specific template first: "{when}" alone would match any text
    return [(key, pattern) for key, pattern, _ in sorted(patterns, key=lambda p: -p[2])]


def catalog_key(text: str, language: str) -> str | None:
    """Which catalog message of `language` this text is, or None if it is not one of them."""
    for key, pattern in catalog_patterns(language):
        if pattern.fullmatch(text):
            return key
    return None


class Chat:
    def __init__(self, api_url: str, db_url: str, language_hint: str | None = None):
        self.api_url = api_url
        self.engine = create_engine(db_url)
        self.session = httpx.post(f"{api_url}/chat/api/sessions", json={}, timeout=10).json()["session"]
        self.after = 0
        self.language_hint = language_hint
        self.volunteer_id: int | None = None
        self.transcript: list[tuple[str, str]] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Chat-Session": self.session}

    def send(self, text: str | None = None, payload: str | None = None, message_id: str | None = None) -> int:
        body = {"client_message_id": message_id or uuid.uuid4().hex}
        if text:
            body["text"] = text
        if payload:
            body["payload"] = payload
        if self.language_hint:
            body["language"] = self.language_hint
        response = httpx.post(f"{self.api_url}/chat/api/messages", json=body, timeout=10, headers=self.headers)
        response.raise_for_status()
        self.transcript.append(("you", text or payload))
        return response.json()["id"]

    def wait_answered(self, message_id: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while time.monotonic() < deadline:
                status, volunteer_id = conn.execute(select(Message.status, Message.volunteer_id).where(Message.id == message_id)).one()
                unsent = conn.execute(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.volunteer_id == volunteer_id, OutboxRow.status.in_(("pending", "sending")),
                        OutboxRow.send_after <= utcnow() + SOON)).scalar()
                conn.rollback()
                if status != "received" and unsent == 0:
                    self.volunteer_id = volunteer_id
                    return
                time.sleep(0.2)
        raise TimeoutError(f"message {message_id} not answered in {timeout}s; transcript: {self.transcript}")

    def replies(self) -> list[dict]:
        data = httpx.get(f"{self.api_url}/chat/api/messages", params={"after": self.after}, timeout=10,
                         headers=self.headers).json()
        out = [m for m in data["messages"] if m["direction"] == "out"]
        if data["messages"]:
            self.after = max(m["id"] for m in data["messages"])
        self.transcript.extend(("bot", m["text"]) for m in out)
        return out

    def say(self, text: str | None = None, payload: str | None = None) -> list[dict]:
        self.wait_answered(self.send(text, payload))
        return self.replies()

    def keys(self, replies: list[dict], language: str) -> list[str | None]:
        return [catalog_key(r["text"], language) for r in replies]
