"""Request bodies read with a limit, before anything is parsed.

Every request passes api/body_limit.py first, which refuses a body over MAX_BODY (413), one that
does not arrive in time (408) and JSON nested deeper than MAX_JSON_DEPTH (400), before any
token, sign-in or signature is checked. `read_limited` holds routes that read the raw body to
the same rules on their own: a declared Content-Length over the limit is refused without
reading; a chunked body (no length) is read only up to the limit, then refused, so a client
cannot make us buffer without end; and a body that stalls is given up.
"""
import asyncio
import re

from fastapi import HTTPException, Request

from onramp.settings import get_settings

MAX_BODY = 64 * 1024
# Deeper JSON is refused before it is parsed: Python's parser would run out of stack on it (a
# 500); no provider's payload or API body comes near it.
MAX_JSON_DEPTH = 64
# Close the connection with the refusal: whatever else the client sends is never read.
CLOSE = {"Connection": "close"}


class BodyRefused(HTTPException):
    """A body refused at the edge: an HTTPException, so that a route or the body parser that was
    reading it when it was refused lets it through to the error handler unchanged."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code, detail, headers=CLOSE)


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"the request body is larger than {limit} bytes ({limit / 1024:g} KiB), this route's limit")


def too_slow(seconds: float) -> BodyRefused:
    return BodyRefused(408, f"the request body did not arrive within {seconds:g} seconds")


def too_deep(depth: int) -> BodyRefused:
    return BodyRefused(400, f"the JSON is nested more than {depth} levels deep")


def bad_length(value: str) -> BodyRefused:
    return BodyRefused(400, f"Content-Length is not a number: {value[:40]!r}")


def declared_length(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit():
        raise bad_length(value)
    return int(value)


_JSON_SIGNIFICANT = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE_, _QUOTE, _BACKSLASH = b"[{", b"]}", ord('"'), ord("\\")


class JsonDepth:
    """How deep JSON nests, read as it streams in (strings and their escapes are skipped), so
    that it can be refused before a parser sees it."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the last chunk ended with a backslash inside a string

    def feed(self, chunk: bytes) -> None:
        """Raises the 400 when the JSON goes deeper than the limit."""
        if not chunk:
            return
        skip_before = 1 if self.escaped else 0
        self.escaped = False
        for match in _JSON_SIGNIFICANT.finditer(chunk):
            at = match.start()
            if at < skip_before:
                continue
            char = chunk[at]
            if self.in_string:
                if char == _BACKSLASH:
                    skip_before = at + 2
                    self.escaped = at + 1 == len(chunk)
                elif char == _QUOTE:
                    self.in_string = False
            elif char == _QUOTE:
                self.in_string = True
            elif char in _OPEN:
                self.depth += 1
                if self.depth > self.limit:
                    raise too_deep(self.limit)
            elif char in _CLOSE_:
                self.depth = max(0, self.depth - 1)


async def read_limited(request: Request, limit: int = MAX_BODY, seconds: float | None = None) -> bytes:
    """The body, at most `limit` bytes, arrived within `seconds` (REQUEST_READ_SECONDS)."""
    seconds = get_settings().request_read_seconds if seconds is None else seconds
    declared = declared_length(request.headers.get("content-length"))
    if declared is not None and declared > limit:
        raise too_large(limit)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                chunks.append(chunk)
    except TimeoutError as error:
        raise too_slow(seconds) from error
    return b"".join(chunks)
