"""The guard against tests that read the real date (issue 30).

A test that pins dates (a literal such as `local(2026, 12, 5, ...)`, or time_machine) passes only
while everything it drives sees the pinned clock. A block left outside the travel reads the
real date instead, and the test goes red on the day the calendar passes the pinned one, for
everyone at once (it did on 6 December 2026).

`pytest --clock-ahead DAYS` runs the session on a clock DAYS ahead of the real one (time-machine,
ticking; a test's own travel still wins inside it), so such a test fails today instead of in a
year. Which tests pin dates is read from their module's source, so a new one is covered without
anyone remembering a marker: they get the `pins_dates` mark, and `make test` runs
`pytest -m pins_dates --clock-ahead 400` after the suite. Only in-process tests: the shifted
clock does not reach the processes that end-to-end tests start (e2e, or marked `rasa`).
"""
import re
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

# local(2026, 12, 5, ...), datetime(2026, 12, 5), "2026-12-05", or a test that travels
PINS = re.compile(rb"\b20[2-9]\d, ?\d{1,2}, ?\d{1,2}\b|[\"']20[2-9]\d-[01]\d-[0-3]\d|\btime_machine\b")


def pytest_addoption(parser):
    parser.addoption("--clock-ahead", type=int, default=0, metavar="DAYS",
                     help="run on a clock DAYS ahead of the real one (tests that read the real date fail)")


@cache
def _pins_dates(path) -> bool:
    return bool(PINS.search(path.read_bytes()))


def pytest_collection_modifyitems(config, items):
    for item in items:
        in_process = "e2e" not in item.path.parts and item.get_closest_marker("rasa") is None
        if in_process and item.path.name.startswith("test_") and _pins_dates(item.path):
            item.add_marker(pytest.mark.pins_dates)


def pytest_configure(config):
    config.addinivalue_line("markers", "pins_dates: pins dates in-process (run again by make test on a clock 400 days ahead)")
    days = config.getoption("--clock-ahead")
    if days:
        import time_machine

        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config):
    days = config.getoption("--clock-ahead")
    return f"clock: {days} days ahead of the real one" if days else None
