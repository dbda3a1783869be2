"""Benchmark: outbox dispatch at full strength.

N due SMS rows (a broadcast to N supporters, each with a volunteer and an SMS identity) are sent
by the real worker (`worker.sender.OutboxWorker`, in its own process, started the way
`onramp worker` starts it, with the rate limits lifted) through the real Twilio adapter to the
local Twilio fake (tests/fakes/twilio.py, its own process: Twilio's REST API, basic auth checked,
Twilio's JSON answers). Each body ends in its row's id, so the fake's record is counted per row:
delivered, duplicated and lost against the rows expected.

Scenarios, in one run:
- baseline: the Twilio adapter alone straight to the fake, one call after the other as the
  worker makes them, no database and no worker: the most one worker could reach here;
- SQLite, one worker (target: at least 500 msg/s);
- PostgreSQL, one worker, then two workers sharing the table (target: two reach at least 1.6x
  one's rate).

    python -m bench.outbox [-n 10000] [--only baseline,sqlite,postgresql-1,postgresql-2]

Each scenario also reports the CPU time per message of the senders and of the fake.

Throughput is counted from the moment the rows become due to the moment the last one left
`pending`/`sending`; the workers are up and idle before that.
"""
import argparse
import asyncio
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, update

from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT, TOKEN, SENDER = "AC" + "b" * 32, "bench-twilio-token", "+12125550100"
BODY = "Phone bank tonight at 6pm, Flatbush library. Reply 1 to join us. #{id}"
ROW_ID = re.compile(r"#(\d+)$")
console = Console(width=170)


@dataclass
class Result:
    name: str
    expected: int
    seconds: float
    delivered: int
    duplicated: int
    lost: int
    statuses: dict[str, int]
    cpu_ms: float = 0.0  # the workers' CPU time per message, all workers together
    fake_cpu_ms: float = 0.0  # the Twilio fake's

    @property
    def rate(self) -> float:
        return self.expected / self.seconds if self.seconds else 0.0


def worker_env(db_url: str, fake_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": db_url, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_SMS_FROM": SENDER, "TWILIO_API_BASE": fake_url, "LOG_LEVEL": "WARNING",
            "PUBLIC_BASE_URL": "https://bench.example.org"}


def run_worker(ready: str) -> None:
    """A worker process: the real OutboxWorker with every rate limit lifted."""
    from onramp.cli.common import _logging, _process
    from onramp.settings import get_settings
    from bot.channels import registry
    from worker.sender import OutboxWorker

    _process()
    _logging()
    settings = get_settings()
    worker = OutboxWorker(settings, rate_limits=dict.fromkeys(registry(settings)))  # None: no limit
    Path(ready).touch()
    asyncio.run(worker.run_forever())


def seed(db_url: str, n: int) -> None:
    """N volunteers who texted in, each with an SMS identity and one broadcast row, not yet due."""
    from campaign.db import make_engine, session_scope
    from campaign.migrate import upgrade
    from campaign.models import Identity, OutboxRow, Volunteer, utcnow

    upgrade(db_url)
    engine = make_engine(db_url)
    now, later = utcnow(), utcnow() + timedelta(days=1)
    phones = [f"+1718{i:07d}" for i in range(1, n + 1)]
    with session_scope(engine) as session:
        session.execute(insert(Volunteer), [dict(
            id=i, conversation_id=uuid.uuid4().hex, language="en", language_source="chosen", stage="onboarding",
            availability=[], interests=[], consent_status="subscribed", first_contact_channel="sms",
            first_contact_at=now, created_at=now, updated_at=now) for i in range(1, n + 1)])
        session.execute(insert(Identity), [dict(
            id=i, volunteer_id=i, channel="sms", external_id=phones[i - 1], phone=phones[i - 1], unreachable=False,
            last_inbound_at=now, lease_version=0, created_at=now) for i in range(1, n + 1)])
        session.execute(insert(OutboxRow), [dict(
            id=i, kind="broadcast", volunteer_id=i, identity_id=i, channel="sms", recipient=phones[i - 1],
            params={}, choices=[], text=BODY.format(id=i), send_after=later, status="pending", attempts=0, seq=0,
            created_at=now) for i in range(1, n + 1)])
    engine.dispose()


