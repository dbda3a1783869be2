"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL (real databases, never
mocked). Where PostgreSQL cannot be reached its tests are skipped, except under CI=true."""
import os
import uuid

import pytest

from tests.support import databases

pytest_plugins = ["tests.support.clock_ahead"]


def pytest_report_header(config):
    return f"PostgreSQL: {databases.pg_status()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onramp.db'}"
        return
    problem = databases.pg_unavailable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL not reachable ({problem}); these tests run on SQLite only")
    name = f"onramp_test_{uuid.uuid4().hex[:10]}"
    databases.pg_create(name)
    try:
        yield databases.pg_url(name)
    finally:
        databases.pg_drop(name)


@pytest.fixture
def db(db_url, monkeypatch):
    """A migrated, empty database that the app's own code uses (through DATABASE_URL)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    databases.reset_caches()
    from campaign.db import get_engine
    from campaign.migrate import upgrade

    upgrade(db_url)
    engine = get_engine()
    yield engine
    engine.dispose()
    databases.reset_caches()


@pytest.fixture
def demo(db):
    """The demo campaign loaded."""
    from campaign.db import session_scope
    from campaign.demo import load

    with session_scope() as session:
        load.load(session)
    return db
