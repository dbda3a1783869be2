"""What every fake provider shares: a record of what was sent, failure modes a test can order
("the next 2 requests answer 429"), and running in a thread or as a process."""
import argparse
import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request


@dataclass
class Recorder:
    sent: list[dict] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)  # consumed one per request: "429", "500", "slow", provider codes
    # modes for the requests to one recipient only, in order ("ok" lets one through)
    modes_for: dict[str, list[str]] = field(default_factory=dict)
    # every request as it arrived, before any failure mode: the calls that started
    received: list[dict] = field(default_factory=list)
    slow_seconds: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # messages accepted per recipient, and a condition to wait on them without polling
    sent_to: dict[str, int] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    answering: int = 0  # requests received and not yet answered (a stalled one among them)

    def arrived(self, entry: dict) -> None:
        """A request came in: recorded before any failure mode, answered later (`answered`)."""
        with self.changed:
            self.received.append(entry)
            self.answering += 1

    def answered(self) -> None:
        with self.changed:
            self.answering -= 1
            self.changed.notify_all()

    def wait_answered(self, timeout: float) -> bool:
        """Until every request that came in was answered: a count taken before then would miss
        what a stalled call accepts after its client gave up."""
        with self.changed:
            return self.changed.wait_for(lambda: self.answering == 0, timeout)

    def accepted(self, entry: dict, to: str | None) -> None:
        """Record one accepted message (to whom, in the provider's own words)."""
        with self.changed:
            self.sent.append(entry)
            self.sent_to[to] = self.sent_to.get(to, 0) + 1
            self.changed.notify_all()

    def wait_sent(self, to: str, count: int, timeout: float) -> bool:
        """Until `count` messages were accepted for `to` (False when the time ran out)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.sent_to.get(to, 0) >= count, timeout)

    def next_mode(self, to: str | None = None) -> str | None:
        with self.lock:
            if to is not None and self.modes_for.get(to):
                return self.modes_for[to].pop(0)
            return self.modes.pop(0) if self.modes else None


def control_routes(app: FastAPI, recorder: Recorder) -> None:
    @app.get("/_sent")
    def sent():
        return recorder.sent

    @app.get("/_received")
    def received():
        return recorder.received

    @app.delete("/_sent")
    def reset():
        with recorder.changed:
            recorder.sent.clear()
            recorder.sent_to.clear()
        recorder.received.clear()
        recorder.modes.clear()
        recorder.modes_for.clear()
        return {"ok": True}

    @app.post("/_mode")
    async def mode(request: Request):
        """{"mode": "503", "count": 1}, optionally "to": a recipient (then only its requests)."""
        body = await request.json()
        with recorder.lock:
            queue = recorder.modes_for.setdefault(body["to"], []) if body.get("to") else recorder.modes
            queue.extend([body["mode"]] * int(body.get("count", 1)))
        return {"ok": True}


async def maybe_slow(mode: str | None, recorder: Recorder) -> None:
    if mode == "slow":
        await asyncio.sleep(recorder.slow_seconds)


class Running:
    """A fake served on a free local port in a background thread."""

    def __init__(self, app: FastAPI, recorder: Recorder):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.recorder = recorder
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Running":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    @classmethod
    def fake(cls, create_app) -> "Running":
        """A fake provider's app, with a fresh record of what it was sent."""
        recorder = Recorder()
        return cls(create_app(recorder), recorder)

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def serve_from_command_line(app: FastAPI, name: str) -> None:
    parser = argparse.ArgumentParser(description=f"A local fake of {name}, for tests and benchmarks.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port)
