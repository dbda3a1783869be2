"""One table for every adapter, the example one included: how a provider call that breaks ends.

A send that surely never reached the provider is tried again; one that may have reached the
person (the request went out, and the answer never came) is `unknown`, never sent again, since
a second message to a person is worse than a missing one; a provider's 5xx is tried again; its
4xx fails with its neutral error. Before, WhatsApp Cloud took every httpx error for "try again"
and Telegram its TimedOut, so a read timeout sent the message twice.
"""
import socket

import pytest

from tests.channels.example_adapter import ParrotAdapter
from tests.channels.harness import Out, run_out

# One row of each channel, addressed as its provider addresses people (WhatsApp Cloud inside the
# 24-hour window, so that it sends free text).
CHANNELS = {
    "twilio": dict(channel="sms"),
    "telegram": dict(channel="telegram", recipient="424242"),
    "graph": dict(channel="whatsapp_cloud", hours_since_they_wrote=1),
    "parrot": dict(channel="parrot"),
}
API_BASE = {"twilio": "TWILIO_API_BASE", "telegram": "TELEGRAM_API_BASE", "graph": "GRAPH_API_BASE"}
# each provider's own words for a request it refuses for good
REFUSED = {"twilio": "21211", "telegram": "400", "graph": "400", "parrot": "4004"}
READ_TIMEOUT = 0.3


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again when this returns: refused


CASES = [
    ("connect refused", None, {"status": "pending", "attempts": 1}),  # never sent: try again
    ("read timeout", "slow", {"status": "unknown"}),  # it went out: it may have arrived
    ("5xx", "500", {"status": "pending", "attempts": 1}),
    ("4xx", "refused", {"status": "failed"}),
]


@pytest.mark.parametrize("fake", CHANNELS)
@pytest.mark.parametrize("label, mode, expected", CASES, ids=[c[0] for c in CASES])
def test_how_a_broken_call_ends_on_every_adapter(fakes, monkeypatch, fake, label, mode, expected):
    env = {"PROVIDER_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)}
    if label == "connect refused":
        nowhere = _closed_port()
        if fake == "parrot":
            monkeypatch.setattr(ParrotAdapter, "api_base", nowhere)
        else:
            env[API_BASE[fake]] = nowhere
    fakes[fake].recorder.slow_seconds = READ_TIMEOUT * 4
    answers = {fake: [REFUSED[fake] if mode == "refused" else mode]} if mode else {}
    run_out(fakes, Out(label, **CHANNELS[fake], answers=answers, env=env, outcome=expected), monkeypatch)
    if label == "read timeout":  # the call reached the provider: one request, and never a second
        assert len(fakes[fake].recorder.received or fakes[fake].recorder.sent) <= 1
