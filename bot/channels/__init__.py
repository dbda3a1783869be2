"""Channel adapters: one module per provider, each keeping the contract of bot/channels/base.py
(its webhook routes, verification, parsing into neutral messages and delivery reports, layout
and sending) and declaring its channels' traits. Everything between is the pipeline."""
from collections.abc import Mapping

from bot.channels.base import NO_WINDOW, Adapter, Channel, ReplyWindow, Rendered, Sender, Traits
from bot.channels.telegram import TelegramAdapter
from bot.channels.twilio import TwilioAdapter
from bot.channels.webchat import WebChatAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from campaign import handoffs
from onramp.settings import Settings, get_settings

ADAPTERS: list[type[Adapter]] = [WebChatAdapter, TwilioAdapter, TelegramAdapter, WhatsAppCloudAdapter]


class UndeclaredChannel(RuntimeError):
    """No adapter declares this channel's traits (its send rate first of all)."""


def enabled(settings: Settings) -> list[type[Adapter]]:
    """The adapters whose credentials are set (the web chat always)."""
    return [adapter for adapter in ADAPTERS if adapter.enabled(settings)]


def registry(settings: Settings | None = None) -> dict[str, Channel]:
    """The channels that can send, by name."""
    settings = settings or get_settings()
    return {name: adapter(settings).channel(name) for adapter in enabled(settings) for name in adapter.channels}


def traits(channel: str) -> Traits:
    """What the adapter carrying this channel declares of it; UndeclaredChannel when none does,
    with what to declare. (ADAPTERS is read at each call: a test may add an adapter.)"""
    for adapter in ADAPTERS:
        if channel not in getattr(adapter, "channels", ()):
            continue
        found = adapter.channels[channel] if isinstance(adapter.channels, Mapping) else None
        if isinstance(found, Traits):
            return found
        raise UndeclaredChannel(
            f"the {channel!r} channel of {adapter.__name__} declares no traits, so no send rate: declare them in "
            f"{adapter.__name__}.channels, e.g. {{{channel!r}: Traits(rate=<messages per second>, window=NO_WINDOW, "
            "max_length=..., buttons=..., media=...)}} (bot/channels/base.py Traits; docs/adding-a-channel.md)")
    raise UndeclaredChannel(
        f"no adapter in bot.channels.ADAPTERS declares the {channel!r} channel, so it has no send rate: add its adapter, "
        f"whose `channels` maps {channel!r} to its Traits(rate=<messages per second>, window=..., max_length=..., "
        "buttons=..., media=...) (docs/adding-a-channel.md)")


def reply_window(channel: str) -> ReplyWindow:
    """The channel's reply window. A channel no adapter declares has none here (only the
    transcript of an old row can ask for one: the worker refuses to start with such a channel)."""
    try:
        return traits(channel).window
    except UndeclaredChannel:
        return NO_WINDOW


def numbers_choices(channel: str) -> bool:
    """Whether this channel shows choices as a numbered list, so that "2" picks the second."""
    try:
        return traits(channel).numbers_choices
    except UndeclaredChannel:
        return False


# campaign/ cannot import bot/: the organizer's reply box (campaign/handoffs.py) asks the
# adapters' declared window through this.
handoffs.know_reply_windows(lambda channel: reply_window(channel).human)

__all__ = ["ADAPTERS", "Adapter", "Channel", "Rendered", "Sender", "Traits", "UndeclaredChannel", "enabled",
           "numbers_choices", "registry", "reply_window", "traits"]
