"""/metrics in Prometheus format and /healthz, which tells the database, Rasa and Redis apart."""
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from campaign import outbox
from campaign.db import session_scope
from campaign.models import Message, OutboxRow
from campaign.volunteers import identify
from tests.fakes.base import Recorder, Running
from tests.support import databases
from tests.support.stack import free_port


def client_app():
    from api.main import create_app

    return TestClient(create_app(run_pipeline=False), client=("127.0.0.1", 50000))  # a scraper on this machine


@pytest.fixture
def rasa_up(monkeypatch):
    """Something that answers Rasa's /status the way Rasa does once its model is loaded."""
    app = FastAPI()

    @app.get("/status")
    def status():
        return {"model_file": "onramp.tar.gz", "num_active_training_jobs": 0}

    with Running(app, Recorder()) as rasa:
        monkeypatch.setenv("RASA_URL", rasa.url)
        databases.reset_caches()
        yield rasa


@pytest.fixture
def rasa_down(monkeypatch):
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")
    databases.reset_caches()


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def queue(statuses_by_channel: dict[str, list[str]]) -> None:
    with session_scope() as session:
        for n, (channel, statuses) in enumerate(statuses_by_channel.items()):
            identity = identify(session, channel, f"+1718555{n:04d}" if channel != "webchat" else "session-metrics-1")
            for status in statuses:
                row = session.get(OutboxRow, outbox.enqueue(session, identity, key="help"))
                row.status = status
            session.add(Message(direction="in", channel=channel, provider_id=f"in-{channel}", identity_id=identity.id,
                                volunteer_id=identity.volunteer_id, body="hi", payload={}))


def test_metrics_show_backlogs_by_status_sends_per_channel_and_rasa(db, rasa_up):
    queue({"sms": ["sent", "sent", "unknown", "pending"], "telegram": ["sent", "sending"], "webchat": ["pending"]})
    with client_app() as client:
        metrics = scrape(client)
    assert metrics[("onramp_inbound_backlog", ())] == 3
    outbox_rows = {dict(labels)["status"]: value for (name, labels), value in metrics.items() if name == "onramp_outbox_rows"}
    assert outbox_rows == {"pending": 2, "sending": 1, "sent": 3, "unknown": 1, "failed": 0, "cancelled": 0}
    assert metrics[("onramp_sends_total", (("channel", "sms"),))] == 2
    assert metrics[("onramp_sends_total", (("channel", "telegram"),))] == 1
    assert metrics[("onramp_rasa_up", ())] == 1
    assert not any(name == "onramp_redis_up" for name, _ in metrics)  # Redis is not used by this setup


def test_an_empty_outbox_still_shows_unknown_at_zero_and_rasa_down(db, rasa_down):
    with client_app() as client:
        metrics = scrape(client)
    assert metrics[("onramp_outbox_rows", (("status", "unknown"),))] == 0
    assert metrics[("onramp_inbound_backlog", ())] == 0
    assert metrics[("onramp_rasa_up", ())] == 0


def test_health_tells_each_part_apart_and_stays_200_while_only_rasa_and_redis_are_down(db, rasa_down, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_STORAGE", "redis")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    databases.reset_caches()
    with client_app() as client:
        response = client.get("/healthz")
        metrics = scrape(client)
    assert response.status_code == 200  # the api still stores and acknowledges webhooks
    assert response.json() == {"ok": True, "database": "ok", "rasa": "down", "redis": "down"}
    assert metrics[("onramp_redis_up", ())] == 0


def test_health_is_ok_when_every_part_answers(db, rasa_up):
    with client_app() as client:
        response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True, "database": "ok", "rasa": "ok", "redis": "not used"})


def test_health_is_503_when_the_database_cannot_be_reached(rasa_up, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/onramp")
    databases.reset_caches()
    try:
        with client_app() as client:
            response = client.get("/healthz")
    finally:
        databases.reset_caches()
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["database"].startswith("down") and body["rasa"] == "ok"


def test_metrics_answer_only_this_machine_or_a_bearer_token(db, rasa_up, monkeypatch):
    """Before, anyone who reached the api read the backlog and send counts."""
    from api.main import create_app
    from onramp.settings import get_settings

    monkeypatch.setenv("METRICS_TOKEN", "metrics-" + "m" * 32)
    get_settings.cache_clear()
    try:
        outside = TestClient(create_app(run_pipeline=False), client=("203.0.113.9", 40000))
        assert outside.get("/metrics").status_code == 403
        assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert outside.get("/metrics", headers={"Authorization": "Bearer metrics-" + "m" * 32}).status_code == 200
        assert outside.get("/healthz").status_code == 200  # a load balancer's check stays open
    finally:
        get_settings.cache_clear()
