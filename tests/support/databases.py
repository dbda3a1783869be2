"""Test databases on the PostgreSQL server (PG_TEST_URL, default 127.0.0.1:5432 trust auth)."""
import os

import psycopg

ADMIN = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_unavailable() -> str | None:
    try:
        with psycopg.connect(ADMIN, connect_timeout=3):
            return None
    except Exception as error:  # any reason: say it
        return str(error).strip().splitlines()[0]


def pg_status() -> str:
    problem = pg_unavailable()
    return f"available at {ADMIN}" if problem is None else f"NOT available ({problem}): its tests are skipped"


def pg_url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def pg_create(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_caches() -> None:
    """The app caches its settings and engine per process; tests switch databases."""
    from api.ratelimit import _limiter
    from campaign.db import _factory, configure, get_engine
    from onramp.settings import get_settings

    _limiter.cache_clear()
    get_settings.cache_clear()
    get_engine.cache_clear()
    _factory.cache_clear()
    configure(get_settings().database_url)  # what each process's edge does when it starts
