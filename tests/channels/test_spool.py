"""A database that stalls loses nothing providers will not send again: the webhook answers in
time, the message waits in the spool, and is stored and answered once when the database is back."""
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import func, select

from bot.pipeline import spool
from campaign.db import session_scope
from campaign.models import Message, OutboxRow
from onramp.settings import get_settings
from tests.channels.harness import post as post_to
from tests.channels.test_twilio import PROVIDER, sms
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import run_until_idle


@pytest.fixture
def short_wait(channel_env, monkeypatch, tmp_path):
    monkeypatch.setenv("WEBHOOK_DB_SECONDS", "1")
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    get_settings.cache_clear()
    return tmp_path / "spool"


class Locked:
    """Another writer holding the messages table, as a long migration or a backup would."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.conn = psycopg.connect(self.url)
            self.conn.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def test_webhooks_are_acknowledged_while_the_database_is_locked_and_answered_once_after(client, short_wait, db_url):
    texts = [f"message {n}" for n in range(5)]
    with Locked(db_url):
        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(lambda n: post_to(client, PROVIDER, sms(texts[n], sid=f"SM{n:032d}", sender=f"+1718555{n:04d}")),
                                    range(5)))
        assert [a.status_code for a in answers] == [200] * 5  # in time: Twilio would not send them again
        assert spool.waiting(short_wait)
        # the provider retried one of them anyway (a slow network): it is still one message
        assert post_to(client, PROVIDER, sms(texts[0], sid=f"SM{0:032d}", sender="+17185550000")).status_code == 200
    assert spool.replay(short_wait) == 5
    assert not spool.waiting(short_wait)
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert sorted(text for _, text in rasa.received) == texts  # each answered once
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 5
        assert session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "reply")) == 10


def test_a_replay_that_cannot_commit_keeps_the_spool_for_the_next_try(client, short_wait, db_url):
    with Locked(db_url):
        assert post_to(client, PROVIDER, sms("hola", sid="SM" + "7" * 32)).status_code == 200
        with pytest.raises(Exception):
            spool.replay(short_wait, seconds=1)
        assert spool.waiting(short_wait)
    assert spool.replay(short_wait) == 1
    with session_scope() as session:
        assert session.scalars(select(Message.body)).all() == ["hola"]


def test_a_message_spooled_by_the_previous_version_is_still_replayed(channel_env, short_wait):
    """It wrote a field this version no longer has (Inbound.extra)."""
    import json

    short_wait.mkdir(parents=True)
    line = {"channel": "sms", "external_id": "+17185550123", "provider_id": "SM" + "8" * 32, "text": "hola",
            "payload": None, "phone": "+17185550123", "language_hint": None, "signup_source": "sms", "event": None,
            "extra": {}, "location": None, "media": None}
    (short_wait / spool.PENDING).write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert spool.replay(short_wait) == 1
    with session_scope() as session:
        assert session.scalars(select(Message.body)).all() == ["hola"]