def statuses(engine) -> dict[str, int]:
    from campaign.db import session_scope
    from campaign.models import OutboxRow

    with session_scope(engine) as session:
        return dict(session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status)).all())


def count_at_fake(fake_url: str, expected: int) -> tuple[int, int, int]:
    """(delivered, duplicated, lost): each request the fake received, counted by the row id in it."""
    sent = httpx.get(f"{fake_url}/_sent", timeout=60).json()
    per_row = collections.Counter(int(m.group(1)) for s in sent if (m := ROW_ID.search(s.get("Body") or "")))
    delivered = sum(1 for i in range(1, expected + 1) if per_row[i])
    duplicated = sum(count - 1 for count in per_row.values() if count > 1)
    return delivered, duplicated, expected - delivered


def dispatch(name: str, db_url: str, fake: psutil.Process, fake_url: str, n: int, workers: int, workdir: Path) -> Result:
    from campaign.db import make_engine, session_scope
    from campaign.models import OutboxRow, utcnow

    seed(db_url, n)
    httpx.delete(f"{fake_url}/_sent").raise_for_status()
    env = worker_env(db_url, fake_url)
    ready = [workdir / f"{name}-ready-{k}" for k in range(workers)]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.outbox", "--worker", str(path)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=open(workdir / f"{name}-worker-{k}.log", "wb"))
             for k, path in enumerate(ready)]
    engine = make_engine(db_url)
    try:
        deadline = time.monotonic() + 60
        while not all(path.exists() for path in ready):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"{name}: a worker did not start (see {workdir})")
            time.sleep(0.05)
        time.sleep(1)  # their first (empty) pass
        watched = [psutil.Process(p.pid) for p in procs]
        cpu_before = sum(sum(w.cpu_times()[:2]) for w in watched)
        fake_before = sum(fake.cpu_times()[:2])
        with session_scope(engine) as session:
            session.execute(update(OutboxRow).values(send_after=utcnow()))
        started = time.perf_counter()
        last_open, last_progress = n, time.perf_counter()
        while True:
            counts = statuses(engine)
            open_rows = counts.get("pending", 0) + counts.get("sending", 0)
            if open_rows == 0:
                break
            if open_rows < last_open:
                last_open, last_progress = open_rows, time.perf_counter()
            elif time.perf_counter() - last_progress > 30:
                console.print(f"[red]{name}: no progress for 30 s, {open_rows} rows still open[/red]")
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        cpu = sum(sum(w.cpu_times()[:2]) for w in watched) - cpu_before
        fake_cpu = sum(fake.cpu_times()[:2]) - fake_before
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
    counts = statuses(engine)
    engine.dispose()
    return Result(name, n, seconds, *count_at_fake(fake_url, n), counts, cpu_ms=cpu * 1000 / n,
                  fake_cpu_ms=fake_cpu * 1000 / n)


def adapter_only(fake: psutil.Process, fake_url: str, n: int) -> Result:
    """The ceiling: the Twilio adapter sending n messages straight to the fake, one after the
    other as the worker sends them, with no database."""
    from types import SimpleNamespace

    from bot.channels.base import Rendered
    from bot.channels.twilio import TwilioChannel
    from onramp.settings import Settings

    httpx.delete(f"{fake_url}/_sent").raise_for_status()
    settings = Settings(twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_sms_from=SENDER,
                        twilio_api_base=fake_url, public_base_url="https://bench.example.org")
    channel = TwilioChannel("sms", settings)

    async def run() -> None:
        for i in range(1, n + 1):
            row = SimpleNamespace(id=i, recipient=f"+1718{i:07d}")
            await channel.send(row, Rendered(text=BODY.format(id=i), language="en"))

    me, fake_before = psutil.Process(), sum(fake.cpu_times()[:2])
    cpu_before = sum(me.cpu_times()[:2])
    started = time.perf_counter()
    asyncio.run(run())
    seconds = time.perf_counter() - started
    cpu, fake_cpu = sum(me.cpu_times()[:2]) - cpu_before, sum(fake.cpu_times()[:2]) - fake_before
    return Result("baseline: Twilio adapter → fake, no database", n, seconds, *count_at_fake(fake_url, n), {},
                  cpu_ms=cpu * 1000 / n, fake_cpu_ms=fake_cpu * 1000 / n)


