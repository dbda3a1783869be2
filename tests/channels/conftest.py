import pytest
from fastapi.testclient import TestClient

from tests.channels.harness import ENV
from tests.fakes import graph, telegram, twilio
from tests.support import databases


@pytest.fixture
def channel_env(db, monkeypatch):
    """Every provider configured, pointed at nothing yet (tests that send start the fakes)."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    databases.reset_caches()
    return db


@pytest.fixture
def client(channel_env):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        yield client


@pytest.fixture
def fakes(channel_env, monkeypatch):
    """Each provider's API, faked in its wire format, and the app pointed at them."""
    with twilio.running() as t, telegram.running() as tg, graph.running() as g:
        for name, fake in {"TWILIO_API_BASE": t, "TELEGRAM_API_BASE": tg, "GRAPH_API_BASE": g}.items():
            monkeypatch.setenv(name, fake.url)
        databases.reset_caches()
        yield {"twilio": t, "telegram": tg, "graph": g}
