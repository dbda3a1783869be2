"""Benchmark: how fast the api acknowledges provider webhooks while Rasa is saturated.

Starts the real api process on a fresh SQLite database, with Rasa replaced by a stand-in that
takes RASA_SECONDS per message (so the inbound runner always has a backlog), then posts signed
Twilio SMS webhooks at RATE per second and measures each acknowledgement. The baseline, in the
same run and at the same rate, is GET /healthz on the same process: no signature, no database.
Target: p99 under 100 ms.
"""
import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
import httpx
from fastapi import FastAPI, Request

from tests.fakes.base import Recorder, Running
from tests.support import signing
from tests.support.stack import free_port

TOKEN, PUBLIC = "bench-token", "https://bench.example.org"


def slow_rasa(seconds: float) -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/onramp/message")  # our input channel (bot/assistant/onramp_channel.py)
    async def webhook(request: Request):
        body = await request.json()
        await asyncio.sleep(seconds)
        return {"replies": [{"recipient_id": body["sender"], "custom": {"key": "not_understood"}}],
                "intent": {"name": "nlu_fallback", "confidence": 0.3}, "events": 2, "latest_event_time": None,
                "seen": False}

    @app.get("/conversations/{sender}/tracker")
    def tracker(sender: str):
        return {"sender_id": sender, "events": []}

    return app


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def load(url: str, rate: float, seconds: float, make_request) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=10) as client:
        async def one(i: int) -> None:
            method, path, kwargs = make_request(i)
            started = time.perf_counter()
            response = await client.request(method, url + path, **kwargs)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies


def sms(i: int):
    sid = "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "From": f"+1718{5550000 + i % 1000:07d}", "To": "+12125550000", "Body": f"hello {i}",
              "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}
    body, headers = signing.twilio(TOKEN, f"{PUBLIC}/webhooks/twilio", params)
    return "POST", "/webhooks/twilio", {"content": body, "headers": headers}


def report(name: str, values: list[float]) -> dict:
    result = {"p50": statistics.median(values), "p99": percentile(values, 99), "max": max(values), "n": len(values)}
    print(f"{name:<28} n={result['n']:<5} p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms   max {result['max']:6.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rasa-seconds", type=float, default=2.0)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp, Running(slow_rasa(args.rasa_seconds), Recorder()) as rasa:
        port = free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "API_PORT": str(port), "RASA_URL": rasa.url,
               "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC, "LOG_LEVEL": "WARNING",
               # a public address: the api refuses to start with the default service token
               "SERVICE_TOKEN": "bench-service-token-" + "s" * 32}
        onramp = str(root / ".venv" / "bin" / "onramp")
        subprocess.run([onramp, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        api = subprocess.Popen([onramp, "api"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(load(url, args.rate, 2, sms))  # warm up, and fill Rasa's queue
            print(f"webhook acknowledgement at {args.rate:.0f} requests/s for {args.seconds:.0f} s, "
                  f"Rasa taking {args.rasa_seconds:.1f} s per message (saturated)")
            baseline = report("baseline GET /healthz", asyncio.run(load(url, args.rate, args.seconds, lambda i: ("GET", "/healthz", {}))))
            webhook = report("POST /webhooks/twilio", asyncio.run(load(url, args.rate, args.seconds, sms)))
            print(f"ratio to baseline: p50 {webhook['p50'] / baseline['p50']:.1f}x, p99 {webhook['p99'] / baseline['p99']:.1f}x")
            print(f"target p99 < 100 ms: {'met' if webhook['p99'] < 100 else 'NOT met'}")
        finally:
            api.terminate()
            api.wait(10)


if __name__ == "__main__":
    sys.exit(main())
