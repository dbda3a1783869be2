"""The contract every channel adapter keeps.

An adapter owns its whole contract with one provider: the webhook routes it answers (receive,
status, handshake), how a request is verified, how it is parsed into neutral inbound messages
and delivery reports, what the provider is answered, and how a rendered message is laid out and
sent. Provider words (status names, error codes) stop here: each adapter translates them with a
mapping table into the neutral values of campaign/delivery.py and SendError. api/routes/webhooks.py
mounts every enabled adapter's routes; the worker sends through its channels.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol

import aiohttp
import httpx

from bot.channels.received import Inbound
from campaign.delivery import ContactEvent, DeliveryStatus
from campaign.models import OutboxRow
from onramp.settings import Settings


class Sender(StrEnum):
    """Who writes a message, as far as a channel's reply window is concerned."""

    BOT = "bot"  # the bot and everything automated (replies, reminders, notifications)
    HUMAN = "human"  # an organizer writing from the dashboard
    TEMPLATE = "template"  # an approved template (WhatsApp's), standing for the bot outside its window


@dataclass(frozen=True)
class ReplyWindow:
    """How long after the person's last message each kind of sender may still write to them
    freely. None: that sender may write any time; timedelta(0): never (a channel without
    templates). WhatsApp: 24 hours for the bot and for a human, templates any time. Instagram
    would say 24 hours for the bot and 7 days for a human agent."""

    bot: timedelta | None = None
    human: timedelta | None = None
    template: timedelta | None = None

    def open_for(self, sender: Sender, last_inbound: datetime | None, now: datetime) -> bool | None:
        """Whether `sender` may write freely now, the person having last written at
        `last_inbound`; None where this sender has no window on the channel."""
        limit = getattr(self, sender.value)
        if limit is None:
            return None
        return last_inbound is not None and now - last_inbound < limit


NO_WINDOW = ReplyWindow()  # anyone may write any time (SMS, Telegram, the web chat)
WHATSAPP_WINDOW = ReplyWindow(bot=timedelta(hours=24), human=timedelta(hours=24))  # Twilio's and Meta's alike


@dataclass(frozen=True, kw_only=True)
class Traits:
    """What differs from one channel to another, declared once, on its adapter (`Adapter.channels`),
    and asked of it everywhere else (bot/channels/__init__.py `traits`): nothing outside an adapter
    keeps a list of channel names. Every field must be given."""

    rate: int  # messages per second the provider takes from one sender; OUTBOX_SEND_RATES overrides it
    window: ReplyWindow  # when each kind of sender may write (NO_WINDOW: any time)
    max_length: int | None  # characters the provider takes in one message (None: no limit of its own)
    buttons: int | None  # choices that can be buttons (0: none, they are numbered and "2" picks the second; None: no limit)
    media: bool  # whether a message to the person can carry an image or a file

    def __post_init__(self):
        if isinstance(self.rate, bool) or not isinstance(self.rate, int) or self.rate < 1:
            raise ValueError(f"Traits.rate is messages per second, a whole number of at least 1, not {self.rate!r}")
        if not isinstance(self.window, ReplyWindow):
            raise ValueError(f"Traits.window is a ReplyWindow (NO_WINDOW where anyone may write any time), not {self.window!r}")

    @property
    def numbers_choices(self) -> bool:
        """Choices shown as a numbered list, so that "2" means the second."""
        return self.buttons == 0


TRAITS = tuple(f.name for f in fields(Traits))


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template standing for a message outside the 24-hour window: its id
    (a Twilio ContentSid, or a Meta template name), language, and the values of its variables in
    order ({{1}}, {{2}}...: the catalog message's placeholders, in the order they appear)."""

    id: str
    language: str
    variables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rendered:
    """A message in the recipient's language, before channel-specific layout."""

    text: str
    language: str
    choices: list[Choice] = field(default_factory=list)
    # whether the channel's reply window (WhatsApp's 24 hours) is open for this message's sender,
    # decided upstream from the last inbound message (the adapter gets plain values, not a
    # database session); None where the channel has no window for that sender
    window_open: bool | None = None
    template: Template | None = None  # chosen upstream when the window is closed and one is configured


class SendError(Exception):
    """A send failed, in neutral words. `retry`: trying again later can help (rate limit, provider
    down), after `retry_after` seconds when the provider said so. `opted_out`: the provider says
    the person unsubscribed or blocked us, which is recorded as an opt-out. `unreachable`: this
    identity cannot receive messages any more. `fallback`: this channel cannot carry it now
    (WhatsApp outside the 24-hour window), the named one can."""

    def __init__(self, message: str, retry: bool, retry_after: float | None = None, opted_out: bool = False,
                 unreachable: bool = False, fallback: str | None = None):
        super().__init__(message)
        self.fallback = fallback  # another channel to try, e.g. "sms" outside WhatsApp's window
        self.retry = retry
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.unreachable = unreachable


@dataclass(frozen=True)
class Failure:
    """What one of a provider's errors means, in neutral words: a row of an adapter's error table."""

    retry: bool = False
    opted_out: bool = False
    unreachable: bool = False
    fallback: str | None = None

    def error(self, message: str, retry_after: float | None = None) -> SendError:
        return SendError(message, retry=self.retry, retry_after=retry_after, opted_out=self.opted_out,
                         unreachable=self.unreachable, fallback=self.fallback)


RETRY = Failure(retry=True)
FINAL = Failure()


# Errors that leave no doubt the request never reached the provider: no connection was made, or
# none was free. Anything else that breaks a call (a read timeout, a reset after the request was
# written) may have delivered it: such a send is ambiguous, and the worker marks its row
# `unknown`, never sending it again, rather than risk a second message to a person.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
              aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, ConnectionRefusedError)


