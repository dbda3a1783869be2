"""What the database keeps stays private on disk and out of logs: the SQLite file (and its WAL)
is 0600 in a 0700 folder whatever the umask, and a database error names no bound value.
Before, the file followed the umask (0644, readable by every local user) and an IntegrityError
carried the phone number it was inserting."""
import os
import stat

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from campaign.db import make_engine, session_factory
from onramp.logs import Redactor

PHONE = "+17185559876"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sqlite_file_and_its_wal_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "var" / "onramp.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('a')"))
        with engine.connect() as connection:  # the WAL exists while a connection holds it
            connection.execute(text("SELECT * FROM t")).all()
            assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
            assert _mode(f"{path}-wal") == 0o600
        engine.dispose()
        path.chmod(0o644)  # left so by an older version
        make_engine(f"sqlite:///{path}").dispose()
        assert _mode(path) == 0o600
    finally:
        os.umask(old)


def test_a_database_error_names_no_bound_value(db):
    from campaign.models import Identity, Volunteer

    factory = session_factory(db)
    with factory() as session:
        volunteer = Volunteer(availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        session.add(Identity(volunteer_id=volunteer.id, channel="sms", external_id=PHONE, phone=PHONE))
        session.commit()
        session.add(Identity(volunteer_id=volunteer.id, channel="sms", external_id=PHONE, phone=PHONE))
        with pytest.raises(IntegrityError) as raised:
            session.flush()
    assert "SQL parameters hidden" in str(raised.value)
    # PostgreSQL's own detail names the key's values; the log filter masks them like a secret
    logged = Redactor()(str(raised.value))
    assert PHONE not in logged
