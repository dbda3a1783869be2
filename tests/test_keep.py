"""onramp.keep, the supervisor of each process under `onramp run`: a process that dies is
started again, sooner after a long healthy run, later while it keeps dying; a stop is final."""
import signal
import subprocess
import sys
import time

from onramp.keep import FIRST_DELAY, HEALTHY_SECONDS, MAX_DELAY, Backoff


def test_restarts_wait_longer_while_the_process_keeps_dying_and_never_beyond_the_cap():
    backoff = Backoff()
    waits = [backoff.after(ran_seconds=0.5) for _ in range(8)]
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30] and waits[-1] == MAX_DELAY


def test_after_a_healthy_run_the_next_restart_is_quick_again():
    backoff = Backoff()
    for _ in range(5):
        backoff.after(ran_seconds=1)
    assert backoff.after(ran_seconds=HEALTHY_SECONDS + 1) == FIRST_DELAY


def test_a_dead_process_is_started_again_and_a_sigterm_stops_it_for_good(tmp_path):
    runs = tmp_path / "runs"
    keeper = subprocess.Popen([sys.executable, "-m", "onramp.keep", "flaky", "--", "sh", "-c", f"echo run >> {runs}; exit 3"],
                              stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not runs.exists() or len(runs.read_text().split()) < 2):
        time.sleep(0.1)
    keeper.send_signal(signal.SIGTERM)
    output, _ = keeper.communicate(timeout=10)
    assert len(runs.read_text().split()) >= 2  # died, and was started again
    assert "flaky exited with code 3" in output
    count = len(runs.read_text().split())
    time.sleep(1.5)
    assert len(runs.read_text().split()) == count  # nothing started after the stop
