"""The alert for a handoff nobody answers is really sent: the worker delivers it to the provider
(the local fakes of Twilio and Telegram), on the lead's or the organizer's own channel and in
their language, HANDOFF_ALERT_MINUTES after the handoff opened, once, and not at all when
someone answered first."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign import handoffs, leads
from campaign.db import session_scope
from campaign.models import Account, Handoff, Identity, Team, Volunteer, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.fakes import telegram as fake_telegram
from tests.fakes import twilio as fake_twilio
from tests.support import databases
from tests.support.chat import catalog_key
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import post, run_until_idle
from worker.sender import OutboxWorker

PUBLIC = "https://onramp.example.org"
LEAD_PHONE, ORGANIZER_CHAT = "+17185550999", "70042"
OPENED = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, a weekday morning


@pytest.fixture
def providers(teams, monkeypatch):
    """Twilio and Telegram configured, each pointed at its local fake."""
    with fake_twilio.running() as twilio, fake_telegram.running() as telegram:
        for name, value in {"PUBLIC_BASE_URL": PUBLIC, "SERVICE_TOKEN": "s" * 40, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                            "TWILIO_AUTH_TOKEN": "twilio-auth-token", "TWILIO_SMS_FROM": "+12125550000",
                            "TWILIO_API_BASE": twilio.url, "TELEGRAM_BOT_TOKEN": "123456:TEST-token",
                            "TELEGRAM_WEBHOOK_SECRET": "telegram-webhook-secret", "TELEGRAM_API_BASE": telegram.url}.items():
            monkeypatch.setenv(name, value)
        databases.reset_caches()
        yield {"twilio": twilio.recorder, "telegram": telegram.recorder}


def _send_due_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        worker = OutboxWorker(get_settings())
        worker.housekeeping()
        asyncio.run(worker.send_due())


def _astoria_volunteer_with_a_spanish_speaking_lead() -> int:
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == "astoria")).one()
        team.lead_phone, team.lead_name, team.lead_language = LEAD_PHONE, "Lina", "es"
        leads.ensure_lead_contact(session, team)
        volunteer = Volunteer(name="Sam", team_id=team.id, stage="assigned", availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        session.add(Identity(volunteer_id=volunteer.id, channel="webchat", external_id="session-sam-000001"))
        return volunteer.id


def test_the_team_leads_alert_reaches_twilio_by_sms_in_spanish_once_after_fifteen_minutes(providers):
    volunteer_id = _astoria_volunteer_with_a_spanish_speaking_lead()
    with time_machine.travel(OPENED, tick=False), session_scope() as session:
        handoff_id = handoffs.open_for(session, volunteer_id, handoffs.Reason.asked, settings=get_settings()).id
    _send_due_at(OPENED + timedelta(minutes=14))
    assert [s for s in providers["twilio"].sent if s["To"] == LEAD_PHONE] == []  # not before its time
    _send_due_at(OPENED + timedelta(minutes=15, seconds=5))
    _send_due_at(OPENED + timedelta(minutes=30))  # and never twice
    [alert] = [s for s in providers["twilio"].sent if s["To"] == LEAD_PHONE]
    assert (alert["From"], catalog_key(alert["Body"], "es")) == ("+12125550000", "handoff_alert")
    assert "Sam" in alert["Body"] and "15 minutos" in alert["Body"]
    assert "pidió hablar con una persona" in alert["Body"] and "asked" not in alert["Body"]  # why, in their words
    assert f"{PUBLIC}/dashboard/conversations/{handoff_id}" in alert["Body"]
    assert providers["telegram"].sent == []


def test_an_answer_before_the_alert_is_due_means_the_lead_gets_nothing(providers):
    volunteer_id = _astoria_volunteer_with_a_spanish_speaking_lead()
    with time_machine.travel(OPENED, tick=False), session_scope() as session:
        handoff = handoffs.open_for(session, volunteer_id, handoffs.Reason.asked, settings=get_settings())
        account = Account(email="o@example.org", password_hash="x", role="organizer", disabled=False)
        session.add(account)
        session.flush()
    with time_machine.travel(OPENED + timedelta(minutes=5), tick=False), session_scope() as session:
        handoffs.reply(session, session.get(Handoff, handoff.id), session.get(Account, account.id), text="Hola Sam, aquí estoy")
    _send_due_at(OPENED + timedelta(minutes=20))
    assert [s for s in providers["twilio"].sent if s["To"] == LEAD_PHONE] == []


def _onramp(*args: str, password: str):
    from typer.testing import CliRunner

    from onramp.cli import app

    return CliRunner().invoke(app, ["users", *args], input=password)


def test_with_no_team_the_organizers_alert_reaches_telegram_in_their_language(providers):
    # the organizer already talks to the campaign's bot on Telegram, in French
    with session_scope() as session:
        organizer = identify(session, "telegram", ORGANIZER_CHAT)
        organizer.last_inbound_at = utcnow() - timedelta(days=1)
        organizer.volunteer.language, organizer.volunteer.language_source = "fr", "chosen"
    added = _onramp("add", "camille@example.org", "--role", "organizer", "--telegram", ORGANIZER_CHAT, "--password-stdin",
                    password="a long enough password\n")
    assert added.exit_code == 0, added.output

    from api.main import create_app

    with time_machine.travel(OPENED, tick=True):
        with TestClient(create_app(run_pipeline=False)) as chat:  # a supporter with no team yet, on the web chat
            assert post(chat, "alert-person-1", "the police came to my building yesterday").status_code == 202
        run_until_idle(FakeRasa())
    [handoff] = _handoffs()
    assert handoff.urgent and handoff.reason == "sensitive"
    _send_due_at(handoff.opened_at + timedelta(minutes=16))
    [alert] = [s for s in providers["telegram"].sent if str(s["chat_id"]) == ORGANIZER_CHAT]
    assert catalog_key(alert["text"], "fr") == "handoff_alert"
    assert "un sujet sensible" in alert["text"] and "sensitive" not in alert["text"]
    assert f"{PUBLIC}/dashboard/conversations/{handoff.id}" in alert["text"]
    assert providers["twilio"].sent == []


def _handoffs() -> list[Handoff]:
    with session_scope() as session:
        return list(session.scalars(select(Handoff)))