def start_fake(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.twilio", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / "fake.log", "wb"))
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/_sent", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the Twilio fake did not start")


def show(results: list[Result], baseline: Result | None) -> None:
    table = Table(title="Outbox dispatch: due SMS rows through the Twilio adapter to the Twilio fake")
    for column in ("scenario", "rows", "seconds", "msg/s", "vs baseline", "sender CPU/msg", "fake CPU/msg", "delivered",
                   "duplicated", "lost", "statuses"):
        table.add_column(column, justify="left" if column in ("scenario", "statuses") else "right")
    for result in ([baseline] if baseline else []) + results:
        ratio = f"{result.rate / baseline.rate:.2f}x" if baseline and result is not baseline else ""
        table.add_row(result.name, f"{result.expected:,}", f"{result.seconds:.2f}", f"{result.rate:,.0f}", ratio,
                      f"{result.cpu_ms:.2f} ms", f"{result.fake_cpu_ms:.2f} ms",
                      f"{result.delivered:,}", str(result.duplicated), str(result.lost),
                      ", ".join(f"{k} {v:,}" for k, v in sorted(result.statuses.items())))
    console.print(table)
    by_name = {r.name: r for r in results}
    sqlite, one, two = by_name.get("SQLite, 1 worker"), by_name.get("PostgreSQL, 1 worker"), by_name.get("PostgreSQL, 2 workers")
    if sqlite:
        console.print(f"SQLite, one worker: {sqlite.rate:,.0f} msg/s; target 500: "
                      + ("[green]met[/green]" if sqlite.rate >= 500 else "[red]NOT met[/red]"))
    if one and two:
        ratio = two.rate / one.rate
        console.print(f"PostgreSQL, two workers / one: {ratio:.2f}x; target 1.6x: "
                      + ("[green]met[/green]" if ratio >= 1.6 else "[red]NOT met[/red]"))
    exact = all(r.delivered == r.expected and r.duplicated == 0 and r.lost == 0 for r in results)
    console.print("counts at the fake: " + ("[green]every row once, none doubled, none lost[/green]" if exact
                                            else "[red]NOT exactly once (see the table)[/red]"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="due rows per scenario")
    parser.add_argument("--only", default="baseline,sqlite,postgresql-1,postgresql-2",
                        help="comma-separated scenarios: baseline, sqlite, postgresql-1, postgresql-2")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one worker process
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker)
        return 0
    from tests.support import databases

    wanted = set(args.only.split(","))
    results: list[Result] = []
    baseline = None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        fake, fake_url = start_fake(workdir)
        fake_process = psutil.Process(fake.pid)
        try:
            if "baseline" in wanted:
                baseline = adapter_only(fake_process, fake_url, min(args.n, 3000))
            if "sqlite" in wanted:
                results.append(dispatch("SQLite, 1 worker", f"sqlite:///{workdir / 'bench.db'}", fake_process, fake_url, args.n, 1, workdir))
            for workers in (1, 2):
                if f"postgresql-{workers}" not in wanted:
                    continue
                problem = databases.pg_unavailable()
                if problem:
                    console.print(f"[yellow]PostgreSQL not reachable ({problem}): its scenarios are left out[/yellow]")
                    break
                name = f"onramp_bench_{uuid.uuid4().hex[:8]}"
                databases.pg_create(name)
                try:
                    label = f"PostgreSQL, {workers} worker" + ("s" if workers > 1 else "")
                    results.append(dispatch(label, databases.pg_url(name), fake_process, fake_url, args.n, workers, workdir))
                finally:
                    databases.pg_drop(name)
        finally:
            fake.terminate()
            fake.wait(10)
    show(results, baseline)
    exact = all(r.delivered == r.expected and r.duplicated == 0 for r in results)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
