"""Telegram: updates arrive on our webhook with the secret we registered (`onramp telegram
set-webhook`); python-telegram-bot parses them and sends through the Bot API at
TELEGRAM_API_BASE (a local fake in tests). Choices are inline keyboards."""
import secrets

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.channels.base import Rendered, SendError
from bot.phones import e164
from bot.pipeline.inbound import Inbound, MediaKind
from campaign.models import OutboxRow
from onramp.settings import Settings


class Malformed(ValueError):
    pass


def verify(settings: Settings, secret_header: str | None) -> bool:
    expected = settings.telegram_webhook_secret
    return bool(expected and secret_header) and secrets.compare_digest(secret_header.encode(), expected.encode())


def parse(data: dict) -> Inbound | None:
    """The message in an update; None for updates we do not act on (edits, joins...)."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise Malformed("an update needs an integer update_id")
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError) as error:
        raise Malformed(f"not a Telegram update: {error}") from error
    provider_id = str(update.update_id)
    if update.callback_query is not None:  # a tap on an inline keyboard button
        query = update.callback_query
        if query.message is None or not query.data:
            return None
        return Inbound(channel="telegram", external_id=str(query.message.chat.id), provider_id=provider_id,
                       text=query.data, payload=query.data,
                       language_hint=query.from_user.language_code)
    message = update.message
    if message is None or message.from_user is None:
        return None
    chat, user = str(message.chat.id), message.from_user
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
    return Bot(settings.telegram_bot_token, base_url=f"{settings.telegram_api_base.rstrip('/')}/bot")


class TelegramChannel:
    name = "telegram"
    idempotent = False

    def __init__(self, settings: Settings):
        self.settings = settings
        self.bot = make_bot(settings)

    async def send(self, session: Session, row: OutboxRow, message: Rendered) -> str:
        markup = None
        if message.choices:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(c.title, callback_data=c.payload[:64])] for c in message.choices])
        try:
            await self.bot.initialize()
            sent = await self.bot.send_message(chat_id=int(row.recipient), text=message.text, reply_markup=markup)
        except Forbidden as error:  # blocked by the user: unreachable, and counted as an opt-out
            raise SendError(f"Telegram: {error}", retry=False, opted_out=True, unreachable=True) from error
        except RetryAfter as error:
            seconds = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") else float(error.retry_after)
            raise SendError(f"Telegram: {error}", retry=True, retry_after=seconds) from error
        except BadRequest as error:
            raise SendError(f"Telegram: {error}", retry=False) from error
        except (NetworkError, TelegramError) as error:
            raise SendError(f"Telegram: {error}", retry=True) from error
        return str(sent.message_id)
