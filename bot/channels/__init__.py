"""Channel adapters: one module per channel. Each parses inbound requests (and verifies their
signature), and renders and sends outbound messages. Everything between is the pipeline."""
from bot.channels.base import Channel, Rendered
from bot.channels.webchat import WebChat
from onramp.settings import Settings, get_settings


def registry(settings: Settings | None = None) -> dict[str, Channel]:
    """The channels that can send, by name: the web chat always, the others once their
    credentials are set."""
    settings = settings or get_settings()
    channels: list[Channel] = [WebChat()]
    if settings.twilio_enabled:
        from bot.channels.twilio import TwilioChannel

        channels += [TwilioChannel("sms", settings), TwilioChannel("whatsapp", settings)]
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings))
    if settings.whatsapp_cloud_enabled:
        from bot.channels.whatsapp_cloud import WhatsAppCloudChannel

        channels.append(WhatsAppCloudChannel(settings))
    return {channel.name: channel for channel in channels}


__all__ = ["Channel", "Rendered", "registry"]
