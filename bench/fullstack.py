"""Benchmark: the whole path against bare Rasa, in one run, on one stack.

Every process is up (rasa, actions, api, worker: the form's actions need the api), with the
trained model, the same tracker store and the same first message. N new conversations, with a
closed-loop client at concurrency C (each of C clients starts its next conversation when the
previous one is answered):

- bare Rasa: POST /webhooks/rest/webhook with a new sender id; done when Rasa answers;
- the full path: a signed Twilio SMS webhook from a new number, then the pipeline, Rasa, the
  outbox and the worker; done when the Twilio fake has received both replies.

Prints throughput and p50/p99 for both, and the ratio of the full path's throughput to bare
Rasa's. A second scenario runs whole five-turn sign-ups the same way (hello, name, neighborhood,
availability, the first shift offered), done when the last reply arrived; each sign-up names the
next of the demo's neighborhoods, so teams and shifts fill as a campaign's would, and where each
path's sign-ups ended is read from the database. The sender's SMS rate is lifted
(OUTBOX_SEND_RATES=sms=off): at its default of 10 a second, two replies a conversation cap the
full path at 5 conversations a second, a limit of the campaign's number and not of the stack; `--sms-rate 10/second` measures with it.

    python -m bench.fullstack [-n 200] [-c 20] [--signups 100] [--rounds 4] [--sms-rate off] [--profile]

Each path's n conversations run in `--rounds` blocks that alternate with the other path's (bare,
full, full, bare, ...), so that a drift in the machine's speed over the minutes of a run weighs
on both paths alike; the figures are over all blocks.

With --profile, the full path runs a third time with py-spy sampling the api, the worker, Rasa
and the action server, and where each one's CPU time went is printed: each sample is charged to
the innermost frame of our own code (or, in Rasa, to the library it is in).
"""
import argparse
import collections
import datetime
import re
import shutil
import subprocess
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from tests.fakes import graph, telegram, twilio
from tests.support import signing
from tests.support.channel_chat import PUBLIC, SECRETS
from tests.support.stack import Stack

FIRST_MESSAGE = "hi I want to volunteer"
REPLIES = 2  # welcome, ask_name
# A whole sign-up, and the replies each turn gets: welcome and ask_name; ask_neighborhood;
# ask_availability; team_joined and shift_offers; shift_booked (or shift_waitlisted when full)
FIRST_CHOICE = object()
SIGNUP = [(FIRST_MESSAGE, 2), ("Maria", 1), ("{neighborhood}", 1), ("weekends", 2), (FIRST_CHOICE, 1)]


