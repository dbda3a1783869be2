"""Migrations keep a running campaign's data: from every revision, on a database with rows in it.

For each revision in campaign/migrations/versions (found by walking Alembic's script directory,
so a revision added later is covered without touching this file), a database is created at that
revision, filled with plain SQL for the tables that exist there (SEED: each revision's rows, in
that revision's shape), upgraded to head and checked: nothing lost, and the back-fills right.
Then it goes down to that revision again and back up to head, and is checked once more.
"""
from dataclasses import dataclass

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from campaign.migrate import alembic_config, upgrade


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions()  # oldest first
HEAD = REVISIONS[-1]
TIMES = {"t0": "2026-11-01 10:00:00", "t1": "2026-11-02 11:00:00", "t2": "2026-11-03 12:00:00",
         "t3": "2026-11-04 13:00:00", "t4": "2026-11-05 14:00:00", "t5": "2026-11-20 18:00:00"}

@dataclass(frozen=True)
class Until:
    """A seed statement in a shape that a later revision changed: written only into databases
    older than that revision (that revision's own seed writes the same data its way)."""
    revision: str
    sql: str


# What a campaign had in its tables at each revision, written in that revision's shape.
SEED: dict[str, list[str | Until]] = {
    "0001": [
        "INSERT INTO teams (id, slug, name, borough, capacity, languages, lead_name, lead_phone, lead_language) "
        "VALUES (1, 'flatbush', 'Flatbush Tenants', 'Brooklyn', 10, '[\"en\", \"es\"]', 'Rosa', '+17185550100', 'es')",
        "INSERT INTO neighborhoods (id, team_id, name, lat, lon) VALUES (1, 1, 'Flatbush', 40.64, -73.96)",
        "INSERT INTO neighborhood_aliases (id, neighborhood_id, alias) VALUES (1, 1, 'flatbush ave')",
        "INSERT INTO zip_codes (zip_code, neighborhood_id) VALUES ('11226', 1)",
        "INSERT INTO shifts (id, team_id, starts_at, ends_at, place, capacity) VALUES (1, 1, {t5}, {t5}, 'Library', 5)",
        # Ana went all the way; a new supporter wrote once; Bo was imported and never wrote
        "INSERT INTO volunteers (id, conversation_id, name, language, language_source, neighborhood_id, zip_code, "
        "availability, interests, stage, team_id, assignment_reason, assigned_at, consent_status, signup_source, "
        "created_at, updated_at) VALUES (1, 'c-ana', 'Ana', 'es', 'chosen', 1, '11226', "
        "'[{{\"day\": \"sat\", \"part\": \"morning\"}}]', '[]', 'assigned', 1, 'turf', {t3}, 'subscribed', 'sms', {t0}, {t4})",
        "INSERT INTO volunteers (id, conversation_id, availability, interests, stage, consent_status, created_at, updated_at) "
        "VALUES (2, 'c-new', '[]', '[]', 'new', 'subscribed', {t1}, {t1})",
        "INSERT INTO volunteers (id, conversation_id, name, availability, interests, stage, consent_status, created_at, "
        "updated_at) VALUES (3, 'c-bo', 'Bo', 'null', '[]', 'onboarding', 'subscribed', {t2}, {t2})",
        "INSERT INTO identities (id, volunteer_id, channel, external_id, phone, unreachable, last_inbound_at, "
        "lease_version, created_at) VALUES (1, 1, 'sms', '+17185550101', '+17185550101', FALSE, {t2}, 0, {t0})",
        "INSERT INTO identities (id, volunteer_id, channel, external_id, unreachable, lease_version, created_at) "
        "VALUES (2, 2, 'telegram', '4242', FALSE, 0, {t1})",
        "INSERT INTO identities (id, volunteer_id, channel, external_id, phone, unreachable, lease_version, created_at) "
        "VALUES (3, 3, 'sms', '+17185550103', '+17185550103', TRUE, 0, {t2})",
        "INSERT INTO messages (id, direction, channel, provider_id, identity_id, volunteer_id, body, payload, language, "
        "status, attempts, created_at) VALUES (1, 'in', 'sms', 'SM-in-1', 1, 1, 'hola, quiero ayudar', '{{}}', 'es', "
        "'processed', 1, {t0})",
        "INSERT INTO messages (id, direction, channel, provider_id, identity_id, volunteer_id, body, payload, language, "
        "status, attempts, created_at) VALUES (2, 'in', 'telegram', '1001', 2, 2, 'আমি সাহায্য করতে চাই', '{{}}', 'bn', "
        "'processed', 1, {t1})",
        "INSERT INTO messages (id, direction, channel, provider_id, identity_id, volunteer_id, body, payload, status, "
        "attempts, created_at) VALUES (3, 'out', 'sms', 'SM-out-1', 1, 1, '¿Cómo te llamas?', '{{\"choices\": []}}', "
        "'sent', 1, {t0})",
        "INSERT INTO messages (id, direction, channel, provider_id, identity_id, volunteer_id, body, payload, status, "
        "attempts, created_at) VALUES (4, 'in', 'sms', 'SM-in-2', 1, 1, 'Ana', '{{}}', 'processed', 1, {t2})",
        "INSERT INTO bookings (id, shift_id, volunteer_id, status, created_at) VALUES (1, 1, 1, 'booked', {t3})",
        "INSERT INTO handoffs (id, volunteer_id, reason, status, summary, opened_at) "
        "VALUES (1, 2, 'asked_for_human', 'open', 'wants to talk to someone', {t1})",
        "INSERT INTO outbox (id, kind, volunteer_id, identity_id, channel, recipient, key, params, choices, send_after, "
        "status, attempts, source_message_id, seq, created_at, sent_at) VALUES (1, 'reply', 1, 1, 'sms', "
        "'+17185550101', 'ask_name', '{{}}', '[]', {t0}, 'sent', 1, 1, 0, {t0}, {t0})",
        # the provider's id, in the column that 0007 replaced by rows of their own
        Until("0007", "UPDATE outbox SET provider_id = 'SM-out-1' WHERE id = 1"),
        # cancelled by a send-time rule, the way rows were marked before 0005
        "INSERT INTO outbox (id, kind, volunteer_id, identity_id, channel, recipient, key, params, choices, send_after, "
        "status, attempts, last_error, seq, created_at) VALUES (2, 'broadcast', 3, 3, 'sms', '+17185550103', NULL, "
        "'{{}}', '[]', {t2}, 'cancelled', 0, 'unreachable', 0, {t2})",
        "INSERT INTO outbox (id, kind, volunteer_id, identity_id, channel, recipient, text, params, choices, send_after, "
        "status, attempts, last_error, seq, created_at) VALUES (3, 'broadcast', 1, 1, 'sms', '+17185550101', "
        "'Rally moved to Sunday', '{{}}', '[]', {t2}, 'cancelled', 0, 'by an organizer', 0, {t2})",
    ],
    "0002": ["UPDATE teams SET lead_volunteer_id = 1 WHERE id = 1"],
    "0003": [
        "INSERT INTO delivery_events (id, channel, provider_id, status, created_at) VALUES (1, 'sms', 'SM-out-1', "
        "'delivered', {t0})",
        "UPDATE outbox SET delivery_status = 'delivered' WHERE id = 1",
    ],
    "0004": [
        "INSERT INTO open_offers (id, identity_id, volunteer_id, source, subject_kind, subject_id, outbox_id, choices, "
        "status, created_at, expires_at) VALUES (1, 1, 1, 'reply', 'shift', 1, 1, "
        "'[{{\"payload\": \"/affirm\", \"title\": \"Yes\"}}]', 'open', {t3}, {t5})",
        "UPDATE volunteers SET first_contact_channel = 'import', first_contact_at = {t2}, "
        "first_contact_text = 'from the spring list' WHERE id = 3",
    ],
    "0005": [
        "INSERT INTO outbox (id, kind, volunteer_id, identity_id, channel, recipient, key, params, choices, send_after, "
        "deadline, status, reason, attempts, seq, booking_id, shift_id, created_at) VALUES (4, 'reminder', 1, 1, 'sms', "
        "'+17185550101', 'reminder_day_before', '{{}}', '[]', {t4}, {t5}, 'pending', NULL, 0, 0, 1, 1, {t3})",
        "UPDATE bookings SET attendance = 'attended', attendance_source = 'lead', attendance_at = {t5} WHERE id = 1",
    ],
    "0006": [
        "INSERT INTO accounts (id, email, password_hash, role, team_id, disabled, created_at) "
        "VALUES (1, 'rosa@example.org', 'argon2-hash', 'team_lead', 1, FALSE, {t4})",
        "INSERT INTO stage_events (id, volunteer_id, stage, reached_at) VALUES (1, 3, 'first_message', {t2})",
        "UPDATE handoffs SET urgent = TRUE, topic = 'housing', assigned_account_id = 1 WHERE id = 1",
    ],
    "0007": [
        "INSERT INTO provider_messages (id, outbox_id, part, channel, provider_id, started_at, accepted_at) "
        "VALUES (1, 1, 0, 'sms', 'SM-out-1', {t0}, {t0})",
    ],
}


