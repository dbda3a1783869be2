from dataclasses import dataclass, field


@dataclass(frozen=True)
class Inbound:
    """One message as a channel adapter parsed it, before anything is stored."""

    channel: str
    external_id: str  # who wrote, as the provider names them (phone, chat id, web session)
    provider_id: str  # the provider's message id: the deduplication key
    text: str
    payload: str | None = None  # a button tap, such as "/affirm"
    phone: str | None = None  # E.164, when the channel knows it
    language_hint: str | None = None
    signup_source: str | None = None
    event: str | None = None  # what the provider reports besides text, e.g. "start" (Telegram's /start link)
    extra: dict = field(default_factory=dict)
