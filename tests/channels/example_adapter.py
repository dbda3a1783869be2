"""An example adapter, the one docs/adding-a-channel.md walks through: "Parrot", a made-up SMS
provider with a small JSON API. Its tests (test_example_adapter.py) are one table run through
the harness, and the checks every adapter must pass run over it too.

Parrot signs each webhook with X-Parrot-Signature, the hex HMAC-SHA256 of the raw body by our
secret; posts messages to /webhooks/parrot and delivery reports to /webhooks/parrot/status; and
takes POST {api}/v1/messages {"to", "text"} with a bearer token, answering {"id"} or
{"error": {"code", "message"}}. A real adapter reads its secret, token and API base from
onramp/settings.py (fields, and an `enabled` property); this one is set by its test fixture.
"""
import hashlib
import hmac
import json

import httpx

from bot import catalog
from bot.channels.base import (FINAL, NO_WINDOW, RETRY, Adapter, may_have_arrived, Delivery, Failure, Parsed, ParseError, Rendered,
                               Route, RouteKind, SendError, Traits, WebhookRequest)
from bot.phones import e164
from bot.channels.received import Inbound
from campaign.delivery import ContactEvent, DeliveryStatus
from campaign.models import OutboxRow

# Parrot's words, each with its neutral meaning: nothing outside this module may name them.
STATUSES = {"enroute": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED, "rejected": DeliveryStatus.FAILED}
ERRORS = {
    4001: Failure(opted_out=True),  # the person texted STOP to Parrot
    4004: Failure(unreachable=True),  # the number has gone
    4290: RETRY,  # too many requests
}


class ParrotChannel:
    name = "parrot"
    idempotent = False  # the same row sent twice would reach the person twice

    def __init__(self, settings, api_base: str, token: str):
        self.settings, self.url, self.token = settings, f"{api_base.rstrip('/')}/v1/messages", token

    def layout(self, message: Rendered) -> str:
        """No buttons: choices become numbered lines, and "2" comes back as the second."""
        if not message.choices:
            return message.text
        prompt = catalog.render("sms_reply_with_number", {}, message.language, self.settings.campaign_timezone)
        return "\n".join([message.text, "", prompt, *(f"{n}. {c.title}" for n, c in enumerate(message.choices, 1))])

    async def send(self, row: OutboxRow, message: Rendered) -> str:
        try:
            async with httpx.AsyncClient(timeout=self.settings.provider_read_timeout_seconds) as client:
                response = await client.post(self.url, json={"to": row.recipient, "text": self.layout(message)},
                                             headers={"Authorization": f"Bearer {self.token}"})
        except httpx.HTTPError as error:
            if may_have_arrived(error):
                raise  # a read timeout, a reset after the request went out: it may have arrived
            raise SendError(f"Parrot unreachable: {error!r}", retry=True) from error
        if response.status_code < 400:
            return response.json()["id"]
        code = (response.json().get("error") or {}).get("code")
        failure = ERRORS.get(code) or (RETRY if response.status_code >= 500 else FINAL)
        raise failure.error(f"Parrot {response.status_code} {code}")


class ParrotAdapter(Adapter):
    # Its one channel and what differs about it: Parrot takes 10 messages a second from one sender,
    # anyone may write any time, 1000 characters a message, no buttons (choices are numbered, see
    # layout), text only.
    channels = {"parrot": Traits(rate=10, window=NO_WINDOW, max_length=1000, buttons=0, media=False)}
    routes = (Route(RouteKind.RECEIVE, "/parrot"), Route(RouteKind.STATUS, "/parrot/status"))
    signature_header = "X-Parrot-Signature"
    statuses = STATUSES
    errors = ERRORS
    secret, token, api_base = "", "", ""  # set by the test fixture (a real adapter: from Settings)

    def verify(self, request: WebhookRequest) -> bool:
        given = request.headers.get("x-parrot-signature") or ""
        expected = hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        return bool(self.secret and given) and hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))

    def parse(self, kind: RouteKind, request: WebhookRequest) -> Parsed:
        try:
            data = json.loads(request.body)
            if kind == RouteKind.STATUS:
                failure = ERRORS.get(data.get("error"))
                event = ContactEvent.OPTED_OUT if failure and failure.opted_out else (
                    ContactEvent.UNREACHABLE if failure and failure.unreachable else None)
                return Parsed(deliveries=[Delivery("parrot", str(data["id"]), STATUSES[data["status"]],
                                                   str(data["error"]) if data.get("error") else None, event)])
            phone = e164(str(data["from"]))
            if phone is None:
                raise ParseError("from is not a phone number")
            return Parsed(messages=[Inbound(channel="parrot", external_id=phone, provider_id=str(data["id"]),
                                            text=str(data.get("text") or ""), phone=phone, signup_source="parrot")])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ParseError(f"not a Parrot webhook: {error!r}") from error

    def channel(self, name: str) -> ParrotChannel:
        return ParrotChannel(self.settings, self.api_base, self.token)