def demo_neighborhoods() -> list[str]:
    import yaml

    from campaign.demo.load import NYC

    demo = yaml.safe_load(NYC.read_text(encoding="utf-8"))
    return [place["neighborhood"] for team in demo["teams"] for place in team.get("turf", [])]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def closed_loop(n: int, c: int, one) -> tuple[float, list[float]]:
    """Run `one(i)` n times from c clients; returns the wall time and each call's seconds."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def client() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            started = time.perf_counter()
            one(i)
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(c) as pool:
        for future in [pool.submit(client) for _ in range(c)]:
            future.result()
    return time.perf_counter() - started, latencies


def bare_rasa(stack: Stack, run: str):
    http = httpx.Client(timeout=120)

    def one(i: int) -> None:
        response = http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                             json={"sender": f"bench-{run}-{i}", "message": FIRST_MESSAGE,
                                   "metadata": {"language": "en", "channel": "bench"}})
        response.raise_for_status()

    return one


class BareContacts:
    """What the app would hold for bare Rasa's sign-ups, so that the form's actions do their real
    work (locate, parse, PATCH, assign, book) and not refuse an unstamped message: a volunteer
    and a contact, leased to the bench so the app's runner never takes them, and a message row
    being processed for each turn, whose id the stamped metadata names. Written by the bench's
    own process, as the webhook would."""

    def __init__(self, stack: Stack):
        import sqlalchemy as sa

        self.engine = sa.create_engine(stack.db_url, connect_args={"timeout": 30})
        self.token = stack.env["SERVICE_TOKEN"]

    def contact(self) -> tuple[int, int]:
        from sqlalchemy.orm import Session

        from campaign.models import Identity, Volunteer

        with Session(self.engine) as session, session.begin():
            volunteer = Volunteer(signup_source="bench", stage="onboarding", availability=[], interests=[],
                                  language="en", language_source="chosen")
            session.add(volunteer)
            session.flush()
            identity = Identity(volunteer_id=volunteer.id, channel="sms", external_id=uuid.uuid4().hex,
                                lease_owner="bench", lease_until=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc))
            session.add(identity)
            session.flush()
            return volunteer.id, identity.id

    def turn(self, volunteer_id: int, identity_id: int, text: str) -> tuple[int, dict]:
        from sqlalchemy.orm import Session

        from bot import stamp
        from campaign.models import Message

        with Session(self.engine) as session, session.begin():
            message = Message(direction="in", channel="sms", provider_id=uuid.uuid4().hex, identity_id=identity_id,
                              volunteer_id=volunteer_id, body=text, payload={}, language="en", attempts=1)
            session.add(message)
            session.flush()
            metadata = {"message_id": message.id, "volunteer_id": volunteer_id, "language": "en", "channel": "sms"}
            return message.id, stamp.sign(metadata, self.token)

    def done(self, message_id: int) -> None:
        import sqlalchemy as sa

        with self.engine.begin() as connection:
            connection.execute(sa.text("update messages set status = 'processed' where id = :id"), {"id": message_id})


def bare_signup(stack: Stack, run: str, neighborhoods: list[str], contacts: BareContacts):
    """The same five turns through Rasa's REST channel, each stamped as the app would stamp it;
    the tap on the first shift offered is the payload of its first choice."""
    http = httpx.Client(timeout=120)

    def one(i: int) -> None:
        volunteer_id, identity_id = contacts.contact()
        replies: list[dict] = []
        for said, _ in SIGNUP:
            if said is FIRST_CHOICE:
                choices = [c for reply in replies for c in (reply.get("custom") or {}).get("choices", [])]
                if not choices:
                    raise RuntimeError(f"bare Rasa offered no shift: {replies}")
                said = choices[0]["payload"]
            text = _text(said, neighborhoods, i)
            message_id, metadata = contacts.turn(volunteer_id, identity_id, text)
            response = http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": f"signup-{run}-{i}", "message": text, "metadata": metadata})
            response.raise_for_status()
            replies = response.json()
            contacts.done(message_id)

    return one


def _text(said, neighborhoods: list[str], i: int) -> str:
    # "1" answers the numbered SMS offer; bare Rasa gets the tap's payload instead (a "/..." text)
    if said is FIRST_CHOICE:
        return "1"
    return said if said.startswith("/") else said.format(neighborhood=neighborhoods[i % len(neighborhoods)])


def full_signup(stack: Stack, fake, area: str, neighborhoods: list[str], first: int = 0):
    import sqlalchemy as sa

    http = httpx.Client(timeout=30)
    engine = sa.create_engine(stack.db_url)
    # The worker records an offer's choices once the provider has accepted the message (the
    # person cannot answer what they were not shown). The bench answers within milliseconds of
    # the fake's receipt, sooner than that record, which no person's phone does: it waits for it.
    # (whichever offer the team's shifts made: several, one as yes/no, or the nearest alternatives)
    offered = sa.text("select count(*) from open_offers o join identities i on i.id = o.identity_id "
                      "join outbox r on r.id = o.outbox_id where i.phone = :phone "
                      "and r.key in ('shift_offers', 'shift_offer', 'shift_alternatives', 'shift_offer_none')")

    def one(i: int) -> None:
        phone = f"+1{area}556{first + i:04d}"
        expected = 0
        for said, replies in SIGNUP:
            if said is FIRST_CHOICE:
                deadline = time.monotonic() + 60
                with engine.connect() as connection:
                    while not connection.execute(offered, {"phone": phone}).scalar():
                        connection.rollback()
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{phone}: the shift offer was sent but never recorded")
                        time.sleep(0.01)
            said = _text(said, neighborhoods, i)
            sms(http, stack, phone, said)
            expected += replies
            if not fake.recorder.wait_sent(phone, expected, timeout=300):
                raise TimeoutError(f"{phone}: no answer to {said!r}")

    return one


def outcomes(stack: Stack) -> dict[str, collections.Counter]:
    """Each path's sign-ups by where they ended (the volunteer's stage), from the app's database;
    bare Rasa's volunteers are the bench's own (signup_source "bench"). Only the ones that got as
    far as their name (the demo's leads and the first-message conversations have no other)."""
    import sqlalchemy as sa

    engine = sa.create_engine(stack.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "select signup_source = 'bench', stage, count(*) from volunteers where name = 'Maria' group by 1, 2")).all()
    finally:
        engine.dispose()
    found = {"bare Rasa": collections.Counter(), "full path": collections.Counter()}
    for bare, stage, count in rows:
        found["bare Rasa" if bare else "full path"][stage] += count
    return found


# New York area codes for the rounds' new numbers (917 warms up, 347 is the profile's)
AREAS = ("646", "212", "332", "718", "929", "516", "631", "914")


