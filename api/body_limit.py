"""The first thing every request meets: its body is limited before any route, token, sign-in,
signature check or parser sees it (a pure ASGI middleware, which holds at most the limit).

- A declared Content-Length over the limit is answered 413 at once: not a byte of the body is
  read, no route runs.
- Otherwise the body is read here, before the route runs, and counted as it streams in: one
  without a length (chunked) is refused (413) the moment it passes the limit, so at most the
  limit is ever held, and the route gets the body in one piece.
- The body must arrive within REQUEST_READ_SECONDS: a stalled one is given up (408).
- JSON (or a body without a Content-Type, which the API reads as JSON) nested more than
  MAX_JSON_DEPTH levels deep is refused (400) as it streams in, before a parser can run out of
  stack on it.

Every refusal says why, as {"error": ...}, and closes the connection.

The limit is MAX_BODY (api/bodies.py) on every route. A path may be given a larger one
(`larger`, for an upload such as a CSV import), and it applies only to requests that carry the
dashboard's session cookie: anyone else gets the small limit there too. The cookie is only
looked at, not checked, so such a body is not read here: it is counted (and timed) as the route
reads it, and the route must check the session before it reads (as auth.checked_form does) and
the CSRF token after. A response that leaves such a body unread closes the connection, so the
rest is never read either.
"""
import asyncio
import json
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.bodies import MAX_BODY, MAX_JSON_DEPTH, BodyRefused, JsonDepth, declared_length, too_large, too_slow


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a Content-Type as JSON
    kind = content_type.split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class BodyLimit:
    def __init__(self, app: ASGIApp, seconds: float, limit: int = MAX_BODY, larger: Mapping[str, int] | None = None,
                 session_cookie: str | None = None, json_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.seconds = seconds
        self.limit = limit
        self.larger = dict(larger or {})
        self.session_cookie = session_cookie
        self.json_depth = json_depth
        if self.larger and not session_cookie:
            raise ValueError("a larger limit is only for signed-in requests: name the session cookie")

    def limit_for(self, path: str, headers: Headers) -> int:
        larger = self.larger.get(path)
        if larger is None or not cookie_parser(headers.get("cookie", "")).get(self.session_cookie or ""):
            return self.limit
        return larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_for(scope["path"], headers)
        try:
            declared = declared_length(headers.get("content-length"))
            if declared is not None and declared > limit:
                raise too_large(limit)
        except BodyRefused as refused:
            await _refuse(send, refused)
            return

        depth = JsonDepth(self.json_depth) if _is_json(headers.get("content-type")) else None
        body = _Body(receive, limit, self.seconds, depth)
        if limit <= self.limit:  # read it all now, before anyone looks at the request
            try:
                whole = await body.read()
            except BodyRefused as refused:
                await _refuse(send, refused)
                return
            app_receive = _replay(whole, receive)
        else:  # a signed-in upload: read as the route reads it, once it has checked the session
            app_receive = body.receive
        has_body = bool(declared) or "transfer-encoding" in headers
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if has_body and not body.complete:  # answered without reading it all: never read the rest
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, app_receive, watched)
        except BodyRefused as refused:
            # the routes' error handler answers these; this is for a refusal that got past it
            if started or refused is not body.refused:
                raise
            await _refuse(send, refused)


def _replay(whole: Message, receive: Receive) -> Receive:
    """The body read in advance, then the connection's own messages (a disconnect)."""
    pending = [whole]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()
    return replay


class _Body:
    """The request's `receive`, counted, timed and (for JSON) depth-checked until the body is
    complete; after that (a streaming response listening for the client to go) untouched."""

    def __init__(self, receive: Receive, limit: int, seconds: float, depth: JsonDepth | None) -> None:
        self._receive = receive
        self.limit = limit
        self.seconds = seconds
        self.depth = depth
        self.size = 0
        self.complete = False
        self.deadline: float | None = None
        self.refused: BodyRefused | None = None

    async def receive(self) -> Message:
        if self.complete:
            return await self._receive()
        if self.refused is not None:
            raise self.refused
        loop = asyncio.get_running_loop()
        if self.deadline is None:
            self.deadline = loop.time() + self.seconds
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.refused = too_slow(self.seconds)
            raise self.refused from None
        if message["type"] != "http.request":
            return message
        chunk = message.get("body", b"")
        self.size += len(chunk)
        try:
            if self.size > self.limit:
                raise too_large(self.limit)
            if self.depth is not None:
                self.depth.feed(chunk)
        except BodyRefused as refused:
            self.refused = refused
            raise
        self.complete = not message.get("more_body", False)
        return message

    async def read(self) -> Message:
        """The whole body as one message (or the disconnect that came instead)."""
        chunks = []
        while True:
            message = await self.receive()
            if message["type"] != "http.request":
                return message
            chunks.append(message.get("body", b""))
            if self.complete:
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


async def _refuse(send: Send, refused: BodyRefused) -> None:
    body = json.dumps({"error": refused.detail}).encode()
    await send({"type": "http.response.start", "status": refused.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
