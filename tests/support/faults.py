"""The fault-injection run of issue 15: a burst of messages across many contacts through the
api and the worker processes, with faults injected on the way, counted at the fake provider.

The burst is SMS replies to HELP (posted as signed Twilio webhooks, answered by the app at once,
no model needed) and notifications planned straight into the outbox. The faults:
- one poison row (a catalog key that does not exist): it fails alone;
- a provider call that stalls past the read timeout once: its row is `unknown`, not sent again;
- a 503 on the second call of a long SMS: the retry sends that part only;
- the rate limit's Redis (a private redis-server, RATE_LIMIT_STORAGE=redis) stopped for a
  moment: rows wait, none fails;
- the worker killed with SIGKILL while a provider call is under way, then started again.

`run` returns what the fake provider got: messages (SMS parts) expected, delivered, duplicated,
lost, and the rows marked `unknown`, each with whether its provider call had started.
"""
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import redis
from sqlalchemy import func, select

from bot.channels import sms_text
from bot.channels.twilio import layout
from bot.compose import compose
from campaign import outbox
from campaign.db import make_engine, session_scope
from campaign.models import OutboxRow, utcnow
from campaign.volunteers import identify
from onramp.settings import Settings
from tests.fakes import twilio as fake_twilio
from tests.support.channel_chat import SECRETS, Sms
from tests.support.stack import Stack, free_port

# 11 SMS segments: two Twilio calls (at most 10 segments a call)
LONG_TEXT = " ".join(f"part{n:04d}" for n in range(180))


class RedisServer:
    """A private redis-server on a free port, stopped and started again by the run."""

    def __init__(self, workdir: Path):
        self.workdir, self.port = workdir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@dataclass
class Report:
    rows: int = 0
    expected: int = 0  # SMS parts the fake provider should have got, once each
    delivered: int = 0
    duplicated: int = 0
    lost: int = 0
    unexpected: int = 0  # parts nobody asked for
    unknown: list[dict] = field(default_factory=list)  # {"id", "to", "why", "call_started"}
    short: set[int] = field(default_factory=set)  # rows with a part that never arrived
    statuses: dict[str, int] = field(default_factory=dict)
    poison: tuple[str, str | None] = ("", None)
    long_sms: dict = field(default_factory=dict)  # its status, calls made, parts accepted (in order), parts it has
    sent_while_redis_down: int = -1
    failed_while_redis_down: int = -1
    worker_killed_during_call: bool = False
    seconds: float = 0.0
    ids: dict[str, int] = field(default_factory=dict)  # the rows that carry a fault

    def lines(self) -> list[str]:
        unknown = ", ".join(f"#{u['id']} to {u['to']} ({u['why']}; call started: {u['call_started']})" for u in self.unknown)
        return [
            f"rows {self.rows}; SMS parts expected {self.expected}, delivered {self.delivered}, "
            f"duplicated {self.duplicated}, lost {self.lost}, unexpected {self.unexpected}",
            f"outbox statuses {dict(sorted(self.statuses.items()))}",
            f"unknown {len(self.unknown)}: {unknown or '-'}; rows with a part that never came: {sorted(self.short) or '-'}",
            f"poison row: {self.poison[0]} ({self.poison[1]}); long SMS: {self.long_sms.get('status')}, "
            f"{len(self.long_sms.get('parts', []))} parts in {self.long_sms.get('calls')} calls, "
            f"each part accepted once: {self.long_sms.get('accepted') == self.long_sms.get('parts')}",
            f"while Redis was down: {self.sent_while_redis_down} sent, {self.failed_while_redis_down} failed; "
            f"worker killed during a provider call: {self.worker_killed_during_call}",
            f"wall time {self.seconds:.1f} s",
        ]


def run(workdir: Path, contacts: int = 30, planned: int = 70, read_timeout: float = 1.0, outage: float = 2.0,
        timeout: float = 150, inject: bool = True, concurrent_calls: int | None = None) -> Report:
    """inject=False: the same burst with no fault, as a baseline for the wall time.
    concurrent_calls: the worker's OUTBOX_CONCURRENT_CALLS (its default when None)."""
    report = Report()
    redis_server = RedisServer(workdir)
    with fake_twilio.running() as fake:
        recorder = fake.recorder
        recorder.slow_seconds = read_timeout + 1.5  # a stall outlasts the read timeout
        redis_server.start()
        stack = Stack(workdir)
        stack.env.update(SECRETS)
        stack.env.update({
            "TWILIO_API_BASE": fake.url, "RATE_LIMIT_STORAGE": "redis", "REDIS_URL": redis_server.url,
            "PROVIDER_READ_TIMEOUT_SECONDS": str(read_timeout), "OUTBOX_VISIBILITY_TIMEOUT_SECONDS": "4",
            "SEND_WINDOW_START": "00:00", "SEND_WINDOW_END": "23:59:59", "LOG_LEVEL": "WARNING",
        })
        if concurrent_calls is not None:
            stack.env["OUTBOX_CONCURRENT_CALLS"] = str(concurrent_calls)
        try:
            stack.up(timeout=120, processes=("api", "worker"), demo=False)
            _burst(stack, fake, redis_server, report, contacts, planned, outage, timeout, inject)
        finally:
            stack.down()
            redis_server.stop()
        # the burst ends when no row is open, but a stalled call its client gave up on may still be
        # accepted by the provider afterwards: count once the provider has answered everything
        recorder.wait_answered(timeout=recorder.slow_seconds + 10)
        _count(stack, recorder, report)
    return report


