"""Consent, checked when a row is sent: automated messages (reminders, follow-ups, the sign-up
nudge, broadcasts) go only to someone with a record of how they first reached us. Without it
the row is skipped with the reason `no_consent_record`; replies to the person's own message
are sent as always."""
import asyncio

import pytest
import time_machine

from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from campaign import outbox, reminders
from campaign.db import session_scope
from campaign.models import OutboxRow
from campaign.models.outbox import OutboxKind
from campaign.volunteers import identify
from onramp.settings import get_settings
from worker.sender import OutboxWorker

AUTOMATED = [
    pytest.param(dict(key=reminders.SIGNUP_NUDGE, kind=OutboxKind.FOLLOW_UP), id="signup-nudge"),
    pytest.param(dict(key="help", kind=OutboxKind.REMINDER), id="reminder"),
    pytest.param(dict(text="Canvass this Saturday!", kind=OutboxKind.BROADCAST), id="broadcast"),
]


@pytest.fixture(autouse=True)
def daytime():
    """A weekday afternoon in New York: quiet hours would hold automated rows back at night."""
    with time_machine.travel("2026-12-02 15:00:00-05:00", tick=True):
        yield


def _send_due() -> None:
    asyncio.run(OutboxWorker(get_settings()).send_due())


def _status(row_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        row = session.get(OutboxRow, row_id)
        return row.status, row.reason


@pytest.mark.parametrize("row", AUTOMATED)
def test_an_automated_message_to_someone_with_no_consent_record_is_skipped_with_the_reason(db, row):
    with session_scope() as session:  # added by hand (an import, an organizer): never wrote to us
        identity = identify(session, "webchat", "session-never-wrote-1")
        row_id = outbox.enqueue(session, identity, **row)
    _send_due()
    assert _status(row_id) == ("skipped", "no_consent_record")


@pytest.mark.parametrize("row", AUTOMATED)
def test_an_automated_message_to_someone_who_wrote_to_us_is_sent(db, row):
    with session_scope() as session:
        receive(session, Inbound(channel="webchat", external_id="session-wrote-001", provider_id="w-1", text="hi"))
        identity = identify(session, "webchat", "session-wrote-001")
        assert identity.volunteer.first_contact_channel == "webchat"
        row_id = outbox.enqueue(session, identity, **row)
    _send_due()
    assert _status(row_id) == ("sent", None)


def test_a_reply_or_a_notice_about_their_own_booking_needs_no_consent_record(db):
    with session_scope() as session:
        identity = identify(session, "webchat", "session-never-wrote-2")
        rows = [outbox.enqueue(session, identity, key="ask_name", kind=OutboxKind.REPLY),
                outbox.enqueue(session, identity, key="help", kind=OutboxKind.NOTIFICATION)]
    _send_due()
    assert [_status(row_id)[0] for row_id in rows] == ["sent", "sent"]
