"""Organizers acting from the dashboard: outbox retries, attendance, claiming; accounts from the CLI."""
from datetime import timedelta

from sqlalchemy import select

from campaign import handoffs
from campaign.db import session_scope
from campaign.models import (AccessLogEntry, Account, Booking, Handoff, Identity, OutboxRow, Shift, StageEvent, Team, Volunteer,
                             utcnow)
from tests.dashboard.conftest import csrf_of, make_account, sign_in
from onramp.settings import get_settings


def _person(team_slug: str = "astoria") -> tuple[int, int]:
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == team_slug)).one()
        volunteer = Volunteer(name="Pat", team_id=team.id, stage="booked", availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        identity = Identity(volunteer_id=volunteer.id, channel="sms", external_id="+17185550300", phone="+17185550300")
        session.add(identity)
        session.flush()
        return volunteer.id, identity.id


def _row(status: str) -> int:
    volunteer_id, identity_id = _person()
    with session_scope() as session:
        row = OutboxRow(kind="reminder", volunteer_id=volunteer_id, identity_id=identity_id, channel="sms",
                        recipient="+17185550300", key="help", params={}, choices=[], status=status, last_error="read timeout")
        session.add(row)
        session.flush()
        return row.id


def _status(row_id: int) -> OutboxRow:
    with session_scope() as session:
        return session.get(OutboxRow, row_id)


def test_retrying_an_unknown_row_asks_first_and_records_who_retried_it(organizer):
    row_id = _row("unknown")
    csrf = csrf_of(organizer.get("/dashboard/outbox").text)
    asked = organizer.post(f"/dashboard/outbox/{row_id}/retry", data={"csrf_token": csrf})
    assert asked.status_code == 409 and "may make the person receive it twice" in asked.text
    assert _status(row_id).status == "unknown"
    done = organizer.post(f"/dashboard/outbox/{row_id}/retry", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    row = _status(row_id)
    assert row.status == "pending" and "by org@example.org" in row.last_error
    with session_scope() as session:
        entry = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "outbox_retried")).one()
        assert entry.subject == f"outbox {row_id} (unknown)"


def test_a_failed_row_is_retried_at_once_and_a_scheduled_one_can_be_cancelled(organizer):
    failed = _row("failed")
    csrf = csrf_of(organizer.get("/dashboard/outbox").text)
    organizer.post(f"/dashboard/outbox/{failed}/retry", data={"csrf_token": csrf})
    assert _status(failed).status == "pending"
    organizer.post(f"/dashboard/outbox/{failed}/cancel", data={"csrf_token": csrf})
    assert _status(failed).status == "cancelled"
    again = organizer.post(f"/dashboard/outbox/{failed}/cancel", data={"csrf_token": csrf})
    assert again.status_code == 409 and f"Row {failed} is cancelled, so it cannot be cancelled" in again.text
    assert organizer.post("/dashboard/outbox/999999/cancel", data={"csrf_token": csrf}).status_code == 404


def test_a_sent_row_cannot_be_cancelled_or_retried_and_the_page_says_why(organizer):
    sent = _row("sent")
    csrf = csrf_of(organizer.get("/dashboard/outbox").text)
    cancelled = organizer.post(f"/dashboard/outbox/{sent}/cancel", data={"csrf_token": csrf})
    assert cancelled.status_code == 409
    assert f"Row {sent} is sent, so it cannot be cancelled: nothing was changed." in cancelled.text
    retried = organizer.post(f"/dashboard/outbox/{sent}/retry", data={"csrf_token": csrf, "confirm": "yes"})
    assert retried.status_code == 409 and f"Row {sent} is sent, so it cannot be retried" in retried.text
    assert _status(sent).status == "sent"
    with session_scope() as session:
        assert session.scalars(select(AccessLogEntry).where(AccessLogEntry.action.like("outbox_%"))).all() == []


