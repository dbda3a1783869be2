"""How the api is served (uvicorn), so that slow or greedy clients cannot hold it up.

- HTTP/1.1 is parsed by h11, whose limit on a request's head is set here (MAX_HEAD): the faster
  httptools parser keeps whatever head a client sends, without a limit.
- Each request's head must arrive within REQUEST_READ_SECONDS of the connection opening (or of
  the previous response): a half-sent head is answered 408 and closed. uvicorn itself waits for
  a head for ever. The body gets its own deadline in api/body_limit.py.
- An idle keep-alive connection is closed after KEEP_ALIVE_SECONDS.
- One process holds at most API_MAX_CONNECTIONS connections; a request beyond them gets 503.
"""
import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from onramp.settings import Settings, get_settings

MAX_HEAD = 16 * 1024  # request line and headers, bytes
KEEP_ALIVE_SECONDS = 5


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.head_seconds = get_settings().request_read_seconds
        self.head_timer = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a head arrived: the body has its own deadline
            self._stop_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_head()  # the next request on this connection

    def _await_head(self) -> None:
        self._stop_head_timer()
        self.head_timer = self.loop.call_later(self.head_seconds, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_too_slow(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:  # part of a head came: say why it is closed
            why = f"the request head did not arrive within {self.head_seconds:g} seconds".encode()
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(why), why))
        self.transport.close()


def uvicorn_options(settings: Settings) -> dict:
    """The options `onramp api` gives uvicorn.run, beside the app, address and logging."""
    return dict(http=GuardedH11Protocol, h11_max_incomplete_event_size=MAX_HEAD,
                timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=settings.api_max_connections)
