"""Issue 15's fault-injection run, as one test: about 100 messages across 30 contacts through the
api and worker processes, with a poison row, a provider call that stalls once, a 503 in the
middle of a long SMS, the rate limit's Redis stopped for a moment, and the worker killed with
kill -9 during a provider call. Counted at the fake provider: nothing lost, nothing twice; the
only `unknown` rows are the two whose call had started (the stall, the kill). No model needed:
the app answers HELP itself. The heavier variant is `make bench` (bench/faults.py)."""
from tests.support import faults


def test_a_burst_with_faults_loses_nothing_and_sends_nothing_twice(tmp_path):
    report = faults.run(tmp_path, contacts=30, planned=70)
    print("\n".join(report.lines()))
    assert report.expected >= 100
    assert (report.duplicated, report.lost, report.unexpected) == (0, 0, 0), report.lines()
    assert report.delivered == report.expected
    assert {u["id"] for u in report.unknown} == {report.ids["stall"], report.ids["killed"]}, report.lines()
    assert all(u["call_started"] for u in report.unknown)
    assert report.poison == ("failed", "render_failed")
    assert report.long_sms["status"] == "sent" and report.long_sms["calls"] == 3  # part 2 twice: 503, then accepted
    assert report.long_sms["accepted"] == report.long_sms["parts"]  # each part once, in order
    assert (report.sent_while_redis_down, report.failed_while_redis_down) == (0, 0)
    assert report.worker_killed_during_call
    assert set(report.statuses) <= {"sent", "unknown", "failed"} and report.statuses["failed"] == 1
