"""The web chat: the browser posts messages and polls for replies (api/routes/webchat.py).

The server issues each chat its session token (`issue_session`); the page sends it in the
X-Chat-Session header, never in a URL, so it stays out of access logs and browser history. A
token carries its own MAC, so one the server did not issue is refused without a lookup, and the
contact is a hash of it: the database never holds a token that would let someone read the chat.
"""
import hashlib
import hmac
import re
import secrets

from bot.channels.base import NO_WINDOW, Adapter, ParseError, Rendered, Traits
from bot.channels.received import Inbound
from campaign.models import OutboxRow

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{32}$")
MAX_TEXT = 2000
MAX_PAYLOAD = 200
MAX_SOURCE = 64
SESSION_HEADER = "X-Chat-Session"


def _mac(nonce: str, key: str) -> str:
    return hmac.new(key.encode(), f"webchat:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_session(key: str) -> str:
    nonce = secrets.token_urlsafe(24)  # 32 characters
    return f"{nonce}.{_mac(nonce, key)}"


def contact_of(token: str | None, key: str) -> str | None:
    """The contact (identity external id) of a token this server issued; None for any other."""
    if not token or not TOKEN_RE.match(token):
        return None
    nonce, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(nonce, key)):
        return None
    return "w-" + hashlib.sha256(token.encode()).hexdigest()[:40]


def parse(body: dict, contact: str) -> Inbound:
    """A web chat message: {"client_message_id", "text" | "payload", "language", "source"}, from
    the contact its session token names. A payload is what a tapped choice carries: an intent
    ("/affirm") or words ("weekends")."""
    client_id = body.get("client_message_id")
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ParseError("client_message_id must be 8-64 letters, digits, '-' or '_'")
    text, payload = body.get("text") or "", body.get("payload")
    if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)):
        raise ParseError("text and payload must be strings")
    text = text.strip()
    if not text and not payload:
        raise ParseError("send a text or a payload")
    if len(text) > MAX_TEXT:
        raise ParseError(f"text is longer than {MAX_TEXT} characters")
    if payload is not None and not 0 < len(payload) <= MAX_PAYLOAD:
        raise ParseError(f"payload must be 1 to {MAX_PAYLOAD} characters (a choice's payload)")
    hint = body.get("language")
    hint = hint.split("-")[0].lower()[:8] if isinstance(hint, str) and hint else None
    source = body.get("source")
    if source is not None and (not isinstance(source, str) or len(source) > MAX_SOURCE):
        raise ParseError(f"source must be a string of at most {MAX_SOURCE} characters (where the supporter came from)")
    return Inbound(channel="webchat", external_id=contact, provider_id=f"{contact}:{client_id}", text=text or payload,
                   payload=payload, language_hint=hint, signup_source=source or "webchat")


class WebChat:
    """Sending is storing: the worker records the outbound message (where the page reads it) in
    the same transaction that marks the outbox row sent, so a reply shows exactly once."""

    name = "webchat"
    idempotent = True

    async def send(self, row: OutboxRow, message: Rendered) -> str:
        return f"outbox-{row.id}"


class WebChatAdapter(Adapter):
    """Always on; its routes are the chat's own (api/routes/webchat.py: sessions, polling), not webhooks."""

    # our own page: sending is a database write, any length, every choice a button, text only
    channels = {"webchat": Traits(rate=1000, window=NO_WINDOW, max_length=None, buttons=None, media=False)}

    def channel(self, name: str) -> WebChat:
        return WebChat()
