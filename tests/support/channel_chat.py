"""A supporter on a real channel: posts signed webhooks the way the provider does, and reads the
bot's answers from what the provider's fake was asked to send."""
import time
import uuid

import httpx
from sqlalchemy import create_engine, func, select

from bot import catalog
from campaign.models import Message, OutboxRow, utcnow
from tests.support import signing
from tests.support.chat import SOON, catalog_key

PUBLIC = "https://onramp.example.org"
SECRETS = {
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32, "TWILIO_AUTH_TOKEN": "e2e-twilio-token", "TWILIO_SMS_FROM": "+12125550000",
    "TWILIO_WHATSAPP_FROM": "+12125550001", "TELEGRAM_BOT_TOKEN": "4242:e2e", "TELEGRAM_WEBHOOK_SECRET": "e2e-telegram-secret",
    "WHATSAPP_ACCESS_TOKEN": "e2e-meta-token", "WHATSAPP_PHONE_NUMBER_ID": "1099", "WHATSAPP_APP_SECRET": "e2e-meta-secret",
    "WHATSAPP_VERIFY_TOKEN": "e2e-verify", "PUBLIC_BASE_URL": PUBLIC,
    # a public address: the api refuses to start with the default or a short service token
    "SERVICE_TOKEN": "e2e-service-token-" + "s" * 32,
}


class ChannelChat:
    channel = ""

    def __init__(self, api_url: str, db_url: str, fake, number: int):
        self.api_url, self.fake = api_url, fake
        self.engine = create_engine(db_url)
        self.phone = f"+1718555{number:04d}"
        self.seen = 0
        self.last_choices: list[tuple[str, str]] = []
        self.volunteer_id: int | None = None

    # what the provider posts
    def post(self, text: str) -> str: ...
    def tap(self, title: str, payload: str) -> str: ...
    # what the fake was asked to send to this person: (text, [(title, payload or number)])
    def mine(self) -> list[tuple[str, list[tuple[str, str]]]]: ...

    def wait(self, provider_id: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while time.monotonic() < deadline:
                row = conn.execute(select(Message.status, Message.volunteer_id).where(
                    Message.provider_id == provider_id, Message.direction == "in")).first()
                if row is not None:
                    unsent = conn.execute(select(func.count()).select_from(OutboxRow).where(
                        OutboxRow.volunteer_id == row.volunteer_id, OutboxRow.status.in_(("pending", "sending")),
                        OutboxRow.send_after <= utcnow() + SOON)).scalar()
                    if row.status != "received" and unsent == 0:
                        self.volunteer_id = row.volunteer_id
                        conn.rollback()
                        return
                conn.rollback()
                time.sleep(0.2)
        raise TimeoutError(f"{self.channel} message {provider_id} not answered")

    def replies(self) -> list[tuple[str, list]]:
        new = self.mine()[self.seen:]
        self.seen += len(new)
        if new and new[-1][1]:
            self.last_choices = new[-1][1]
        return new

    def say(self, text: str) -> list[tuple[str, list]]:
        self.wait(self.post(text))
        return self.replies()

    def tap_first(self) -> list[tuple[str, list]]:
        title, payload = self.last_choices[0]
        self.wait(self.tap(title, payload))
        return self.replies()


class Sms(ChannelChat):
    channel = "sms"
    prefix = ""

    def webhook(self, text: str, sid: str) -> httpx.Response:
        """Post an inbound message with this MessageSid (the same one again: Twilio retrying)."""
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"], "From": self.prefix + self.phone,
                  "To": self.prefix + SECRETS["TWILIO_SMS_FROM"], "Body": text, "NumMedia": "0", "ApiVersion": "2010-04-01"}
        body, headers = signing.twilio(SECRETS["TWILIO_AUTH_TOKEN"], f"{PUBLIC}/webhooks/twilio", params)
        return httpx.post(f"{self.api_url}/webhooks/twilio", content=body, headers=headers)

    def post(self, text: str) -> str:
        sid = "SM" + uuid.uuid4().hex
        self.webhook(text, sid).raise_for_status()
        return sid

    def tap(self, title: str, payload: str) -> str:
        return self.post(payload)  # the number of the choice

    def mine(self):
        out = []
        self.stop_notices = 0
        for sent in httpx.get(f"{self.fake.url}/_sent").json():
            if sent["To"] == self.prefix + self.phone:
                text, _, menu = sent["Body"].partition("\n\n")
                head, _, last = text.rpartition("\n")
                if head and any(catalog_key(last, lang) == "sms_stop_notice" for lang in catalog.available()):
                    text, self.stop_notices = head, self.stop_notices + 1  # said once, after the first reply
                numbered = [line.split(". ", 1) for line in menu.splitlines()[1:]]
                out.append((text, [(title, number) for number, title in numbered]))
        return out


