"""Benchmark: the whole path against bare Rasa, in one run, on one stack.

Every process is up (rasa, actions, api, worker: the form's actions need the api), with the
trained model, the same tracker store and the same first message. N new conversations, with a
closed-loop client at concurrency C (each of C clients starts its next conversation when the
previous one is answered):

- bare Rasa: POST /webhooks/rest/webhook with a new sender id; done when Rasa answers;
- the full path: a signed Twilio SMS webhook from a new number, then the pipeline, Rasa, the
  outbox and the worker; done when the Twilio fake has received both replies.

Prints throughput and p50/p99 for both, and the ratio of the full path's throughput to bare
Rasa's. The sender's SMS rate is lifted (OUTBOX_SEND_RATES=sms=off): at its default of 10 a
second, two replies a conversation cap the full path at 5 conversations a second, a limit of
the campaign's number and not of the stack; `--sms-rate 10/second` measures with it.

    python -m bench.fullstack [-n 200] [-c 20] [--rounds 4] [--sms-rate off] [--profile]

Each path's n conversations run in `--rounds` blocks that alternate with the other path's (bare,
full, full, bare, ...), so that a drift in the machine's speed over the minutes of a run weighs
on both paths alike; the figures are over all blocks.

With --profile, the full path runs a third time with py-spy sampling the api, the worker, Rasa
and the action server, and where each one's CPU time went is printed: each sample is charged to
the innermost frame of our own code (or, in Rasa, to the library it is in).
"""
import argparse
import collections
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


# New York area codes for the rounds' new numbers (917 warms up, 347 is the profile's)
AREAS = ("646", "212", "332", "718", "929", "516", "631", "914")


def full_path(stack: Stack, fake, area: str, first: int = 0):
    http = httpx.Client(timeout=30)

    def one(i: int) -> None:
        phone = f"+1{area}555{first + i:04d}"
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": SECRETS["TWILIO_ACCOUNT_SID"], "From": phone,
                  "To": SECRETS["TWILIO_SMS_FROM"], "Body": FIRST_MESSAGE, "NumMedia": "0", "ApiVersion": "2010-04-01"}
        body, headers = signing.twilio(SECRETS["TWILIO_AUTH_TOKEN"], f"{PUBLIC}/webhooks/twilio", params)
        http.post(f"{stack.api_url}/webhooks/twilio", content=body, headers=headers).raise_for_status()
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


def measured(stack: Stack, n: int, c: int, rounds: int, paths: dict) -> dict[str, dict]:
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
        figures[name] = report(name, walls[name], latencies[name])
        figures[name]["cpu_ms"] = {proc: 1000 * seconds / n for proc, seconds in cpu[name].items()}
        print(" " * 11 + "CPU a message: " + ", ".join(f"{proc} {ms:.0f} ms" for proc, ms in figures[name]["cpu_ms"].items()))
    return figures


def report(name: str, wall: float, latencies: list[float]) -> dict:
    figures = {"throughput": len(latencies) / wall, "p50": statistics.median(latencies), "p99": percentile(latencies, 99)}
    print(f"{name:<10} {figures['throughput']:6.2f} msg/s   p50 {figures['p50']:6.2f} s   p99 {figures['p99']:6.2f} s")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="new conversations per path")
    parser.add_argument("-c", type=int, default=20, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating blocks the n conversations of each path are run in (1: bare, then full)")
    parser.add_argument("--profile", action="store_true", help="then sample each process with py-spy")
    parser.add_argument("--sms-rate", default="off",
                        help="the sender's SMS rate for the run (OUTBOX_SEND_RATES): off (default), or e.g. 10/second "
                             "(the worker's default), to see the provider's limit instead of the stack's")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir, twilio.running() as tw, telegram.running() as tg, graph.running() as gr:
        stack = Stack(Path(workdir))
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
            if args.profile:
                wall = full["throughput"] and args.n / full["throughput"]
                tops = profile(stack, wall + 5, lambda: closed_loop(args.n, args.c, full_path(stack, tw, "347")))
        finally:
            stack.down()
    print(f"ratio (full path / bare Rasa throughput): {full['throughput'] / bare['throughput']:.2f}x; "
          f"p99 {full['p99'] / bare['p99']:.2f}x bare Rasa's")
    if args.profile:
        for name, places in tops.items():
            (_, cpu), *rest = places
            print(f"\n{name}: {cpu:.1f} s of CPU while the full path ran again")
            for place, share in rest:
                print(f"  {share * 100:5.1f}%  {place}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
