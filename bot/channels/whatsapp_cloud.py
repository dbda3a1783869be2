"""WhatsApp through Meta's Cloud API. Webhooks are signed (X-Hub-Signature-256: HMAC-SHA256 of
the raw body with the app secret) and may carry several entries, changes and messages at once.
Choices become reply buttons (up to 3) or a list (up to 10). Outside the 24-hour customer
service window only an approved template may be sent; without one, the message falls back to
SMS when the volunteer has a phone."""
import hashlib
import hmac
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session

from bot import catalog
from bot.channels.base import Rendered, SendError
from bot.phones import e164, region_language
from bot.pipeline.inbound import Inbound, MediaKind
from campaign.models import Identity, OutboxRow, utcnow
from onramp.settings import Settings

WINDOW = timedelta(hours=24)
MAX_BUTTONS, MAX_ROWS = 3, 10
BUTTON_TITLE, ROW_TITLE = 20, 24
# Graph API error codes: retry later, or the person is outside the window (re-engagement)
RETRY_CODES = {4, 80007, 130429, 131000, 131016, 131056}
OUTSIDE_WINDOW = {131047, 131026}


class Malformed(ValueError):
    pass


def handshake(settings: Settings, params: dict) -> str | None:
    """The challenge to echo when Meta verifies the webhook with our verify token."""
    token = params.get("hub.verify_token") or ""
    if params.get("hub.mode") == "subscribe" and settings.whatsapp_verify_token and hmac.compare_digest(
            token.encode(), settings.whatsapp_verify_token.encode()):
        return params.get("hub.challenge") or ""
    return None


def verify(settings: Settings, body: bytes, header: str | None) -> bool:
    if not settings.whatsapp_app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(settings.whatsapp_app_secret.encode(), body, hashlib.sha256).hexdigest()
    # bytes, not str: a header with non-ASCII characters is a bad signature, not a crash
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").encode("utf-8", "surrogateescape"))


def _text_and_payload(message: dict) -> tuple[str, str | None]:
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body") or "", None
    if kind == "interactive":
        reply = (message.get("interactive") or {})
        chosen = reply.get("button_reply") or reply.get("list_reply") or {}
        payload = chosen.get("id")
        return chosen.get("title") or payload or "", payload or None
    if kind == "button":  # a quick reply on a template
        button = message.get("button") or {}
        payload = button.get("payload")
        return button.get("text") or "", payload or None
    if kind in _MEDIA:  # an image or video may carry a caption: that is text to read
        return (message.get(kind) or {}).get("caption") or "", None
    return "", None  # reactions, locations (read apart): nothing to say


_MEDIA = {"audio": MediaKind.VOICE, "voice": MediaKind.VOICE, "image": MediaKind.IMAGE, "sticker": MediaKind.STICKER,
          "video": MediaKind.VIDEO, "document": MediaKind.FILE}


def _location(message: dict) -> tuple[float, float] | None:
    if message.get("type") != "location":
        return None
    where = message.get("location") or {}
    try:
        return float(where["latitude"]), float(where["longitude"])
    except (KeyError, TypeError, ValueError):
        return None


def parse(data: dict) -> tuple[list[Inbound], list[tuple[str, str, str | None]]]:
    """Every message and every delivery status in a (possibly batched) webhook."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise Malformed("a WhatsApp webhook needs an entry list")
    messages, statuses = [], []
    try:
        for entry in data["entry"]:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                for message in value.get("messages") or []:
                    phone = e164("+" + str(message["from"]))
                    if phone is None:
                        raise Malformed(f"from is not a phone number: {str(message['from'])[:32]!r}")
                    text, payload = _text_and_payload(message)
                    media = _MEDIA.get(message.get("type")) if not text else None
                    messages.append(Inbound(channel="whatsapp_cloud", external_id=phone, provider_id=str(message["id"]),
                                            text=text, payload=payload, phone=phone, language_hint=region_language(phone),
                                            signup_source="whatsapp", location=_location(message), media=media))
                for status in value.get("statuses") or []:
                    errors = status.get("errors") or [{}]
                    code = errors[0].get("code")
                    statuses.append((str(status["id"]), str(status["status"]), str(code) if code else None))
    except (KeyError, TypeError, AttributeError) as error:
        raise Malformed(f"not a WhatsApp webhook: {error!r}") from error
    return messages, statuses


def _interactive(message: Rendered, timezone: str) -> dict:
    body = {"text": message.text[:1024]}
    if len(message.choices) <= MAX_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": c.payload[:256], "title": c.title[:BUTTON_TITLE]}} for c in message.choices]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = [{"id": c.payload[:200], "title": c.title[:ROW_TITLE]} for c in message.choices[:MAX_ROWS]]
    label = catalog.render("list_button", {}, message.language, timezone)[:BUTTON_TITLE]
    return {"type": "list", "body": body, "action": {"button": label, "sections": [{"rows": rows}]}}


class WhatsAppCloudChannel:
    name = "whatsapp_cloud"
    idempotent = False

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None):
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=15)
        self.url = f"{settings.graph_api_base.rstrip('/')}/{settings.graph_api_version}/{settings.whatsapp_phone_number_id}/messages"

    def payload(self, session: Session, row: OutboxRow, message: Rendered) -> dict:
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": row.recipient.lstrip("+")}
        identity = session.get(Identity, row.identity_id) if row.identity_id else None
        inside = identity is not None and identity.last_inbound_at is not None and utcnow() - identity.last_inbound_at < WINDOW
        if inside:
            if message.choices:
                return {**base, "type": "interactive", "interactive": _interactive(message, self.settings.campaign_timezone)}
            return {**base, "type": "text", "text": {"body": message.text, "preview_url": False}}
        if self.settings.whatsapp_template:
            return {**base, "type": "template", "template": {
                "name": self.settings.whatsapp_template, "language": {"code": self.settings.whatsapp_template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": message.text}]}]}}
        raise SendError("outside the 24-hour window and no template configured", retry=False, fallback="sms")

    async def send(self, session: Session, row: OutboxRow, message: Rendered) -> str:
        body = self.payload(session, row, message)
        try:
            response = await self.client.post(self.url, json=body, headers={"Authorization": f"Bearer {self.settings.whatsapp_access_token}"})
        except httpx.HTTPError as error:
            raise SendError(f"Graph API unreachable: {error!r}", retry=True) from error
        if response.status_code < 400:
            return response.json()["messages"][0]["id"]
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code")
        text = f"Graph API {response.status_code} {code}: {error.get('message', response.text[:200])}"
        if code in OUTSIDE_WINDOW:
            raise SendError(text, retry=False, fallback="sms")
        if response.status_code == 429 or response.status_code >= 500 or code in RETRY_CODES:
            retry_after = response.headers.get("retry-after")
            raise SendError(text, retry=True, retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
        raise SendError(text, retry=False)