def test_a_row_a_worker_claimed_after_the_page_loaded_is_left_to_the_worker(organizer, monkeypatch):
    """The organizer's click and the worker's claim race: the claim wins, the cancel says so."""
    from api.dashboard.pages import outbox as routes
    from campaign.outbox import claim

    pending = _row("pending")
    csrf = csrf_of(organizer.get("/dashboard/outbox").text)
    real = routes._outbox_row

    def read_then_claimed(session, row_id):
        row = real(session, row_id)  # the dashboard read it as pending...
        with session_scope() as worker:  # ...and a worker claims it before the UPDATE
            assert claim(worker, row_id, utcnow())
        return row

    monkeypatch.setattr(routes, "_outbox_row", read_then_claimed)
    refused = organizer.post(f"/dashboard/outbox/{pending}/cancel", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "is being sent right now, so it cannot be cancelled" in refused.text
    assert _status(pending).status == "sending"


def test_a_held_row_is_listed_and_can_be_cancelled(organizer):
    held = _row("waiting")
    page = organizer.get("/dashboard/outbox?status=waiting").text
    assert "held" in page and f"/dashboard/outbox/{held}/cancel" in page and f"/dashboard/outbox/{held}/retry" not in page
    assert organizer.post(f"/dashboard/outbox/{held}/cancel", data={"csrf_token": csrf_of(page)},
                          follow_redirects=False).status_code == 303
    row = _status(held)
    assert row.status == "cancelled" and row.reason == "cancelled by org@example.org"


def test_after_the_shift_the_lead_marks_who_came_on_the_booking(client):
    volunteer_id, _ = _person()
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == "astoria")).one()
        shift = Shift(team_id=team.id, starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=1),
                      place="Ditmars Blvd", capacity=5)
        later = Shift(team_id=team.id, starts_at=utcnow() + timedelta(days=1), ends_at=utcnow() + timedelta(days=1, hours=2),
                      place="Ditmars Blvd", capacity=5)
        session.add_all([shift, later])
        session.flush()
        booking = Booking(shift_id=shift.id, volunteer_id=volunteer_id, status="booked")
        upcoming = Booking(shift_id=later.id, volunteer_id=volunteer_id, status="booked")
        session.add_all([booking, upcoming])
        session.flush()
        shift_id, booking_id, upcoming_id = shift.id, booking.id, upcoming.id
    make_account("lead@example.org", "lead", "astoria")
    sign_in(client, "lead@example.org")
    page = client.get(f"/dashboard/shifts/{shift_id}").text
    assert "Pat" in page and "didn’t" in page
    client.post(f"/dashboard/bookings/{booking_id}/attendance", data={"csrf_token": csrf_of(page), "attended": "yes"})
    with session_scope() as session:
        marked = session.get(Booking, booking_id)
        assert marked.attended is True and marked.attendance_marked_by == session.scalars(select(Account.id)).one()
        assert "attended" in set(session.scalars(select(StageEvent.stage).where(StageEvent.volunteer_id == volunteer_id)))
    early = client.post(f"/dashboard/bookings/{upcoming_id}/attendance", data={"csrf_token": csrf_of(page), "attended": "yes"})
    assert early.status_code == 409


def test_an_organizer_claims_a_handoff_and_it_moves_to_their_folder(organizer):
    volunteer_id, _ = _person()
    with session_scope() as session:
        handoff_id = handoffs.open_for(session, volunteer_id, "asked", settings=get_settings()).id
    assert "Pat" in organizer.get("/dashboard/inbox/rows?folder=unassigned").text
    assert "Pat" not in organizer.get("/dashboard/inbox/rows?folder=mine").text
    page = organizer.get(f"/dashboard/conversations/{handoff_id}").text
    with session_scope() as session:
        me = session.scalars(select(Account.id)).one()
    organizer.post(f"/dashboard/conversations/{handoff_id}/claim", data={"csrf_token": csrf_of(page), "account_id": str(me)})
    assert "Pat" in organizer.get("/dashboard/inbox/rows?folder=mine").text
    assert "Pat" not in organizer.get("/dashboard/inbox/rows?folder=unassigned").text
    with session_scope() as session:
        assert session.get(Handoff, handoff_id).assigned_account_id == me


def _onramp(*args: str, password: str | None = None):
    from typer.testing import CliRunner

    from onramp.cli import app

    return CliRunner().invoke(app, ["users", *args], input=password)


def test_users_are_added_listed_reset_and_disabled_from_the_command_line(teams):
    added = _onramp("add", "Lina@Example.org", "--role", "lead", "--team", "astoria", "--password-stdin",
                    password="first password 1\n")
    assert added.exit_code == 0, added.output
    assert "no alert contact" in added.output  # this team has no lead phone: the alert would go nowhere
    assert _onramp("add", "x@example.org", "--role", "lead", "--password-stdin", password="first password 1\n").exit_code == 1
    listed = _onramp("list").output
    assert "lina@example.org" in listed and "lead" in listed and "astoria" in listed
    with session_scope() as session:
        assert session.scalars(select(Account)).one().contact_volunteer_id is None  # this team has no lead contact yet
    assert _onramp("reset-password", "lina@example.org", "--password-stdin", password="second password 2\n").exit_code == 0
    assert _onramp("disable", "lina@example.org").exit_code == 0
    assert "disabled" in _onramp("list").output
