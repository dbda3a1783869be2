"""Channel adapters: one module per channel. Each parses inbound requests (and verifies their
signature), and renders and sends outbound messages. Everything between is the pipeline."""
from bot.channels.base import Channel, Rendered
from bot.channels.webchat import WebChat


def registry() -> dict[str, Channel]:
    """The channels that can send, by name."""
    channels: list[Channel] = [WebChat()]
    return {channel.name: channel for channel in channels}


__all__ = ["Channel", "Rendered", "registry"]
