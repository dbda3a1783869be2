"""Migration 0007 moves the comma-joined provider ids of existing outbox rows into rows of their
own, so that delivery reports for messages sent before it still find them; it goes back too."""
from datetime import UTC, datetime

from sqlalchemy import select, text

from campaign.db import session_scope
from campaign.models import ProviderMessage
from tests.support import databases


def _insert_outbox(conn, row_id, status, provider_id, now):
    conn.execute(text(
        "INSERT INTO outbox (id, kind, channel, recipient, params, choices, send_after, status, attempts, seq, "
        "created_at, claimed_at, sent_at, provider_id) VALUES (:id, 'reply', 'sms', '+17185550123', '{}', '[]', :now, "
        ":status, 1, 0, :now, :now, :sent, :pid)"),
        dict(id=row_id, status=status, pid=provider_id, now=now, sent=now if status == "sent" else None))


def test_existing_provider_ids_move_to_their_own_rows_and_back(db_url, monkeypatch):
    from alembic import command

    from campaign import delivery, outbox_parts
    from campaign.db import get_engine
    from campaign.migrate import alembic_config, upgrade
    from campaign.models import OutboxRow

    monkeypatch.setenv("DATABASE_URL", db_url)
    databases.reset_caches()
    upgrade(db_url, "0006")
    now = datetime(2026, 11, 30, 12, tzinfo=UTC).replace(tzinfo=None)
    with get_engine().begin() as conn:
        _insert_outbox(conn, 1, "sent", "SMaaa,SMbbb,SMccc", now)  # a long SMS, three calls
        _insert_outbox(conn, 2, "sent", "SMddd", now)
        _insert_outbox(conn, 3, "sending", None, now)  # in flight while the migration runs
        _insert_outbox(conn, 4, "pending", None, now)
    upgrade(db_url)
    with session_scope() as session:
        assert outbox_parts.ids(session, 1) == ["SMaaa", "SMbbb", "SMccc"]
        assert outbox_parts.ids(session, 2) == ["SMddd"]
        parts = session.scalars(select(ProviderMessage).where(ProviderMessage.outbox_id.in_((3, 4)))).all()
        assert [(p.outbox_id, p.provider_id) for p in parts] == [(3, None)]  # its call may have started
        assert delivery.record(session, "sms", "SMbbb", "delivered")
        assert session.get(OutboxRow, 1).delivery_status == "delivered"
    get_engine().dispose()

    command.downgrade(alembic_config(db_url), "0006")
    with get_engine().connect() as conn:
        back = dict(conn.execute(text("SELECT id, provider_id FROM outbox ORDER BY id")).all())
    assert back == {1: "SMaaa,SMbbb,SMccc", 2: "SMddd", 3: None, 4: None}
    get_engine().dispose()
    databases.reset_caches()
