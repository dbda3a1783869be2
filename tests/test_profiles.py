"""`onramp run --profile production` checks what it needs before starting anything, and says
clearly what is missing."""
import pytest

from onramp import profiles
from onramp.settings import Settings
from tests.support import databases
from tests.support.stack import free_port


def test_the_embedded_profile_needs_nothing_and_runs_one_process_of_each_kind():
    plan = profiles.plan(profiles.Profile.embedded, Settings())
    assert (plan.env, plan.api_processes, plan.worker_processes, plan.rasa_processes) == ({}, 1, 1, 1)


def test_production_refuses_sqlite_and_names_the_variable_to_set():
    with pytest.raises(profiles.NotReady, match="DATABASE_URL=postgresql://"):
        profiles.plan(profiles.Profile.production, Settings(database_url="sqlite:///var/onramp.db"))


def test_production_says_when_postgresql_cannot_be_reached_without_printing_its_password():
    url = f"postgresql://onramp:s3cretpass@127.0.0.1:{free_port()}/onramp"
    with pytest.raises(profiles.NotReady, match="PostgreSQL for the app .DATABASE_URL. is not reachable") as raised:
        profiles.plan(profiles.Profile.production, Settings(database_url=url))
    assert "s3cretpass" not in str(raised.value)


def pg_or_skip() -> str:
    problem = databases.pg_unavailable()
    if problem:
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return databases.ADMIN


def test_production_says_when_redis_cannot_be_reached():
    url = pg_or_skip()
    with pytest.raises(profiles.NotReady, match="Redis is not reachable .* .REDIS_URL."):
        profiles.plan(profiles.Profile.production, Settings(database_url=url, redis_url=f"redis://127.0.0.1:{free_port()}/0"))


def test_production_puts_rasa_on_postgresql_and_the_locks_and_rate_limits_on_redis(monkeypatch):
    url = pg_or_skip()
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as error:
        pytest.skip(f"Redis not reachable: {error}")
    plan = profiles.plan(profiles.Profile.production, Settings(database_url="postgresql+psycopg" + url.removeprefix("postgresql")))
    assert plan.env == {"RASA_TRACKER_STORE_URL": url, "RASA_LOCK_STORE": "redis", "RATE_LIMIT_STORAGE": "redis"}
    assert (plan.api_processes, plan.worker_processes, plan.rasa_processes) == (2, 2, 2)


def test_rasa_is_given_every_part_of_the_redis_url(monkeypatch):
    from onramp.cli.run import redis_parts

    assert redis_parts("redis://:p%40ss@cache.internal:6380/3") == {
        "RASA_LOCK_STORE_URL": "cache.internal", "RASA_LOCK_STORE_PORT": "6380",
        "RASA_LOCK_STORE_PASSWORD": "p@ss", "RASA_LOCK_STORE_DB": "3"}
