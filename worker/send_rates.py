"""Send rates: how many messages a second the worker sends on each channel, and the limiter that
holds it to them.

Each channel's adapter declares its provider's rate (bot/channels: Traits.rate); OUTBOX_SEND_RATES
overrides it per channel where a number allows another (a short code), and "off" lifts it (a
local fake). A channel whose adapter declares no traits stops the worker as it starts, saying
what to declare, rather than sending at a rate nobody chose. The limiter's storage is Redis in
production (RATE_LIMIT_STORAGE=redis: every worker counts against the same limit), memory for
one worker.
"""
from collections.abc import Iterable

from limits import RateLimitItem, RateLimitItemPerSecond
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.channels import traits
from onramp.settings import Settings


class LimiterDown(Exception):
    """The rate limit's storage (Redis, shared by the workers) cannot be reached. No row is at
    fault: the pass stops and the rows wait, their attempts untouched."""


def send_rates(settings: Settings, channels: Iterable[str]) -> dict[str, RateLimitItem | None]:
    """Per channel: OUTBOX_SEND_RATES where it names the channel (None: "off", no limit), else
    the rate its adapter declares. Raises bot.channels.UndeclaredChannel for a channel no adapter
    declares."""
    rates = {}
    for name in channels:
        declared = traits(name).rate  # first, so that a setting cannot hide a channel left undeclared
        configured = settings.outbox_send_rates.get(name)
        if configured == "off":
            rates[name] = None
        else:
            rates[name] = parse_limit(configured) if configured else RateLimitItemPerSecond(declared)
    return rates


def limiter(settings: Settings) -> MovingWindowRateLimiter:
    """Shared by every worker through Redis in production; in memory for one worker."""
    return MovingWindowRateLimiter(storage_from_string(settings.redis_url if settings.rate_limit_storage == "redis"
                                                       else "memory://"))


def within(limiter: MovingWindowRateLimiter, rate: RateLimitItem | None, channel: str) -> bool:
    """Counts one send on the channel: False when it is over its rate (send it a moment later).
    Raises LimiterDown when the storage cannot be reached."""
    if rate is None:
        return True
    try:
        return limiter.hit(rate, channel)
    except Exception as error:
        raise LimiterDown(str(error)) from error
