"""Rate limits per client address, shared by every api process through Redis in production.

The address is the TCP peer, or the client named in X-Forwarded-For when the peer is one of
TRUSTED_PROXIES: uvicorn applies that rule (forwarded_allow_ips) before we see the request.
"""
from functools import lru_cache

from fastapi import HTTPException, Request
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from onramp.settings import get_settings


@lru_cache
def _limiter() -> MovingWindowRateLimiter:
    settings = get_settings()
    uri = settings.redis_url if settings.rate_limit_storage == "redis" else "memory://"
    return MovingWindowRateLimiter(storage_from_string(uri))


def per_address(request: Request, name: str, rate: str) -> None:
    address = request.client.host if request.client else "unknown"
    if not _limiter().hit(parse_limit(rate), name, address):
        raise HTTPException(429, f"too many requests from this address; try again in a minute ({rate})",
                            headers={"Retry-After": "60"})