def _chain(error: BaseException | None):
    """The error and those it wraps (python-telegram-bot's NetworkError around httpx's)."""
    seen = set()
    while error is not None and id(error) not in seen:
        yield error
        seen.add(id(error))
        error = error.__cause__ or error.__context__


def never_sent(error: BaseException) -> bool:
    """Whether the call surely never reached the provider."""
    return any(isinstance(e, NEVER_SENT) for e in _chain(error))


def may_have_arrived(error: BaseException) -> bool:
    """Whether the transport broke after the request went out (a read timeout, a reset): the
    provider may have taken it. An answer it gave (a 5xx a client library raises) is not that."""
    broken = any(isinstance(e, (httpx.TransportError, aiohttp.ClientError, OSError, TimeoutError)) for e in _chain(error))
    return broken and not never_sent(error)


class Channel(Protocol):
    name: str
    # True when sending the same outbox row twice cannot reach the person twice, so a send
    # interrupted by a crash may simply be done again.
    idempotent: bool

    async def send(self, row: OutboxRow, message: Rendered) -> str:
        """Deliver the message; returns the provider's id for it. Raises SendError. It gets plain
        values, never a database session: no transaction is open during a provider call."""
        ...


class ParseError(ValueError):
    """A webhook an adapter cannot read (answered 400, nothing written): one type for every adapter."""


class RouteKind(StrEnum):
    RECEIVE = "receive"  # inbound messages (and, for some providers, delivery reports too)
    STATUS = "status"  # delivery reports only
    HANDSHAKE = "handshake"  # the provider checks that the webhook is ours (a GET with a challenge)


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    path: str  # below /webhooks
    method: str = "POST"
    aliases: tuple[str, ...] = ()  # older paths that keep working, so deployed provider settings need no change


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's request as plain values."""

    url: str  # the public URL the provider called and signed (PUBLIC_BASE_URL, not our listening address)
    headers: Mapping[str, str]  # case-insensitive
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Delivery:
    """A delivery report in neutral words."""

    channel: str
    provider_id: str
    status: DeliveryStatus
    error_code: str | None = None  # the provider's own code, kept for the record only
    event: ContactEvent | None = None


@dataclass
class Parsed:
    messages: list[Inbound] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """What the provider is told once everything the request carried is stored."""

    body: str = '{"ok":true}'
    media_type: str = "application/json"


class Adapter:
    """One provider's adapter. A subclass names its channels and routes and overrides what its
    provider has; an adapter that is enabled (its credentials are set) has its routes mounted and
    its channels sent through. Built per request from the settings: keep construction cheap."""

    # The channels it carries (their names are stored on identities, messages and outbox rows),
    # each with its traits: send rate, reply window, length limit, buttons, media.
    channels: ClassVar[Mapping[str, Traits]]
    routes: ClassVar[tuple[Route, ...]] = ()
    signature_header: ClassVar[str] = ""  # named in the 403 answer to a bad signature
    # The provider's own words, each with its neutral meaning: its delivery statuses, and its
    # errors (codes, or the exception classes of its client library). Nothing outside the
    # adapter names them (tests/channels/test_provider_words.py).
    statuses: ClassVar[Mapping[str, DeliveryStatus]] = {}
    errors: ClassVar[Mapping[object, Failure]] = {}

    def __init__(self, settings: Settings):
        self.settings = settings

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return True

    def verify(self, request: WebhookRequest) -> bool:
        """Whether the provider signed this request; may raise ParseError when the body must be
        read to tell and cannot be."""
        return False

    def parse(self, kind: RouteKind, request: WebhookRequest) -> Parsed:
        """The messages and delivery reports a verified request carries; raises ParseError."""
        raise ParseError(f"{type(self).__name__} has no {kind} route")

    def handshake(self, request: WebhookRequest) -> str | None:
        """The challenge to echo when the provider checks the webhook; None refuses it (403)."""
        return None

    def answer(self, kind: RouteKind) -> Answer:
        return Answer()

    def channel(self, name: str) -> Channel:
        """The sender for one of `channels`."""
        raise NotImplementedError
