"""Twilio: SMS and WhatsApp on one webhook (WhatsApp numbers arrive as "whatsapp:+E164"), as the
channels `sms` and `twilio_whatsapp` (Meta's own WhatsApp Cloud API is another adapter).

Inbound requests are checked with the twilio library's RequestValidator against the public URL
(PUBLIC_BASE_URL); outbound goes through its Client, pointed at TWILIO_API_BASE so that a local
fake can stand in. Choices are numbered; "1", "2", ... come back as the choice (bot/pipeline).
"""
import asyncio
import json
from typing import Protocol
from urllib.parse import parse_qsl

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.http.response import Response
from twilio.rest import Client

from bot import catalog
from bot.channels import sms_text
from bot.channels.base import (FINAL, NO_WINDOW, RETRY, WHATSAPP_WINDOW, Adapter, Answer, never_sent, Delivery, Failure, Parsed,
                               ParseError, Rendered, Route, RouteKind, SendError, Traits, WebhookRequest)
from bot.channels.received import Inbound, media_kind
from bot.phones import e164, region_language
from campaign.delivery import ContactEvent, DeliveryStatus
from campaign.models import OutboxRow
from onramp.settings import Settings

WHATSAPP_PREFIX = "whatsapp:"
WHATSAPP = "twilio_whatsapp"  # the channel's name
# Twilio's message statuses (MessageStatus in a status callback), in neutral words.
STATUSES = {
    "accepted": DeliveryStatus.QUEUED, "queued": DeliveryStatus.QUEUED, "scheduled": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENDING, "sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ, "undelivered": DeliveryStatus.FAILED, "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# Twilio's error codes, in a refused send or a status callback's ErrorCode; any other is final,
# unless the HTTP status says to retry (429, 5xx).
ERRORS = {
    21610: Failure(opted_out=True),  # the person replied STOP to the carrier
    63016: Failure(fallback="sms"),  # WhatsApp: a free-form message outside the 24-hour window
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _channel_of(address: str) -> str:
    return WHATSAPP if address.startswith(WHATSAPP_PREFIX) else "sms"


def form(body: bytes) -> dict[str, str]:
    """The parameters Twilio posts (and signs), from the form-encoded body."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
    except (UnicodeDecodeError, ValueError) as error:
        raise ParseError(f"the body is not a form: {error}") from error


def message_from(params: dict) -> Inbound:
    sid = params.get("MessageSid") or params.get("SmsSid")
    sender = params.get("From") or ""
    if not sid or not sender:
        raise ParseError("MessageSid and From are required")
    channel = _channel_of(sender)
    phone = e164(sender.removeprefix(WHATSAPP_PREFIX))
    if phone is None:
        raise ParseError(f"From is not a phone number: {sender[:40]!r}")
    text = params.get("Body") or ""
    location = None
    try:  # WhatsApp through Twilio sends a shared pin as Latitude/Longitude
        if params.get("Latitude") and params.get("Longitude"):
            location = (float(params["Latitude"]), float(params["Longitude"]))
    except ValueError:
        location = None
    media = None
    if not text and str(params.get("NumMedia") or "0").strip() not in ("", "0"):
        media = media_kind(params.get("MediaContentType0") or "")
    return Inbound(channel=channel, external_id=phone, provider_id=sid, text=text if location is None else "",
                   phone=phone, language_hint=region_language(phone), signup_source=channel,
                   location=location, media=media)


def delivery_from(params: dict) -> Delivery:
    sid, status = params.get("MessageSid") or params.get("SmsSid"), params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status:
        raise ParseError("MessageSid and MessageStatus are required")
    if status.lower() not in STATUSES:
        raise ParseError(f"unknown delivery status {status[:20]!r}")
    code = params.get("ErrorCode") or None
    failure = ERRORS.get(int(code)) if code and code.isdigit() else None
    return Delivery(channel=_channel_of(params.get("To") or ""), provider_id=sid, status=STATUSES[status.lower()],
                    error_code=code, event=ContactEvent.OPTED_OUT if failure and failure.opted_out else None)


def layout(message: Rendered, timezone: str) -> str:
    """SMS has no buttons: choices become a numbered list."""
    if not message.choices:
        return message.text
    lines = [message.text, "", catalog.render("sms_reply_with_number", {}, message.language, timezone)]
    lines += [f"{n}. {choice.title}" for n, choice in enumerate(message.choices, start=1)]
    return "\n".join(lines)


class LoopHttpClient(AsyncTwilioHttpClient):
    """Twilio's asyncio HTTP client (aiohttp: no thread per call, a fraction of the CPU of the
    requests client), with one connection pool per event loop and separate connect and read
    timeouts.

    The pool belongs to the loop it was opened on. An async generator holds it open: when the
    loop ends, asyncio.run closes the loop's async generators, and the generator's `finally`
    closes the pool; so a process that runs several loops one after another (the tests) leaves
    no pool open behind it."""

    def __init__(self, connect_timeout: float, read_timeout: float):
        super().__init__(pool_connections=False)
        self.session = None  # per loop, below
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._loop = None
        self._holder = None

    async def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                      allow_redirects=False):
        session = await self._session()
        if auth:
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        response = await session.request(method.upper(), url, params=params, data=data, headers=headers,
                                         allow_redirects=allow_redirects)
        async with response:
            return Response(response.status, await response.text(), response.headers)

    async def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._holder = loop, _held_open(aiohttp.ClientSession(timeout=self._timeout))
            self.session = await anext(self._holder)
        return self.session


async def _held_open(session: aiohttp.ClientSession):
    try:
        yield session
    finally:
        await session.close()


class TwilioChannel:
    idempotent = False

    def __init__(self, name: str, settings: Settings):
        self.name = name  # "sms" or WHATSAPP
        self.settings = settings
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            http = LoopHttpClient(self.settings.provider_connect_timeout_seconds,
                                  self.settings.provider_read_timeout_seconds)
            client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token, http_client=http)
            client.api.base_url = self.settings.twilio_api_base.rstrip("/")
            self._client = client
        return self._client

    def _addresses(self, recipient: str) -> tuple[str, str]:
        if self.name == WHATSAPP:
            return WHATSAPP_PREFIX + recipient, WHATSAPP_PREFIX + self.settings.twilio_whatsapp_from
        return recipient, self.settings.twilio_sms_from

    async def _create(self, to: str, sender: str, body: str | None, template=None) -> str:
        kwargs = {"to": to, "status_callback": f"{self.settings.base_url}/webhooks/twilio/status"}
        if template is not None:  # a Content template: ContentSid with ContentVariables
            kwargs["content_sid"] = template.id
            kwargs["content_variables"] = json.dumps({str(n): v for n, v in enumerate(template.variables, start=1)})
        else:
            kwargs["body"] = body
        kwargs["messaging_service_sid" if sender.startswith("MG") else "from_"] = sender
        return (await self.client.messages.create_async(**kwargs)).sid

    # Sends a long SMS in several calls, each reported to the worker's part log (PartLog).
    sends_parts = True

    async def send(self, row: OutboxRow, message: Rendered, parts: "PartLog | None" = None) -> str:
        """Returns the first part's id. With a part log, parts it already holds are not sent
        again, and each accepted part is reported before the next call starts."""
        to, sender = self._addresses(row.recipient)
        if self.name == WHATSAPP and message.template is not None:
            bodies, template = [None], message.template
        else:
            bodies, template = sms_text.sends(layout(message, self.settings.campaign_timezone)), None
        done = dict(parts.sent) if parts is not None else {}
        for part, body in enumerate(bodies):
            if part in done:
                continue
            if parts is not None:
                await parts.starting(part)
            try:
                done[part] = await self._create(to, sender, body, template)
            except TwilioRestException as error:
                raise _send_error(error) from error
            except OSError as error:
                if not never_sent(error):
                    raise  # a read timeout, a reset after the request went out: it may have arrived
                raise SendError(f"Twilio unreachable: {error!r}", retry=True) from error
            if parts is not None:
                await parts.accepted(part, done[part])
        return done[min(done)] if done else ""


class PartLog(Protocol):
    """What the worker keeps of a message's calls: the parts already accepted ({part: id}),
    told before each call starts and after each is accepted."""

    sent: dict[int, str]

    async def starting(self, part: int) -> None: ...

    async def accepted(self, part: int, provider_id: str) -> None: ...


def _send_error(error: TwilioRestException) -> SendError:
    text = f"Twilio {error.status} {error.code}: {error.msg}"
    failure = ERRORS.get(error.code) or (RETRY if error.status == 429 or error.status >= 500 else FINAL)
    return failure.error(text)


class TwilioAdapter(Adapter):
    # Both without buttons (see layout: choices are numbered); a body is at most 1600 characters
    # (a longer text goes in several calls: sms_text.sends).
    channels = {
        # 10 a second: a long code's usual limit (a short code takes 100: OUTBOX_SEND_RATES);
        # MMS carries media (US and Canadian numbers)
        "sms": Traits(rate=10, window=NO_WINDOW, max_length=1600, buttons=0, media=True),
        WHATSAPP: Traits(rate=20, window=WHATSAPP_WINDOW, max_length=1600, buttons=0, media=True),
    }
    routes = (Route(RouteKind.RECEIVE, "/twilio"), Route(RouteKind.STATUS, "/twilio/status"))
    signature_header = "X-Twilio-Signature"
    statuses = STATUSES
    errors = ERRORS

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.twilio_enabled

    def verify(self, request: WebhookRequest) -> bool:
        params = form(request.body)  # a body that is not a form is a 400 whatever its signature
        signature, token = request.headers.get("x-twilio-signature"), self.settings.twilio_auth_token
        if not signature or not token:
            return False
        return RequestValidator(token).validate(request.url, params, signature)

    def parse(self, kind: RouteKind, request: WebhookRequest) -> Parsed:
        if kind == RouteKind.STATUS:
            return Parsed(deliveries=[delivery_from(form(request.body))])
        return Parsed(messages=[message_from(form(request.body))])

    def answer(self, kind: RouteKind) -> Answer:
        return Answer(EMPTY_TWIML, "text/xml")

    def channel(self, name: str) -> "TwilioChannel":
        return TwilioChannel(name, self.settings)
