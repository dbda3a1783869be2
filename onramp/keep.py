"""Keep one process running: start it again when it dies, with backoff.

honcho (behind `onramp run`) stops every process as soon as one exits, so a crashed Rasa would
take the api down with it and inbound webhooks would fail (Twilio never retries an inbound SMS).
Each Procfile line therefore runs under this small supervisor: the others keep running, the
dead one comes back. Ctrl-C (SIGINT/SIGTERM to the process group) stops it for good.

    python -m onramp.keep NAME -- COMMAND [ARGS...]
"""
import signal
import subprocess
import sys
import threading
import time

FIRST_DELAY, MAX_DELAY = 1.0, 30.0
# A process that ran this long before dying was healthy: its next restart is quick again.
HEALTHY_SECONDS = 60.0


class Backoff:
    """The wait before each restart: doubling while the process keeps dying soon after it
    starts, back to the first once it has run well."""

    def __init__(self, first: float = FIRST_DELAY, cap: float = MAX_DELAY):
        self.first, self.cap, self.next = first, cap, first

    def after(self, ran_seconds: float) -> float:
        if ran_seconds >= HEALTHY_SECONDS:
            self.next = self.first
        wait, self.next = self.next, min(self.next * 2, self.cap)
        return wait


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 1 or len(argv) < 3:
        print("usage: python -m onramp.keep NAME -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    name, command = argv[0], argv[2:]
    stopping = threading.Event()
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)

    backoff, code = Backoff(), 0
    while not stopping.is_set():
        started = time.monotonic()
        child = subprocess.Popen(command)
        if stopping.is_set():  # the stop came while it was starting
            child.terminate()
        code = child.wait()
        if stopping.is_set():
            break
        ran = time.monotonic() - started
        wait = backoff.after(ran)
        print(f"{name} exited with code {code} after {ran:.0f}s: starting it again in {wait:.0f}s", flush=True)
        stopping.wait(wait)
    return code if code and code > 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
