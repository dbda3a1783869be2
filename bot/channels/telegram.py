"""Telegram: updates arrive on our webhook with the secret we registered (`onramp telegram
set-webhook`); python-telegram-bot parses them and sends through the Bot API at
TELEGRAM_API_BASE (a local fake in tests). Choices are inline keyboards."""
import json
import secrets

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.request import HTTPXRequest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.base import (FINAL, NO_WINDOW, RETRY, Adapter, may_have_arrived, Failure, Parsed, ParseError, Rendered, Route,
                               RouteKind, Traits, WebhookRequest)
from bot.phones import e164
from bot.channels.received import Inbound, MediaKind
from campaign.models import OutboxRow
from onramp.settings import Settings


# The Bot API's errors (python-telegram-bot raises one class per kind), in neutral words; the
# most specific class of an error that is listed decides.
ERRORS = {
    Forbidden: Failure(opted_out=True, unreachable=True),  # 403: the person blocked the bot
    RetryAfter: RETRY,  # 429, with how long to wait
    BadRequest: FINAL,
    NetworkError: RETRY,  # only when no connection was made (send): otherwise the send is unknown
    TelegramError: RETRY,
}


def update_from(data: dict) -> Inbound | None:
    """The message in an update; None for updates we do not act on (edits, joins...)."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ParseError("an update needs an integer update_id")
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError) as error:
        raise ParseError(f"not a Telegram update: {error}") from error
    if update.callback_query is not None:  # a tap on an inline keyboard button
        query = update.callback_query
        if query.message is None or not query.data:
            return None
        provider_id = f"callback:{query.id}"  # see below: a tap's own id, unique for good
        return Inbound(channel="telegram", external_id=str(query.message.chat.id), provider_id=provider_id,
                       text=query.data, payload=query.data,
                       language_hint=query.from_user.language_code)
    message = update.message
    if message is None or message.from_user is None:
        return None
    chat, user = str(message.chat.id), message.from_user
    # A message is the same message by its chat and its id in that chat, whichever update brings
    # it: Telegram may start a new random update_id sequence after a quiet week, and a repeated
    # update_id must not make a new message a duplicate of an old one.
    provider_id = f"{chat}:{message.message_id}"
    hint = (user.language_code or "").split("-")[0] or None
    if message.contact is not None:
        # a phone number is linked only when people share their own contact
        own = message.contact.user_id == user.id
        phone = e164(message.contact.phone_number) if own else None
        return Inbound(channel="telegram", external_id=chat, provider_id=provider_id, text="", phone=phone,
                       language_hint=hint)
    text = message.text or message.caption or ""
    if message.location is not None and not text:  # a pin, a live location, or a venue's place
        return Inbound(channel="telegram", external_id=chat, provider_id=provider_id, text="", language_hint=hint,
                       location=(message.location.latitude, message.location.longitude))
    if not text and (media := _media(message)):
        return Inbound(channel="telegram", external_id=chat, provider_id=provider_id, text="", language_hint=hint,
                       media=media)
    if text.startswith("/start"):
        # a deep link t.me/<bot>?start=<code> says where the supporter came from
        code = text.removeprefix("/start").strip()[:48]
        return Inbound(channel="telegram", external_id=chat, provider_id=provider_id, text=text, event="start",
                       language_hint=hint, signup_source=f"telegram:{code}" if code else "telegram")
    return Inbound(channel="telegram", external_id=chat, provider_id=provider_id, text=text, language_hint=hint)


def _media(message) -> MediaKind | None:
    if message.voice or message.audio or message.video_note:
        return MediaKind.VOICE
    if message.sticker:
        return MediaKind.STICKER
    if message.photo:
        return MediaKind.IMAGE
    if message.video or message.animation:
        return MediaKind.VIDEO
    if message.document:
        return MediaKind.FILE
    return None


def make_bot(settings: Settings) -> Bot:
    request = HTTPXRequest(connect_timeout=settings.provider_connect_timeout_seconds,
                           read_timeout=settings.provider_read_timeout_seconds)
    return Bot(settings.telegram_bot_token, base_url=f"{settings.telegram_api_base.rstrip('/')}/bot", request=request)


class TelegramChannel:
    name = "telegram"
    idempotent = False

    def __init__(self, settings: Settings):
        self.settings = settings
        self.bot = make_bot(settings)

    async def send(self, row: OutboxRow, message: Rendered) -> str:
        markup = None
        if message.choices:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(c.title, callback_data=c.payload[:64])] for c in message.choices])
        try:
            await self.bot.initialize()
            sent = await self.bot.send_message(chat_id=int(row.recipient), text=message.text, reply_markup=markup)
        except TelegramError as error:
            if may_have_arrived(error):
                raise  # TimedOut on reading, a reset after the request went out: it may have arrived
            failure = next(ERRORS[kind] for kind in type(error).__mro__ if kind in ERRORS)
            seconds = None
            if isinstance(error, RetryAfter):
                seconds = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") else float(error.retry_after)
            raise failure.error(f"Telegram: {error}", retry_after=seconds) from error
        return str(sent.message_id)


class TelegramAdapter(Adapter):
    # the Bot API: 4096 characters a message, up to 100 inline keyboard buttons, photos and files
    channels = {"telegram": Traits(rate=25, window=NO_WINDOW, max_length=4096, buttons=100, media=True)}
    routes = (Route(RouteKind.RECEIVE, "/telegram"),)
    signature_header = "X-Telegram-Bot-Api-Secret-Token"
    errors = ERRORS

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.telegram_enabled

    def verify(self, request: WebhookRequest) -> bool:
        expected, given = self.settings.telegram_webhook_secret, request.headers.get("x-telegram-bot-api-secret-token")
        return bool(expected and given) and secrets.compare_digest(given.encode(), expected.encode())

    def parse(self, kind: RouteKind, request: WebhookRequest) -> Parsed:
        try:
            data = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ParseError(f"the body is not JSON: {error}") from error
        message = update_from(data)
        return Parsed(messages=[message] if message else [])

    def channel(self, name: str) -> TelegramChannel:
        return TelegramChannel(self.settings)
