"""A received message in neutral words: what a channel adapter makes of a provider's request
(bot/channels/base.py), before campaign/inbox.py stores it and the pipeline answers it."""
from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    """What a person sent that is not text (the bot answers that it reads only text)."""

    VOICE = "voice"
    IMAGE = "image"
    STICKER = "sticker"
    VIDEO = "video"
    FILE = "file"


def media_kind(content_type: str) -> MediaKind:
    """The kind of a MIME type ("audio/ogg" is a voice note, "image/webp" a sticker or image)."""
    major = (content_type or "").split("/")[0].lower()
    return {"audio": MediaKind.VOICE, "image": MediaKind.IMAGE, "video": MediaKind.VIDEO}.get(major, MediaKind.FILE)


@dataclass(frozen=True)
class Inbound:
    """One message as a channel adapter parsed it, before anything is stored."""

    channel: str
    external_id: str  # who wrote, as the provider names them (phone, chat id, web session)
    provider_id: str  # the provider's message id: the deduplication key
    text: str
    payload: str | None = None  # what a tapped choice carries, such as "/affirm"
    phone: str | None = None  # E.164, when the channel knows it
    language_hint: str | None = None
    signup_source: str | None = None
    event: str | None = None  # what the provider reports besides text, e.g. "start" (Telegram's /start link)
    location: tuple[float, float] | None = None  # a shared pin (latitude, longitude)
    media: str | None = None  # what came instead of text: a MediaKind