def _burst(stack, fake, redis_server, report, contacts, planned, outage, timeout, inject) -> None:
    recorder = fake.recorder
    engine = make_engine(stack.db_url)
    texters = [Sms(stack.api_url, stack.db_url, fake, 6000 + n) for n in range(contacts)]
    people = [texter.phone for texter in texters]
    long_to, stall_to, kill_to, poison_to = (Sms(stack.api_url, stack.db_url, fake, 9000 + n).phone for n in range(4))
    # the faults aimed at one recipient each: the second call of the long SMS answers 503, a call
    # stalls past the read timeout, and one stalls while the worker is killed
    if inject:
        recorder.modes_for.update({long_to: ["ok", "503"], stall_to: ["slow"], kill_to: ["slow"]})
    start = time.monotonic()
    with session_scope(engine) as session:
        for phone in people:
            identify(session, "sms", phone, phone=phone)
        for n in range(planned):
            phone = people[n % contacts]
            outbox.enqueue(session, identify(session, "sms", phone, phone=phone), text=f"Shift news {n} for you [r{n}]",
                           kind="notification")

    for texter in texters:  # answered by the app as the webhook stores it: no model involved
        texter.post("HELP")
    with session_scope(engine) as session:  # planned once the burst is under way

        def special(phone, after, **row):
            return outbox.enqueue(session, identify(session, "sms", phone, phone=phone), kind="notification",
                                  send_after=utcnow() + timedelta(seconds=after), **row)

        report.ids = {"long": special(long_to, 0.5, text=LONG_TEXT), "stall": special(stall_to, 1, text="Stall [stall]"),
                      "poison": special(poison_to, 0, key="fault_run_no_such_key" if inject else "help"),
                      "killed": special(kill_to, 2, text="In flight when the worker died [kill]")}
    killer = threading.Thread(target=_kill_during_call, args=(stack, recorder, kill_to, report), daemon=True)
    if inject:
        killer.start()

    redis_after = max(10, (contacts + planned) // 4)
    stopped_at = None
    redis_back = not inject
    grace_count = None
    last_check = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        if inject and stopped_at is None and len(recorder.sent) >= redis_after:
            redis_server.stop()
            stopped_at = now
        if stopped_at is not None and grace_count is None and now - stopped_at > 0.2:
            # Calls that reach the provider from here on were started without the limiter. Counted
            # by arrival, not acceptance: a call under way when Redis went (a stalled one is
            # accepted up to slow_seconds later, after its client gave up) is no send while it was
            # down. Counting acceptances within a 0.5 s grace failed the run now and then.
            grace_count = len(recorder.received)
        if stopped_at is not None and not redis_back and now - stopped_at > outage:
            report.sent_while_redis_down = len(recorder.received) - grace_count
            with engine.connect() as conn:
                report.failed_while_redis_down = conn.execute(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.status == "failed", OutboxRow.id != report.ids["poison"])).scalar()
            redis_server.start()
            redis_back = True
        if redis_back and not killer.is_alive() and now - last_check > 0.25:
            last_check = now
            with engine.connect() as conn:
                open_rows = conn.execute(select(func.count()).select_from(OutboxRow).where(
                    OutboxRow.status.in_(("pending", "sending")))).scalar()
            if open_rows == 0:
                break
        time.sleep(0.01)
    report.seconds = time.monotonic() - start
    engine.dispose()


def _kill_during_call(stack, recorder, kill_to: str, report: Report, timeout: float = 600) -> None:
    """kill -9 the worker as soon as its call to kill_to reaches the provider (a stall holds
    it there), then start it again."""
    seen, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = recorder.received[seen:]
        seen += len(received)
        if any(r.get("To") == kill_to for r in received):
            stack.kill("worker")
            report.worker_killed_during_call = not any(s.get("To") == kill_to for s in list(recorder.sent))
            time.sleep(0.5)
            stack.start("worker")
            return
        time.sleep(0.005)


def _count(stack, recorder, report) -> None:
    settings = Settings(database_url=stack.db_url)
    engine = make_engine(stack.db_url)
    expected: Counter = Counter()
    parts_of: dict[int, list[str]] = {}
    with session_scope(engine) as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        report.rows = len(rows)
        recipients = {row.id: row.recipient for row in rows}
        report.statuses = dict(Counter(row.status for row in rows))
        for row in rows:
            if row.id == report.ids["poison"] and row.status == "failed":
                report.poison = (row.status, row.reason)
                continue
            parts_of[row.id] = sms_text.sends(layout(compose(session, row, settings), settings.campaign_timezone))
            expected.update((row.recipient, part) for part in parts_of[row.id])
        got = Counter((s["To"], s["Body"]) for s in recorder.sent)
        report.expected = sum(expected.values())
        report.delivered = sum(min(got[key], count) for key, count in expected.items())
        report.duplicated = sum(max(0, got[key] - expected[key]) for key in got if key in expected)
        report.lost = sum(max(0, count - got[key]) for key, count in expected.items())
        report.unexpected = sum(count for key, count in got.items() if key not in expected)
        report.short = {row_id for row_id, parts in parts_of.items()
                        if any(got[(recipients[row_id], part)] < 1 for part in parts)}
        started = Counter((r.get("To"), r.get("Body")) for r in recorder.received)
        for row in rows:
            if row.status == "unknown":
                report.unknown.append({"id": row.id, "to": row.recipient, "why": row.reason, "call_started": any(
                    started[(row.recipient, part)] for part in parts_of[row.id])})
        long_row = session.get(OutboxRow, report.ids["long"])
        report.long_sms = {"status": long_row.status, "calls": sum(r.get("To") == long_row.recipient for r in recorder.received),
                           "accepted": [s["Body"] for s in recorder.sent if s["To"] == long_row.recipient],
                           "parts": parts_of[long_row.id]}
    engine.dispose()
