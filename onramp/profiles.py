"""The two ways `onramp run` starts Onramp.

- embedded (the default, `make run`): one process of each kind, SQLite files under var/, Rasa's
  lock store and the rate limits in memory. Nothing to install.
- production: the app and Rasa's tracker store on PostgreSQL, Rasa's lock store and the rate
  limits on Redis, API_PROCESSES api processes, WORKER_PROCESSES workers and Rasa with
  RASA_PROCESSES Sanic workers. It refuses to start, saying why, when PostgreSQL or Redis
  cannot be reached.
"""
from dataclasses import dataclass, field
from enum import Enum


class Profile(str, Enum):
    embedded = "embedded"
    production = "production"


class NotReady(RuntimeError):
    """A service the profile needs is missing or unreachable; the message says what to do."""


@dataclass
class Plan:
    env: dict[str, str] = field(default_factory=dict)  # overrides of the settings' environment
    api_processes: int = 1
    worker_processes: int = 1
    rasa_processes: int = 1


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"))


def _plain(url: str) -> str:
    """psycopg takes libpq URLs, without SQLAlchemy's +driver."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _safe(url: str) -> str:
    from onramp.logs import Redactor

    return Redactor()(url)


def check_postgres(url: str, what: str) -> None:
    import psycopg

    try:
        with psycopg.connect(_plain(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NotReady(f"PostgreSQL for {what} is not reachable at {_safe(url)}: {reason}. "
                       f"Start PostgreSQL, or set the right URL, and try again.") from error


def check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        raise NotReady(f"Redis is not reachable at {_safe(url)} (REDIS_URL): {error}. "
                       f"Start Redis, or set REDIS_URL, and try again.") from error
    finally:
        client.close()


def plan(profile: Profile, settings) -> Plan:
    if profile is Profile.embedded:
        return Plan()
    if not _is_postgres(settings.database_url):
        raise NotReady("the production profile runs on PostgreSQL: set DATABASE_URL=postgresql://user@host/db "
                       f"(it is {_safe(settings.database_url)})")
    tracker = settings.rasa_tracker_store_url
    if tracker == type(settings).model_fields["rasa_tracker_store_url"].default:
        tracker = settings.database_url  # Rasa's table (events) beside the app's, unless told otherwise
    if not _is_postgres(tracker):
        raise NotReady("the production profile keeps Rasa's conversations on PostgreSQL: set "
                       f"RASA_TRACKER_STORE_URL=postgresql://... (it is {_safe(tracker)})")
    check_postgres(settings.database_url, "the app (DATABASE_URL)")
    if tracker != settings.database_url:
        check_postgres(tracker, "Rasa's tracker store (RASA_TRACKER_STORE_URL)")
    check_redis(settings.redis_url)
    for name in ("api_processes", "worker_processes", "rasa_processes"):
        if getattr(settings, name) < 1:
            raise NotReady(f"{name.upper()} must be at least 1")
    return Plan(
        # Rasa 3.6 is on SQLAlchemy 1.4 with psycopg2: a plain postgresql:// URL
        env={"RASA_TRACKER_STORE_URL": _plain(tracker), "RASA_LOCK_STORE": "redis", "RATE_LIMIT_STORAGE": "redis"},
        api_processes=settings.api_processes,
        worker_processes=settings.worker_processes,
        rasa_processes=settings.rasa_processes,
    )
