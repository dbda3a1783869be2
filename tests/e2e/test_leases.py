"""Two `onramp api` processes on one PostgreSQL database share the inbound work through
per-contact leases: one person's messages, posted to both in turn, are each answered once and
in order. Rasa is a stand-in speaking our input channel (bot/assistant/onramp_channel.py; answers
"echo <text>" after a random pause), so the test needs no model."""
import asyncio
import random
import subprocess
import threading
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import create_engine, func, select

from campaign.models import Identity, Message, OutboxRow, utcnow
from onramp.settings import ROOT
from tests.fakes import twilio as fake_twilio
from tests.fakes.base import Recorder, Running
from tests.support import databases
from tests.support.channel_chat import SECRETS, Sms
from tests.support.stack import Stack, free_port

MESSAGES, ROUNDS = 20, 5


def echo_rasa(seen: list[tuple[str, str]], lock: threading.Lock) -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/onramp/message")
    async def webhook(request: Request):
        body = await request.json()
        with lock:
            seen.append((body["sender"], body["message"]))
        await asyncio.sleep(random.uniform(0, 0.3))  # slow enough that both processes want the contact
        return {"replies": [{"recipient_id": body["sender"], "text": f"echo {body['message']}"}],
                "intent": None, "events": 2, "latest_event_time": None, "seen": False}

    @app.get("/conversations/{sender}/tracker")
    def tracker(sender: str):
        return {"sender_id": sender, "events": [], "active_loop": {}}

    @app.post("/conversations/{sender}/tracker/events")
    def events(sender: str):
        return {"sender_id": sender}

    return app


@pytest.fixture
def pg_url():
    problem = databases.pg_unavailable()
    if problem:
        pytest.skip(f"PostgreSQL not reachable ({problem})")
    name = f"onramp_leases_{random.randrange(16**8):08x}"
    databases.pg_create(name)
    yield databases.pg_url(name)
    databases.pg_drop(name)


def _wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


def _wait_answered(engine, sids: list[str], timeout: float = 60) -> set[str]:
    """Until every message is processed and its replies sent; returns the lease holders seen."""
    owners: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            owners |= set(conn.execute(select(Identity.lease_owner).where(Identity.lease_owner.is_not(None))).scalars())
            waiting = conn.execute(select(func.count()).select_from(Message).where(
                Message.provider_id.in_(sids), Message.status != "processed")).scalar()
            unsent = conn.execute(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.status.in_(("pending", "sending")), OutboxRow.send_after <= utcnow() + timedelta(seconds=5))).scalar()
        if waiting == 0 and unsent == 0:
            return owners
        time.sleep(0.02)
    raise TimeoutError(f"{waiting} messages not processed, {unsent} replies not sent")


def test_two_api_processes_on_postgresql_answer_each_message_of_a_contact_once_in_order(tmp_path, pg_url):
    seen: list[tuple[str, str]] = []
    rasa = Running(echo_rasa(seen, threading.Lock()), Recorder())
    with fake_twilio.running() as twilio, rasa:
        stack = Stack(tmp_path)
        stack.db_url = pg_url
        stack.env.update(SECRETS)
        stack.env.update({"DATABASE_URL": pg_url, "RASA_URL": rasa.url, "TWILIO_API_BASE": twilio.url,
                          "LOG_LEVEL": "WARNING"})
        try:
            stack.up(timeout=120, processes=("api", "worker"), demo=False)
            second = f"http://127.0.0.1:{free_port()}"
            env = {**stack.full_env, "API_PORT": second.rsplit(":", 1)[1]}
            with open(tmp_path / "api2.log", "ab") as log:
                stack.procs["api2"] = subprocess.Popen(stack.commands()["api"], env=env, cwd=ROOT, stdout=log,
                                                       stderr=subprocess.STDOUT, start_new_session=True)
            _wait_healthy(second)
            driver_url = pg_url.replace("postgresql://", "postgresql+psycopg://")
            person = [Sms(url, driver_url, twilio, 7001) for url in (stack.api_url, second)]
            engine = create_engine(driver_url)
            owners: set[str] = set()
            sids: list[str] = []
            for round_ in range(ROUNDS):  # each round starts at the other process; within one, both get messages
                for i in range(MESSAGES // ROUNDS):
                    sids.append(person[(round_ + i) % 2].post(f"m{len(sids):02d}"))
                owners |= _wait_answered(engine, sids)
            engine.dispose()
        finally:
            stack.down()
    texts = [f"m{n:02d}" for n in range(MESSAGES)]
    assert [text for _, text in seen] == texts  # Rasa saw each once, in order
    bodies = [s["Body"] for s in twilio.recorder.sent if s["To"] == person[0].phone]
    assert [body.split("\n")[0] for body in bodies] == [f"echo {t}" for t in texts]  # answered once each, in order
    assert len({owner.rsplit(":", 1)[0] for owner in owners}) == 2, owners  # both processes took the contact