class TwilioWhatsApp(Sms):
    channel = "twilio_whatsapp"
    prefix = "whatsapp:"


class Telegram(ChannelChat):
    channel = "telegram"

    def __init__(self, *args):
        super().__init__(*args)
        self.chat_id = int(self.phone[-7:])

    def _update(self, body: dict, provider_id: str) -> str:
        update_id = uuid.uuid4().int % 2**31
        raw, headers = signing.telegram(SECRETS["TELEGRAM_WEBHOOK_SECRET"], {"update_id": update_id, **body})
        httpx.post(f"{self.api_url}/webhooks/telegram", content=raw, headers=headers).raise_for_status()
        return provider_id  # what the adapter stores it by: the chat and message id, or the tap's id

    def user(self):
        return {"id": self.chat_id, "is_bot": False, "first_name": "Sam"}

    def post(self, text: str) -> str:
        self.sent_count = getattr(self, "sent_count", 0) + 1  # each message its own id in the chat, as Telegram numbers them
        return self._update({"message": {"message_id": self.sent_count, "date": 1764000000, "from": self.user(),
                                         "chat": {"id": self.chat_id, "type": "private"}, "text": text}},
                            f"{self.chat_id}:{self.sent_count}")

    def tap(self, title: str, payload: str) -> str:
        tap_id = uuid.uuid4().hex
        return self._update({"callback_query": {"id": tap_id, "from": self.user(), "chat_instance": "1", "data": payload,
                                                "message": {"message_id": 2, "date": 1764000000, "chat": {"id": self.chat_id, "type": "private"},
                                                            "text": "?"}}}, f"callback:{tap_id}")

    def mine(self):
        out = []
        for sent in httpx.get(f"{self.fake.url}/_sent").json():
            if int(sent["chat_id"]) == self.chat_id:
                keyboard = (sent.get("reply_markup") or {}).get("inline_keyboard") or []
                out.append((sent["text"], [(row[0]["text"], row[0]["callback_data"]) for row in keyboard]))
        return out


class WhatsAppCloud(ChannelChat):
    channel = "whatsapp_cloud"

    def _webhook(self, message: dict) -> str:
        wamid = "wamid." + uuid.uuid4().hex
        body, headers = signing.meta(SECRETS["WHATSAPP_APP_SECRET"], {
            "object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"phone_number_id": SECRETS["WHATSAPP_PHONE_NUMBER_ID"]},
                "contacts": [{"profile": {"name": "Sam"}, "wa_id": self.phone[1:]}],
                "messages": [{"from": self.phone[1:], "id": wamid, "timestamp": "1764000000", **message}]}}]}]})
        httpx.post(f"{self.api_url}/webhooks/whatsapp_cloud", content=body, headers=headers).raise_for_status()
        return wamid

    def post(self, text: str) -> str:
        return self._webhook({"type": "text", "text": {"body": text}})

    def tap(self, title: str, payload: str) -> str:
        return self._webhook({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": payload, "title": title}}})

    def mine(self):
        out = []
        for sent in httpx.get(f"{self.fake.url}/_sent").json():
            if sent["to"] == self.phone[1:]:
                if sent["type"] == "text":
                    out.append((sent["text"]["body"], []))
                else:
                    action = sent["interactive"]["action"]
                    items = [b["reply"] for b in action.get("buttons", [])] or action["sections"][0]["rows"]
                    out.append((sent["interactive"]["body"]["text"], [(i["title"], i["id"]) for i in items]))
        return out


CHANNELS = {"sms": Sms, "twilio_whatsapp": TwilioWhatsApp, "telegram": Telegram, "whatsapp_cloud": WhatsAppCloud}
