"""Organizers change and cancel shifts through the API; reminders follow, and the people booked
are told. What is planned for a person, and every outbox row, can be seen and cancelled."""
import asyncio

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign import shifts
from campaign.db import session_scope
from campaign.models import Booking, Message, OutboxRow
from onramp.settings import get_settings
from tests.test_reminders import CADENCE, _person, _shift, local
from worker.sender import OutboxWorker

NOW = local(2026, 12, 1, 12, 0)


@pytest.fixture
def booked(db):
    """A Spanish speaker booked for Saturday 14:00, and another shift to offer; the API client."""
    from api.main import create_app

    with time_machine.travel(NOW, tick=False), session_scope() as session:
        identity, volunteer = _person(session, language="es")
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        _shift(session, local(2026, 12, 12, 14, 0))
        booking = shifts.book(session, volunteer, shift.id, CADENCE)
        ids = {"volunteer": volunteer.id, "shift": shift.id, "booking": booking.id}
    with TestClient(create_app(run_pipeline=False)) as client:
        client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
        yield client, ids


def _rows(volunteer_id):
    with session_scope() as session:
        return session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id).order_by(OutboxRow.id)).all()


def test_a_shift_moved_by_the_api_re_plans_its_reminders_and_tells_the_supporter(booked):
    client, ids = booked
    with time_machine.travel(local(2026, 12, 2, 12, 0)):
        response = client.patch(f"/v1/shifts/{ids['shift']}", json={"starts_at": "2026-12-06T11:00:00-05:00",
                                                                     "place": "Astoria Library"})
        assert response.status_code == 200, response.text
        assert response.json()["place"] == "Astoria Library"
    rows = _rows(ids["volunteer"])
    pending = {r.key: r for r in rows if r.status == "pending"}
    assert pending["reminder_day_before"].send_after == local(2026, 12, 5, 10, 0)
    assert pending["reminder_two_hours"].send_after == local(2026, 12, 6, 9, 0)
    assert pending["shift_changed"].kind == "notification"
    old = [r for r in rows if r.key == "reminder_day_before" and r.status == "cancelled"]
    assert len(old) == 1 and old[0].send_after == local(2026, 12, 4, 10, 0)
    with time_machine.travel(local(2026, 12, 2, 12, 1)):
        asyncio.run(OutboxWorker(get_settings()).send_due())
    with session_scope() as session:
        told = session.scalars(select(Message.body).where(Message.direction == "out")).all()
    assert len(told) == 1 and told[0].startswith("Tu turno cambió") and "Astoria Library" in told[0]


def test_a_shift_cancelled_by_the_api_cancels_its_rows_tells_and_offers_other_shifts(booked):
    client, ids = booked
    with time_machine.travel(local(2026, 12, 2, 12, 0)):
        assert client.post(f"/v1/shifts/{ids['shift']}/cancel").status_code == 200
        assert client.post(f"/v1/shifts/{ids['shift']}/cancel").status_code == 409
    with session_scope() as session:
        assert session.get(Booking, ids["booking"]).status == "cancelled"
    rows = _rows(ids["volunteer"])
    assert {r.status for r in rows if r.key.startswith("reminder_")} == {"cancelled"}
    notice = next(r for r in rows if r.key == "shift_cancelled_notice")
    assert notice.status == "pending" and len(notice.choices) == 1  # the other shift


def test_the_schedule_of_a_person_shows_local_times_deadlines_statuses_and_reasons(booked):
    client, ids = booked
    planned = client.get(f"/v1/volunteers/{ids['volunteer']}/scheduled").json()
    by_key = {p["key"]: p for p in planned}
    assert by_key["reminder_day_before"]["send_at"] == "2026-12-04T10:00:00-05:00"
    assert by_key["reminder_day_before"]["deadline"] == "2026-12-05T14:00:00-05:00"
    assert by_key["reminder_two_hours"]["status"] == "pending"
    assert {p["kind"] for p in planned} >= {"reminder", "follow_up"}


def test_the_outbox_lists_rows_by_kind_status_team_and_time_and_a_row_can_be_cancelled(booked):
    client, ids = booked
    reminders = client.get("/v1/outbox", params={"kind": "reminder", "status": "pending"}).json()
    assert {r["key"] for r in reminders} == {"reminder_day_before", "reminder_two_hours"}
    window = client.get("/v1/outbox", params={"from": "2026-12-05T00:00:00-05:00", "to": "2026-12-06T00:00:00-05:00"}).json()
    assert {r["key"] for r in window} == {"reminder_two_hours", "post_shift_check"}
    with session_scope() as session:
        team_id = session.scalars(select(Booking)).first().shift.team_id
    assert len(client.get("/v1/outbox", params={"team_id": team_id}).json()) == 3
    assert client.get("/v1/outbox", params={"team_id": team_id + 1}).json() == []
    assert client.get("/v1/outbox", params={"status": "nonsense"}).status_code == 422
    row_id = reminders[0]["id"]
    cancelled = client.post(f"/v1/outbox/{row_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/v1/outbox/{row_id}/cancel").status_code == 409
    assert client.post("/v1/outbox/999999/cancel").status_code == 404
    assert cancelled.json()["send_at"].endswith("-05:00")


def test_the_booking_answer_says_when_the_reminders_will_come_in_the_catalogs_words(db):
    from api.main import create_app
    from bot import catalog

    with time_machine.travel(NOW, tick=False), session_scope() as session:
        _, volunteer = _person(session)
        soon = _shift(session, local(2026, 12, 1, 13, 0))
        later = _shift(session, local(2026, 12, 5, 14, 0))
        volunteer_id, soon_id, later_id = volunteer.id, soon.id, later.id
    with time_machine.travel(NOW), TestClient(create_app(run_pipeline=False)) as client:
        client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
        note = client.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": later_id}).json()["reminders"]
        assert note["key"] == "reminders_both"
        text = catalog.render("shift_booked", {"when": "x", "place": "y", "reminders": note}, "en", "America/New_York")
        assert "December 4, 10:00" in text and "December 5, 12:00" in text
        again = client.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": later_id}).json()["reminders"]
        assert again == note  # asking twice says the same
        assert client.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": soon_id}).json()["reminders"][
            "key"] == "reminders_none"
