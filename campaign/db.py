"""Engine and sessions. SQLite by default (one file under var/), PostgreSQL by DATABASE_URL.

The process's database is set once at start by the edge that read the settings (`configure`:
api.main.create_app, the CLI, a test's fixture); the rest of the code opens sessions on it."""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _private_file(path: Path) -> None:
    """The database holds phone numbers and what people wrote: its folder is created 0700 and the
    file 0600 whatever the umask (SQLite gives its -wal and -shm files the database's mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # made by an older version under the umask


def make_engine(url: str) -> Engine:
    # hide_parameters: a database error that reaches a log names the statement, never the values
    # bound to it (phone numbers, message text).
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the api and the worker read while the other writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


class NotConfigured(RuntimeError):
    """A session was asked for before the process said which database it uses."""


_configured: dict[str, str] = {}


def configure(database_url: str) -> None:
    """Sessions of this process go to this database from now on."""
    if _configured.get("url") != database_url:
        _configured["url"] = database_url
        get_engine.cache_clear()


@lru_cache
def get_engine() -> Engine:
    if "url" not in _configured:
        raise NotConfigured("campaign.db.configure(settings.database_url) is called when the process starts")
    return make_engine(_configured["url"])


@lru_cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return _factory(engine or get_engine())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back everything on error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _dialect_insert(session: Session):
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    if is_postgres(session.get_bind()):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


_INSERT_IGNORE: dict[tuple, object] = {}  # one statement per (dialect, table, unique key)


def insert_ignore(session: Session, model, values: dict, unique: list[str]) -> int | None:
    """INSERT that does nothing when the unique key exists; returns the new id, or None."""
    key = (session.get_bind().dialect.name, model, tuple(unique))
    statement = _INSERT_IGNORE.get(key)
    if statement is None:  # built once per table: the values go as parameters
        statement = _INSERT_IGNORE[key] = (_dialect_insert(session)(model).on_conflict_do_nothing(index_elements=unique)
                                           .returning(model.id))
    return session.execute(statement, values).scalar_one_or_none()


def insert_ignore_many(session: Session, model, rows: list[dict], unique: list[str]) -> None:
    """insert_ignore for many rows in one statement (executemany)."""
    if not rows:
        return
    session.execute(_dialect_insert(session)(model).on_conflict_do_nothing(index_elements=unique), rows)


def write_lock(session: Session, model) -> None:
    """SQLite: take the database's write lock now, before anything is read, so that what the
    transaction reads is still true when it writes (a deferred transaction that reads first
    fails to write when another writer committed in between). PostgreSQL locks rows instead."""
    if not is_postgres(session.get_bind()):
        # a write that changes nothing takes the lock all the same
        session.connection().exec_driver_sql(f"UPDATE {model.__tablename__} SET id = id WHERE 0")


def lock_for_update(session: Session, model, row_id: int):
    """The row, locked until the transaction ends, so that read-then-write decisions on it (is
    there room on this shift?) are made one at a time. PostgreSQL locks the row; SQLite has one
    writer at a time, so a no-op write takes that lock before anything is read."""
    from sqlalchemy import select, update

    if is_postgres(session.get_bind()):
        # populate_existing: a row this session loaded before the lock is read again, not trusted
        query = select(model).where(model.id == row_id).with_for_update().execution_options(populate_existing=True)
        return session.scalars(query).one_or_none()
    session.execute(update(model).where(model.id == row_id).values(id=model.id))
    return session.get(model, row_id, populate_existing=True)


@contextmanager
def impatient_scope(seconds: float, engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work that gives up on a lock after `seconds` instead of the usual 30 s, for
    callers who have somewhere else to put the work (the webhook's spool). Raises
    OperationalError when the lock did not come in time."""
    milliseconds = int(seconds * 1000)
    with session_scope(engine) as session:
        postgres = is_postgres(session.get_bind())
        if postgres:  # for this transaction only
            session.connection().exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
            session.connection().exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
        else:  # for the connection: put back before it returns to the pool
            session.connection().exec_driver_sql(f"PRAGMA busy_timeout = {milliseconds}")
        try:
            yield session
        finally:
            if not postgres:
                session.connection().exec_driver_sql("PRAGMA busy_timeout = 30000")


def lock_skip(session: Session, model, row_id: int):
    """The row locked for this transaction, or None when another transaction holds it
    (PostgreSQL, SKIP LOCKED). SQLite has one writer at a time: a second writer with a stale
    snapshot fails to write, and the status checks in the UPDATEs do the rest."""
    from sqlalchemy import select

    query = select(model).where(model.id == row_id)
    if is_postgres(session.get_bind()):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).one_or_none()