def sms(http: httpx.Client, stack: Stack, phone: str, text: str) -> None:
    """One inbound SMS, as Twilio posts and signs it."""
    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"], "From": phone,
              "To": SECRETS["TWILIO_SMS_FROM"], "Body": text, "NumMedia": "0", "ApiVersion": "2010-04-01"}
    body, headers = signing.twilio(SECRETS["TWILIO_AUTH_TOKEN"], f"{PUBLIC}/webhooks/twilio", params)
    http.post(f"{stack.api_url}/webhooks/twilio", content=body, headers=headers).raise_for_status()


def full_path(stack: Stack, fake, area: str, first: int = 0):
    http = httpx.Client(timeout=30)

    def one(i: int) -> None:
        phone = f"+1{area}555{first + i:04d}"
        sms(http, stack, phone, FIRST_MESSAGE)
        # woken by the fake as each message arrives: a client that polled the fake's record would
        # spend the CPU (and the fake's GIL) that the stack under measurement needs
        if not fake.recorder.wait_sent(phone, REPLIES, timeout=300):
            raise TimeoutError(f"{phone} not answered")

    return one


FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^:()]+)(?::\d+)?\)$")


# Where a thread waits (py-spy's idle detection does not know every one of them).
WAITING = {"select", "poll", "epoll", "wait", "sleep", "acquire", "_wait_for_tstate_lock", "accept", "recv", "read",
           "readinto", "get", "run_forever", "_run_once", "wait_for", "result"}


def charge(frames: list[str], root: str) -> str:
    """Where a sample goes: our innermost function, else the innermost library's package."""
    innermost = FRAME.match(frames[-1]) if frames else None
    if innermost and innermost["function"].rsplit(".", 1)[-1] in WAITING:
        return "waiting"
    for frame in reversed(frames):
        match = FRAME.match(frame)
        if match and match["path"].startswith(root) and "/.venv" not in match["path"]:
            return f"{match['path'][len(root):].lstrip('/')}: {match['function']}"
    for frame in reversed(frames):
        match = FRAME.match(frame)
        if match and "site-packages/" in match["path"]:
            package = match["path"].split("site-packages/", 1)[1].split("/", 1)[0]
            sub = match["path"].split("site-packages/", 1)[1].split("/")[1:2]
            return f"{package}/{sub[0]}" if package == "rasa" and sub else package
    return "other"


def profile(stack: Stack, seconds: float, run) -> dict[str, list[tuple[str, float]]]:
    """Sample every process with py-spy while `run()` works; the top places per process."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    outputs, spies = {}, []
    for name in ("api", "worker", "rasa", "actions"):
        outputs[name] = Path(tempfile.mkstemp(suffix=f"-{name}.txt")[1])
        spies.append(subprocess.Popen([spy, "record", "--nonblocking", "--full-filenames", "--format", "raw", "--rate", "50", "-d", str(int(seconds)),
                                       "-p", str(stack.procs[name].pid), "-o", str(outputs[name])],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(1)
    run()
    for spy_process in spies:
        spy_process.wait()
    root = str(Path(__file__).resolve().parent.parent)
    tops = {}
    for name, path in outputs.items():
        counts: collections.Counter = collections.Counter()
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            stack_text, _, count = line.rpartition(" ")
            if count.isdigit():
                counts[charge(stack_text.split(";"), root)] += int(count)
        counts.pop("waiting", None)
        total = sum(counts.values()) or 1
        tops[name] = [("cpu seconds", total / 50)] + [(place, n / total) for place, n in counts.most_common(8)]
        path.unlink(missing_ok=True)
    return tops


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """Each process's CPU time so far (user and system, its children included)."""
    seconds = {}
    for name, proc in stack.procs.items():
        try:
            process = psutil.Process(proc.pid)
            seconds[name] = sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])
        except psutil.Error:
            seconds[name] = 0.0
    return seconds


def measured(stack: Stack, n: int, c: int, rounds: int, paths: dict, unit: str = "msg") -> dict[str, dict]:
    """Run each path n times in all, in `rounds` alternating blocks (bare, full; full, bare; ...):
    a machine whose speed drifts over minutes (other tenants, clock steps) then weighs on both
    paths alike, instead of on whichever ran second. Prints each path's figures and the CPU each
    process spent on a message."""
    walls = {name: 0.0 for name in paths}
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    cpu = {name: collections.Counter() for name in paths}
    sizes = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    names = list(paths)
    for r, size in enumerate(sizes):
        for name in names if r % 2 == 0 else names[::-1]:
            before = cpu_seconds(stack)
            wall, times = closed_loop(size, c, paths[name](r))
            after = cpu_seconds(stack)
            walls[name] += wall
            latencies[name] += times
            cpu[name].update({proc: after[proc] - before.get(proc, 0.0) for proc in after})
    figures = {}
    for name in names:
        figures[name] = report(name, walls[name], latencies[name], unit)
        figures[name]["cpu_ms"] = {proc: 1000 * seconds / n for proc, seconds in cpu[name].items()}
        print(" " * 11 + f"CPU a {'message' if unit == 'msg' else unit.rstrip('s')}: " + ", ".join(f"{proc} {ms:.0f} ms" for proc, ms in figures[name]["cpu_ms"].items()))
    return figures


