"""One process down is not the system down: under `onramp run`, Rasa and then the worker are
killed with SIGKILL in the middle of a burst of SMS. Every webhook is still acknowledged, the
dead processes come back by themselves, the others keep running, and every message is answered
once."""
import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import create_engine, select

from campaign.models import Message, OutboxRow
from onramp.settings import ROOT
from tests.e2e.onramp_run import RunStack
from tests.support.channel_chat import SECRETS, Sms
from tests.support.chat import catalog_key

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def supervised(tmp_path_factory, fakes):
    if not (ROOT / "models/onramp.tar.gz").exists():
        pytest.fail("no trained model at models/onramp.tar.gz: run the tests with `make test`, which trains it")
    stack = RunStack(tmp_path_factory.mktemp("supervised"), {
        **SECRETS, "TWILIO_API_BASE": fakes["twilio"].url, "TELEGRAM_API_BASE": fakes["telegram"].url,
        "GRAPH_API_BASE": fakes["graph"].url})
    try:
        yield stack.up()
    finally:
        stack.down()


def test_killing_rasa_then_the_worker_mid_burst_acknowledges_every_webhook_and_answers_each_once(supervised, fakes):
    stack = supervised
    people = [Sms(stack.api_url, stack.db_url, fakes["twilio"], 7000 + n) for n in range(20)]
    lines = ["hi I want to volunteer", "Sam"]
    sids: dict[tuple[int, int], str] = {}
    refused: list[tuple[tuple[int, int], str]] = []
    api_before = stack.pids("api")

    def burst() -> None:
        for step, line in enumerate(lines):
            for n, person in enumerate(people):
                try:
                    sids[(n, step)] = person.post(line)
                except httpx.HTTPError as error:
                    refused.append(((n, step), repr(error)))
                time.sleep(0.05)

    sender = threading.Thread(target=burst)
    sender.start()
    while len(sids) + len(refused) < 8:
        time.sleep(0.01)
    rasa_killed = stack.kill("rasa")
    while len(sids) + len(refused) < 24:
        time.sleep(0.01)
    worker_killed = stack.kill("worker")
    sender.join()

    assert refused == []  # every webhook acknowledged while Rasa and the worker were down
    for (n, step), sid in sorted(sids.items(), key=lambda kv: kv[0][1]):
        people[n].wait(sid, timeout=300)

    assert stack.pids("rasa") and stack.pids("rasa").isdisjoint(rasa_killed)  # started again
    assert stack.pids("worker") and stack.pids("worker").isdisjoint(worker_killed)
    assert stack.pids("api") == api_before  # the others kept running
    engine = create_engine(stack.db_url)
    with engine.connect() as conn:
        statuses = conn.execute(select(Message.status).where(Message.provider_id.in_(list(sids.values())))).scalars().all()
        replies = conn.execute(select(OutboxRow.source_message_id, OutboxRow.seq).join(
            Message, Message.id == OutboxRow.source_message_id).where(Message.provider_id.in_(list(sids.values())))).all()
    assert Counter(statuses) == {"processed": len(lines) * len(people)}
    assert len(replies) == len(set(replies))
    for person in people:
        keys = [catalog_key(text, "en") for text, _ in person.mine()]
        assert keys == ["welcome", "ask_name", "ask_neighborhood"], (person.phone, keys)


def test_the_terminal_shows_the_urls_and_one_line_per_message_but_no_deprecation_warnings(supervised):
    """After the burst above, restarts included: what `make run` printed."""
    output = supervised.log.read_text(errors="replace")
    assert f"web chat  {SECRETS['PUBLIC_BASE_URL']}/chat" in output
    deprecations = [line for line in output.splitlines() if "DeprecationWarning" in line or "MovedIn20Warning" in line]
    assert deprecations == []
    assert output.count(" onramp.messages: message ") >= 40  # the burst's messages, each one line
    assert "hi I want to volunteer" not in output  # no message bodies at INFO
    assert "HTTP Request:" not in output and "GET /chat/api/messages" not in output
    # no access log lines from Rasa either: Rasa's --auth-token would travel in their query string
    assert "/webhooks/onramp/message" not in output and "/webhooks/rest/webhook" not in output


def test_no_secret_on_any_command_line_and_no_open_rest_channel(supervised):
    """`ps` shows every local user each process's command line: Rasa's JWT secret reached it as
    --jwt-secret <value> there (the Procfile), and the service token must never. And Rasa's REST
    channel, which takes anyone's message with no token, is off."""
    from pathlib import Path

    from onramp.settings import Settings

    secrets = {Settings(service_token=SECRETS["SERVICE_TOKEN"]).rasa_jwt_secret_value, SECRETS["SERVICE_TOKEN"]}
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:  # gone meanwhile
            continue
    assert any("rasa_launch run --enable-api" in line for line in lines)  # Rasa is among them
    assert [line for line in lines if any(secret in line for secret in secrets)] == []
    assert httpx.post(f"{supervised.rasa_url}/webhooks/rest/webhook", json={"sender": "x", "message": "hi"}).status_code == 404
