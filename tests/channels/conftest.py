import pytest
from fastapi.testclient import TestClient

from tests.channels.example_adapter import ParrotAdapter
from tests.channels.harness import ENV, PARROT_SECRET, PARROT_TOKEN
from tests.fakes import graph, parrot, telegram, twilio
from tests.support import databases


@pytest.fixture(autouse=True)
def example_adapter(monkeypatch):
    """The example adapter of docs/adding-a-channel.md, mounted and sent through like the others."""
    import bot.channels

    monkeypatch.setattr(bot.channels, "ADAPTERS", [*bot.channels.ADAPTERS, ParrotAdapter])
    monkeypatch.setattr(ParrotAdapter, "secret", PARROT_SECRET)
    monkeypatch.setattr(ParrotAdapter, "token", PARROT_TOKEN)


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
    with twilio.running() as t, telegram.running() as tg, graph.running() as g, parrot.running() as p:
        for name, fake in {"TWILIO_API_BASE": t, "TELEGRAM_API_BASE": tg, "GRAPH_API_BASE": g}.items():
            monkeypatch.setenv(name, fake.url)
        monkeypatch.setattr(ParrotAdapter, "api_base", p.url)
        databases.reset_caches()
        yield {"twilio": t, "telegram": tg, "graph": g, "parrot": p}
