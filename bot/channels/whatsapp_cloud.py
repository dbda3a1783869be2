"""WhatsApp through Meta's Cloud API. Webhooks are signed (X-Hub-Signature-256: HMAC-SHA256 of
the raw body with the app secret) and may carry several entries, changes and messages at once.
Choices become reply buttons (up to 3) or a list (up to 10). Outside the 24-hour customer
service window only an approved template may be sent; without one, the message falls back to
SMS when the volunteer has a phone."""
import hashlib
import hmac
import json

import httpx

from bot import catalog
from bot.channels.base import (FINAL, RETRY, WHATSAPP_WINDOW, Adapter, may_have_arrived, Delivery, Failure, Parsed, ParseError,
                               Rendered, Route, RouteKind, SendError, Traits, WebhookRequest)
from bot.phones import e164, region_language
from bot.channels.received import Inbound, MediaKind
from campaign.delivery import DeliveryStatus
from campaign.models import OutboxRow
from onramp.settings import Settings

MAX_BUTTONS, MAX_ROWS = 3, 10
BUTTON_TITLE, ROW_TITLE = 20, 24
# Meta's message statuses in a webhook, in neutral words (any other is not recorded).
STATUSES = {"sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED, "read": DeliveryStatus.READ,
            "failed": DeliveryStatus.FAILED}
# Graph API error codes, in neutral words; any other is final, unless the HTTP status says to
# retry (429, 5xx).
ERRORS = {
    **dict.fromkeys((4, 80007, 130429, 131000, 131016, 131056), RETRY),  # rate limits, a temporary fault
    # outside the 24-hour window (re-engagement), or a number WhatsApp cannot deliver to: SMS can
    **dict.fromkeys((131047, 131026), Failure(fallback="sms")),
}


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


def webhook_from(data: dict) -> Parsed:
    """Every message and every delivery status in a (possibly batched) webhook."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise ParseError("a WhatsApp webhook needs an entry list")
    messages, statuses = [], []
    try:
        for entry in data["entry"]:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                for message in value.get("messages") or []:
                    phone = e164("+" + str(message["from"]))
                    if phone is None:
                        raise ParseError(f"from is not a phone number: {str(message['from'])[:32]!r}")
                    text, payload = _text_and_payload(message)
                    media = _MEDIA.get(message.get("type")) if not text else None
                    messages.append(Inbound(channel="whatsapp_cloud", external_id=phone, provider_id=str(message["id"]),
                                            text=text, payload=payload, phone=phone, language_hint=region_language(phone),
                                            signup_source="whatsapp_cloud", location=_location(message), media=media))
                for status in value.get("statuses") or []:
                    errors = status.get("errors") or [{}]
                    code = errors[0].get("code")
                    if str(status["status"]) in STATUSES:
                        statuses.append(Delivery("whatsapp_cloud", str(status["id"]), STATUSES[str(status["status"])],
                                                 str(code) if code else None))
    except (KeyError, TypeError, AttributeError) as error:
        raise ParseError(f"not a WhatsApp webhook: {error!r}") from error
    return Parsed(messages, statuses)


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
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(
            settings.provider_read_timeout_seconds, connect=settings.provider_connect_timeout_seconds))
        self.url = f"{settings.graph_api_base.rstrip('/')}/{settings.graph_api_version}/{settings.whatsapp_phone_number_id}/messages"

    def layout(self, row: OutboxRow, message: Rendered) -> dict:
        """The Graph API request: free-form inside the 24-hour window (decided upstream), else a template."""
        base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": row.recipient.lstrip("+")}
        if message.window_open:
            if message.choices:
                return {**base, "type": "interactive", "interactive": _interactive(message, self.settings.campaign_timezone)}
            return {**base, "type": "text", "text": {"body": message.text, "preview_url": False}}
        if message.template is not None:
            variables = [{"type": "text", "text": value} for value in message.template.variables]
            return {**base, "type": "template", "template": {
                "name": message.template.id, "language": {"code": message.template.language},
                "components": [{"type": "body", "parameters": variables}] if variables else []}}
        if self.settings.whatsapp_template:
            return {**base, "type": "template", "template": {
                "name": self.settings.whatsapp_template, "language": {"code": self.settings.whatsapp_template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": message.text}]}]}}
        raise SendError("outside the 24-hour window and no template configured", retry=False, fallback="sms")

    async def send(self, row: OutboxRow, message: Rendered) -> str:
        body = self.layout(row, message)
        try:
            response = await self.client.post(self.url, json=body, headers={"Authorization": f"Bearer {self.settings.whatsapp_access_token}"})
        except httpx.HTTPError as error:
            if may_have_arrived(error):
                raise  # a read timeout, a reset after the request went out: it may have arrived
            raise SendError(f"Graph API unreachable: {error!r}", retry=True) from error
        if response.status_code < 400:
            return response.json()["messages"][0]["id"]
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code")
        text = f"Graph API {response.status_code} {code}: {error.get('message', response.text[:200])}"
        failure = ERRORS.get(code) or (RETRY if response.status_code == 429 or response.status_code >= 500 else FINAL)
        retry_after = response.headers.get("retry-after") if failure.retry else None
        raise failure.error(text, float(retry_after) if retry_after and retry_after.isdigit() else None)


class WhatsAppCloudAdapter(Adapter):
    # a text body of up to 4096 characters; choices as reply buttons (3) or a list (MAX_ROWS)
    channels = {"whatsapp_cloud": Traits(rate=50, window=WHATSAPP_WINDOW, max_length=4096, buttons=MAX_ROWS, media=True)}
    # /webhooks/whatsapp was its path before Twilio's WhatsApp had a name of its own: kept, so a
    # deployed app's callback URL needs no change
    routes = (Route(RouteKind.HANDSHAKE, "/whatsapp_cloud", method="GET", aliases=("/whatsapp",)),
              Route(RouteKind.RECEIVE, "/whatsapp_cloud", aliases=("/whatsapp",)))
    signature_header = "X-Hub-Signature-256"
    statuses = STATUSES
    errors = ERRORS

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.whatsapp_cloud_enabled

    def handshake(self, request: WebhookRequest) -> str | None:
        """The challenge to echo when Meta verifies the webhook with our verify token."""
        params, expected = request.query, self.settings.whatsapp_verify_token
        token = params.get("hub.verify_token") or ""
        if params.get("hub.mode") == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
            return params.get("hub.challenge") or ""
        return None

    def verify(self, request: WebhookRequest) -> bool:
        secret, header = self.settings.whatsapp_app_secret, request.headers.get("x-hub-signature-256")
        if not secret or not header or not header.startswith("sha256="):
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        # bytes, not str: a header with non-ASCII characters is a bad signature, not a crash
        return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").encode("utf-8", "surrogateescape"))

    def parse(self, kind: RouteKind, request: WebhookRequest) -> Parsed:
        try:
            data = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ParseError(f"the body is not JSON: {error}") from error
        return webhook_from(data)

    def channel(self, name: str) -> "WhatsAppCloudChannel":
        return WhatsAppCloudChannel(self.settings)
