"""Channel adapters: one module per provider, each keeping the contract of bot/channels/base.py
(its webhook routes, verification, parsing into neutral messages and delivery reports, layout
and sending). Everything between is the pipeline."""
from bot.channels.base import Adapter, Channel, Rendered
from bot.channels.telegram import TelegramAdapter
from bot.channels.twilio import TwilioAdapter
from bot.channels.webchat import WebChatAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from onramp.settings import Settings, get_settings

ADAPTERS: list[type[Adapter]] = [WebChatAdapter, TwilioAdapter, TelegramAdapter, WhatsAppCloudAdapter]


def enabled(settings: Settings) -> list[type[Adapter]]:
    """The adapters whose credentials are set (the web chat always)."""
    return [adapter for adapter in ADAPTERS if adapter.enabled(settings)]


def registry(settings: Settings | None = None) -> dict[str, Channel]:
    """The channels that can send, by name."""
    settings = settings or get_settings()
    return {name: adapter(settings).channel(name) for adapter in enabled(settings) for name in adapter.channels}


def numbers_choices(channel: str) -> bool:
    """Whether this channel shows choices as a numbered list, so that "2" picks the second."""
    return any(adapter.numbers_choices for adapter in ADAPTERS if channel in adapter.channels)


__all__ = ["ADAPTERS", "Adapter", "Channel", "Rendered", "enabled", "numbers_choices", "registry"]