def _at_or_after(start: str, revision: str) -> bool:
    return REVISIONS.index(start) >= REVISIONS.index(revision)


def _seed(conn, start: str) -> None:
    postgres = conn.dialect.name == "postgresql"
    times = {k: f"'{v}+00'" if postgres else f"'{v}.000000'" for k, v in TIMES.items()}
    for revision in REVISIONS[:REVISIONS.index(start) + 1]:
        for statement in SEED.get(revision, []):
            if isinstance(statement, Until):
                if _at_or_after(start, statement.revision):
                    continue
                statement = statement.sql
            conn.execute(text(statement.format(**times)))
    if postgres:  # rows were given their ids: move each sequence past them, as a real campaign's are
        tables = ["teams", "neighborhoods", "volunteers", "identities", "messages", "outbox", "bookings", "handoffs"]
        for table in tables + (["provider_messages"] if _at_or_after(start, "0007") else []):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))


def _rows(conn, sql: str) -> list[tuple]:
    return [tuple(row) for row in conn.execute(text(sql))]


def _check(conn, start: str, round_trip: bool = False) -> None:
    """Everything seeded is still there, and what the migrations after `start` back-filled is right
    (`round_trip`: after going down to `start` and up again)."""
    one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
    counts = {table: one(f"SELECT COUNT(*) FROM {table}") for table in (
        "teams", "neighborhoods", "neighborhood_aliases", "zip_codes", "shifts", "volunteers", "identities",
        "messages", "bookings", "handoffs", "outbox")}
    assert counts == {"teams": 1, "neighborhoods": 1, "neighborhood_aliases": 1, "zip_codes": 1, "shifts": 1,
                      "volunteers": 3, "identities": 3, "messages": 4, "bookings": 1, "handoffs": 1,
                      "outbox": 4 if _at_or_after(start, "0005") else 3}
    assert _rows(conn, "SELECT id, name, language, team_id, stage FROM volunteers ORDER BY id") == [
        (1, "Ana", "es", 1, "assigned"), (2, None, None, None, "new"), (3, "Bo", None, None, "onboarding")]
    assert _rows(conn, "SELECT body FROM messages ORDER BY id") == [
        ("hola, quiero ayudar",), ("আমি সাহায্য করতে চাই",), ("¿Cómo te llamas?",), ("Ana",)]
    assert _rows(conn, "SELECT id, channel, external_id FROM identities ORDER BY id") == [
        (1, "sms", "+17185550101"), (2, "telegram", "4242"), (3, "sms", "+17185550103")]
    assert one("SELECT status FROM bookings WHERE id = 1") == "booked"

    # 0004: how each person first reached us, from their first inbound message when it was not recorded
    first_contacts = _rows(conn, "SELECT v.id, v.first_contact_channel, v.first_contact_text, "
                                 "v.first_contact_at = m.created_at FROM volunteers v LEFT JOIN messages m "
                                 "ON m.id = (SELECT MIN(id) FROM messages WHERE volunteer_id = v.id AND direction = 'in') "
                                 "ORDER BY v.id")
    if _at_or_after(start, "0004"):  # recorded at the time; nothing back-filled
        assert first_contacts[2][:3] == (3, "import", "from the spring list")
        assert first_contacts[0][1:3] == (None, None)
    else:
        assert first_contacts == [(1, "sms", "hola, quiero ayudar", True), (2, "telegram", "আমি সাহায্য করতে চাই", True),
                                  (3, None, None, None)]

    # 0005: a row cancelled by a send-time rule became a skip with its reason; an organizer's stays cancelled
    outbox = dict((row[0], row[1:]) for row in _rows(conn, "SELECT id, status, reason FROM outbox"))
    assert outbox[1] == ("sent", None)
    assert outbox[3] == ("cancelled", None)
    if _at_or_after(start, "0005"):
        assert outbox[2] == ("cancelled", None)
    elif round_trip:
        # 0005's downgrade drops `reason` and leaves the row skipped, so the reason does not
        # come back (the row is still never sent)
        assert outbox[2][0] == "skipped"
    else:
        assert outbox[2] == ("skipped", "unreachable")

    # 0006: the funnel's stage events, back-filled from what people had reached
    events = set(_rows(conn, "SELECT volunteer_id, stage, reached_at FROM stage_events"))
    if _at_or_after(start, "0006"):
        assert {(v, s) for v, s, _ in events} == {(3, "first_message")}
    else:
        (created, updated, assigned), = _rows(conn, "SELECT created_at, updated_at, assigned_at FROM volunteers WHERE id = 1")
        (booked,), = _rows(conn, "SELECT created_at FROM bookings WHERE id = 1")
        new, = _rows(conn, "SELECT created_at FROM volunteers WHERE id = 2")[0]
        bo, = _rows(conn, "SELECT created_at FROM volunteers WHERE id = 3")[0]
        assert events == {
            (1, "first_message", created), (1, "name", updated), (1, "place", updated), (1, "availability", updated),
            (1, "team", assigned), (1, "booked", booked), (2, "first_message", new), (3, "first_message", bo),
            (3, "name", bo)}
    assert bool(one("SELECT urgent FROM handoffs WHERE id = 1")) is _at_or_after(start, "0006")

    # each later revision's own rows
    if _at_or_after(start, "0002"):
        assert one("SELECT lead_volunteer_id FROM teams WHERE id = 1") == 1
    if _at_or_after(start, "0003"):
        assert _rows(conn, "SELECT provider_id, status FROM delivery_events") == [("SM-out-1", "delivered")]
        assert one("SELECT delivery_status FROM outbox WHERE id = 1") == "delivered"
    if _at_or_after(start, "0004"):
        assert _rows(conn, "SELECT identity_id, status, outbox_id FROM open_offers") == [(1, "open", 1)]
    if _at_or_after(start, "0005"):
        assert _rows(conn, "SELECT key, status, booking_id FROM outbox WHERE id = 4") == [("reminder_day_before", "pending", 1)]
        assert one("SELECT attendance FROM bookings WHERE id = 1") == "attended"
    if _at_or_after(start, "0006"):
        assert _rows(conn, "SELECT email, role, team_id FROM accounts") == [("rosa@example.org", "team_lead", 1)]
    # 0007: the provider's id, moved from the outbox column into a row of its own
    assert _rows(conn, "SELECT outbox_id, part, provider_id FROM provider_messages") == [(1, 0, "SM-out-1")]


def test_every_revision_has_its_seed_rows_and_no_seed_names_a_revision_that_does_not_exist():
    assert REVISIONS[0] == "0001" and len(REVISIONS) == len(set(REVISIONS))
    assert set(SEED) <= set(REVISIONS)


@pytest.mark.parametrize("start", REVISIONS)
def test_a_database_with_data_upgrades_from_each_revision_to_head_and_back_down_and_up(db_url, start):
    upgrade(db_url, start)
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            _seed(conn, start)
        upgrade(db_url)
        with engine.connect() as conn:
            _check(conn, start)
        if start != HEAD:  # down to where the data came from, and up again: the same data, the same back-fills
            engine.dispose()
            command.downgrade(alembic_config(db_url), start)
            upgrade(db_url)
            with engine.connect() as conn:
                _check(conn, start, round_trip=True)
    finally:
        engine.dispose()