def report(name: str, wall: float, latencies: list[float], unit: str = "msg") -> dict:
    figures = {"throughput": len(latencies) / wall, "p50": statistics.median(latencies), "p99": percentile(latencies, 99)}
    print(f"{name:<10} {figures['throughput']:6.2f} {unit}/s   p50 {figures['p50']:6.2f} s   p99 {figures['p99']:6.2f} s")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="new conversations per path")
    parser.add_argument("-c", type=int, default=20, help="concurrent clients")
    parser.add_argument("--signups", type=int, default=100, help="whole five-turn sign-ups per path (0: none)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating blocks the n conversations of each path are run in (1: bare, then full)")
    parser.add_argument("--profile", action="store_true", help="then sample each process with py-spy")
    parser.add_argument("--sms-rate", default="off",
                        help="the sender's SMS rate for the run (OUTBOX_SEND_RATES): off (default), or e.g. 10/second "
                             "(the worker's default), to see the provider's limit instead of the stack's")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir, twilio.running() as tw, telegram.running() as tg, graph.running() as gr:
        stack = Stack(Path(workdir), credentials="bench/credentials-rest.yml")
        stack.env.update(SECRETS)
        stack.env.update({"TWILIO_API_BASE": tw.url, "TELEGRAM_API_BASE": tg.url, "GRAPH_API_BASE": gr.url,
                          "LOG_LEVEL": "WARNING"})
        if args.sms_rate:
            # the sender's SMS rate is its number's (10/s by default: two replies each, it would cap
            # the full path at 5 conversations a second, whatever the stack can do); bare Rasa has none
            stack.env["OUTBOX_SEND_RATES"] = f"sms={args.sms_rate}"
        try:
            print("starting the stack (Rasa loads its model)...", file=sys.stderr)
            stack.up(timeout=400)
            # a warm-up, so that neither path pays for first-call costs
            closed_loop(10, 5, bare_rasa(stack, "warmup"))
            closed_loop(10, 5, full_path(stack, tw, "917"))
            print(f"N = {args.n} new conversations, C = {args.c} at a time, first message {FIRST_MESSAGE!r}, "
                  f"SMS send rate {args.sms_rate or 'the default'}")
            run = uuid.uuid4().hex[:6]
            figures = measured(stack, args.n, args.c, args.rounds, {
                "bare Rasa": lambda r: bare_rasa(stack, f"{run}-{r}"),
                "full path": lambda r: full_path(stack, tw, AREAS[r % len(AREAS)], first=r // len(AREAS) * 1000),
            })
            bare, full = figures["bare Rasa"], figures["full path"]
            if args.signups:
                hoods = demo_neighborhoods()
                print(f"\nN = {args.signups} whole sign-ups of {len(SIGNUP)} turns, C = {args.c} at a time, "
                      f"across the demo's {len(hoods)} neighborhoods")
                contacts = BareContacts(stack)
                signups = measured(stack, args.signups, args.c, args.rounds, {
                    "bare Rasa": lambda r: bare_signup(stack, f"{run}-{r}", hoods, contacts),
                    "full path": lambda r: full_signup(stack, tw, AREAS[r % len(AREAS)], hoods, first=r // len(AREAS) * 1000),
                }, unit="sign-ups")
                for path, stages in outcomes(stack).items():
                    print(" " * 11 + f"{path}'s sign-ups ended: " + ", ".join(f"{n} {stage}" for stage, n in sorted(stages.items())))
            if args.profile:
                wall = full["throughput"] and args.n / full["throughput"]
                tops = profile(stack, wall + 5, lambda: closed_loop(args.n, args.c, full_path(stack, tw, "347")))
        finally:
            stack.down()
    print(f"ratio (full path / bare Rasa throughput): {full['throughput'] / bare['throughput']:.2f}x; "
          f"p99 {full['p99'] / bare['p99']:.2f}x bare Rasa's")
    if args.signups:
        bare, full = signups["bare Rasa"], signups["full path"]
        print(f"whole sign-ups, ratio: {full['throughput'] / bare['throughput']:.2f}x; p99 {full['p99'] / bare['p99']:.2f}x bare Rasa's")
    if args.profile:
        for name, places in tops.items():
            (_, cpu), *rest = places
            print(f"\n{name}: {cpu:.1f} s of CPU while the full path ran again")
            for place, share in rest:
                print(f"  {share * 100:5.1f}%  {place}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
