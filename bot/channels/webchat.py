"""The web chat: the browser posts messages and polls for replies (api/routes/webchat.py)."""
import re

from sqlalchemy.orm import Session

from bot.channels.base import Rendered
from bot.pipeline.inbound import Inbound
from campaign.models import OutboxRow

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 2000
MAX_PAYLOAD = 200


class BadRequest(ValueError):
    """What was wrong with the request, in words a developer can act on."""


def parse(body: dict) -> Inbound:
    """A web chat message: {"session", "client_message_id", "text" | "payload", "language"}.
    A payload is what a tapped choice carries: an intent ("/affirm") or words ("weekends")."""
    session_id = body.get("session")
    if not isinstance(session_id, str) or not SESSION_RE.match(session_id):
        raise BadRequest("session must be 8-64 letters, digits, '-' or '_'")
    client_id = body.get("client_message_id")
    if not isinstance(client_id, str) or not SESSION_RE.match(client_id):
        raise BadRequest("client_message_id must be 8-64 letters, digits, '-' or '_'")
    text, payload = body.get("text") or "", body.get("payload")
    if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)):
        raise BadRequest("text and payload must be strings")
    text = text.strip()
    if not text and not payload:
        raise BadRequest("send a text or a payload")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"text is longer than {MAX_TEXT} characters")
    if payload is not None and not 0 < len(payload) <= MAX_PAYLOAD:
        raise BadRequest(f"payload must be 1 to {MAX_PAYLOAD} characters (a choice's payload)")
    hint = body.get("language")
    hint = hint.split("-")[0].lower() if isinstance(hint, str) and hint else None
    return Inbound(channel="webchat", external_id=session_id, provider_id=client_id, text=text or payload,
                   payload=payload, language_hint=hint, signup_source=body.get("source") or "webchat")


class WebChat:
    """Sending is storing: the worker records the outbound message (where the page reads it) in
    the same transaction that marks the outbox row sent, so a reply shows exactly once."""

    name = "webchat"
    idempotent = True

    async def send(self, session: Session | None, row: OutboxRow, message: Rendered) -> str:
        return f"outbox-{row.id}"
