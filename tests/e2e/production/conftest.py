"""The end-to-end tests again on the production profile (`onramp run --profile production`):
PostgreSQL for the app and Rasa's tracker store, Redis for Rasa's locks and the rate limits,
two api processes, two workers and two Rasa workers. One stack for the whole package, torn down
before the embedded stack's tests start. Skipped where PostgreSQL or Redis is missing, except
under CI=true, where that fails."""
import os
import uuid

import pytest

from onramp.settings import ROOT
from tests.e2e.onramp_run import RunStack
from tests.support import databases

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/9")


def missing() -> str | None:
    problem = databases.pg_unavailable()
    if problem:
        return f"PostgreSQL not reachable ({problem})"
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as error:
        return f"Redis not reachable at {REDIS_URL} ({error})"
    return None


@pytest.fixture(scope="package")
def fakes():
    """Fakes of its own: the same people as on the embedded stack must not see each other's texts."""
    from tests.fakes import graph, telegram, twilio

    with twilio.running() as tw, telegram.running() as tg, graph.running() as gr:
        yield {"twilio": tw, "telegram": tg, "graph": gr}


@pytest.fixture(scope="package")
def stack(tmp_path_factory, fakes):
    from tests.support.channel_chat import SECRETS

    problem = missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the production profile's end-to-end tests need PostgreSQL and Redis under CI=true: {problem}")
        pytest.skip(f"{problem}: the production profile's end-to-end tests are skipped")
    if not (ROOT / "models/onramp.tar.gz").exists():
        pytest.fail("no trained model at models/onramp.tar.gz: run the tests with `make test`, which trains it")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # our own database number: rate limits and locks start empty
    name = f"onramp_e2e_{uuid.uuid4().hex[:10]}"
    databases.pg_create(name)
    url = databases.pg_url(name).replace("postgresql://", "postgresql+psycopg://", 1)
    stack = RunStack(tmp_path_factory.mktemp("production"), {
        **SECRETS, "DATABASE_URL": url, "RASA_TRACKER_STORE_URL": databases.pg_url(name), "REDIS_URL": REDIS_URL,
        "TWILIO_API_BASE": fakes["twilio"].url, "TELEGRAM_API_BASE": fakes["telegram"].url,
        "GRAPH_API_BASE": fakes["graph"].url,
        # Two api processes share the contacts through leases: one that outlives a slow Rasa
        # turn lets the other ask Rasa again (issue #15, item 10). The embedded stack's 3 s is
        # shorter than a turn on a loaded machine; after a kill, messages resume after this.
        "INBOUND_LEASE_SECONDS": "20"}, args=("--profile", "production"), api_processes=2,
        hold_on_kill=True)
    try:
        yield stack.up(timeout=400)
    finally:
        stack.down()
        databases.pg_drop(name)
