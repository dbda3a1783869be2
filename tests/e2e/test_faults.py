"""Issue 15's fault-injection run: about 100 messages across 30 contacts through the api and
worker processes, with a poison row, a provider call that stalls once, a 503 in the middle of a
long SMS, the rate limit's Redis stopped for a moment, and the worker killed with kill -9 during
a provider call. Counted at the fake provider: nothing twice, nothing lost but what was in
flight at the kill. No model needed: the app answers HELP itself. The heavier variant is `make
bench` (bench/faults.py).

Run twice: with one call at a time, where each fault shows alone and exactly (the only `unknown`
rows are the stall and the kill); and with the worker's default number of calls under way,
where whatever was in flight at the kill may be `unknown` as well, and nothing else."""
from onramp.settings import Settings
from tests.support import faults


def test_a_burst_with_faults_one_call_at_a_time_loses_nothing_and_sends_nothing_twice(tmp_path):
    report = faults.run(tmp_path, contacts=30, planned=70, concurrent_calls=1)
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


def test_a_burst_with_faults_and_many_calls_under_way_sends_nothing_twice_and_leaves_only_calls_in_flight_unknown(tmp_path):
    in_flight = Settings.model_fields["outbox_concurrent_calls"].default
    report = faults.run(tmp_path, contacts=30, planned=70)
    print("\n".join(report.lines()))
    unknown = {u["id"] for u in report.unknown}
    assert (report.duplicated, report.unexpected) == (0, 0), report.lines()
    assert report.short <= unknown, report.lines()  # a part that never came belongs to a call in flight at the kill
    assert {report.ids["stall"], report.ids["killed"]} <= unknown, report.lines()
    assert len(unknown - {report.ids["stall"]}) <= in_flight, report.lines()
    assert report.poison == ("failed", "render_failed")
    assert (report.sent_while_redis_down, report.failed_while_redis_down) == (0, 0)
    assert report.worker_killed_during_call
    assert set(report.statuses) <= {"sent", "unknown", "failed"} and report.statuses["failed"] == 1
