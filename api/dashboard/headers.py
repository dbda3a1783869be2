"""Headers on every dashboard response: nothing kept, framed, sniffed or run from elsewhere.

- `Cache-Control: no-store`: a transcript is not kept in the browser's cache, so after sign-out
  the Back button asks the server again (and gets the sign-in page), not the old page.
- `Content-Security-Policy`: only the app's own scripts, styles and images; no framing
  (`frame-ancestors 'none'`, and X-Frame-Options for older browsers), forms post only here.
- `Referrer-Policy: same-origin`: a link out never carries a conversation's URL.
- `X-Content-Type-Options: nosniff`: an upload or a CSV is never run as a page.
"""
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/dashboard"
HEADERS = [
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]
NAMES = {name for name, _ in HEADERS}


class DashboardHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in NAMES]
                message = {**message, "headers": kept + HEADERS}
            await send(message)

        await self.app(scope, receive, with_headers)
