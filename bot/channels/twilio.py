"""Twilio: SMS and WhatsApp on one webhook (WhatsApp numbers arrive as "whatsapp:+E164").

Inbound requests are checked with the twilio library's RequestValidator against the public URL
(PUBLIC_BASE_URL); outbound goes through its Client, pointed at TWILIO_API_BASE so that a local
fake can stand in. Choices are numbered; "1", "2", ... come back as the choice (bot/pipeline).
"""
import asyncio

from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import catalog
from bot.channels import sms_text
from bot.channels.base import Rendered, SendError
from bot.pipeline.inbound import Inbound, media_kind
from bot.phones import e164, region_language
from campaign.models import OutboxRow
from onramp.settings import Settings

WHATSAPP_PREFIX = "whatsapp:"
# Twilio error codes: the person replied STOP to the carrier; the number cannot receive SMS.
UNSUBSCRIBED, NOT_A_MOBILE, INVALID_NUMBER = 21610, 21614, 21211


class BadRequest(ValueError):
    pass


def verify(settings: Settings, url: str, params: dict, signature: str | None) -> bool:
    if not signature or not settings.twilio_auth_token:
        return False
    return RequestValidator(settings.twilio_auth_token).validate(url, params, signature)


def parse(params: dict) -> Inbound:
    sid = params.get("MessageSid") or params.get("SmsSid")
    sender = params.get("From") or ""
    if not sid or not sender:
        raise BadRequest("MessageSid and From are required")
    channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
    phone = e164(sender.removeprefix(WHATSAPP_PREFIX))
    if phone is None:
        raise BadRequest(f"From is not a phone number: {sender[:40]!r}")
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


def parse_status(params: dict) -> tuple[str, str, str | None]:
    sid, status = params.get("MessageSid") or params.get("SmsSid"), params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status:
        raise BadRequest("MessageSid and MessageStatus are required")
    return sid, status.lower(), params.get("ErrorCode")


def layout(message: Rendered, timezone: str) -> str:
    """SMS has no buttons: choices become a numbered list."""
    if not message.choices:
        return message.text
    lines = [message.text, "", catalog.render("sms_reply_with_number", {}, message.language, timezone)]
    lines += [f"{n}. {choice.title}" for n, choice in enumerate(message.choices, start=1)]
    return "\n".join(lines)


class TwilioChannel:
    idempotent = False

    def __init__(self, name: str, settings: Settings):
        self.name = name  # "sms" or "whatsapp"
        self.settings = settings
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token)
            self._client.api.base_url = self.settings.twilio_api_base.rstrip("/")
        return self._client

    def _addresses(self, recipient: str) -> tuple[str, str]:
        if self.name == "whatsapp":
            return WHATSAPP_PREFIX + recipient, WHATSAPP_PREFIX + self.settings.twilio_whatsapp_from
        return recipient, self.settings.twilio_sms_from

    def _create(self, to: str, sender: str, body: str) -> str:
        kwargs = {"to": to, "body": body, "status_callback": f"{self.settings.base_url}/webhooks/twilio/status"}
        kwargs["messaging_service_sid" if sender.startswith("MG") else "from_"] = sender
        return self.client.messages.create(**kwargs).sid

    async def send(self, session: Session, row: OutboxRow, message: Rendered) -> str:
        to, sender = self._addresses(row.recipient)
        sids = []
        for part in sms_text.sends(layout(message, self.settings.campaign_timezone)):
            try:
                sids.append(await asyncio.to_thread(self._create, to, sender, part))
            except TwilioRestException as error:
                raise _send_error(error) from error
            except OSError as error:  # connection refused, reset, timed out
                raise SendError(f"Twilio unreachable: {error!r}", retry=True) from error
        return ",".join(sids)


def _send_error(error: TwilioRestException) -> SendError:
    text = f"Twilio {error.status} {error.code}: {error.msg}"
    if error.code == UNSUBSCRIBED:
        return SendError(text, retry=False, opted_out=True)
    if error.status == 429 or error.status >= 500:
        return SendError(text, retry=True)
    return SendError(text, retry=False)
