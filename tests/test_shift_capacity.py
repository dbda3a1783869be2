"""Fewer places on a shift than people booked: first come keeps its place, the latest go back to
the waitlist and are told in their language; more places again move the waitlist up. The same
rule whether the capacity is lowered by the API or by a file import (controlled clock)."""
import asyncio

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign import imports, shifts
from campaign.db import session_scope
from campaign.models import Booking, Message, OutboxRow, Shift, Volunteer
from onramp.settings import get_settings
from tests.test_reminders import CADENCE, _person, _shift, local
from worker.sender import OutboxWorker

BOOKED_AT = local(2026, 12, 1, 12, 0)
CHANGED_AT = local(2026, 12, 2, 12, 0)


@pytest.fixture
def three_booked(db):
    """Ana (en), Bea (es) and Cy (fr) booked, in that order, Saturday's 14:00 shift of three places."""
    people = (("ana", "en"), ("bea", "es"), ("cy", "fr"))
    with time_machine.travel(BOOKED_AT, tick=False), session_scope() as session:
        ids = {name: _person(session, name=name, language=language)[1].id for name, language in people}
        ids["shift"] = _shift(session, local(2026, 12, 5, 14, 0), capacity=3).id
    for minute, (name, _) in enumerate(people):
        with time_machine.travel(local(2026, 12, 1, 12, minute), tick=False), session_scope() as session:
            shifts.book(session, session.get(Volunteer, ids[name]), ids["shift"], CADENCE)
    return ids


def _statuses(shift_id) -> dict[int, str]:
    with session_scope() as session:
        return dict(session.execute(select(Booking.volunteer_id, Booking.status).where(Booking.shift_id == shift_id)).all())


def _rows(volunteer_id) -> list[OutboxRow]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id).order_by(OutboxRow.id)))


def _send_due(at) -> None:
    with time_machine.travel(at):
        asyncio.run(OutboxWorker(get_settings()).send_due())


def _told(volunteer_id) -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(Message.body).where(Message.direction == "out", Message.volunteer_id == volunteer_id)
                                    .order_by(Message.id)))


def _api():
    from api.main import create_app

    client = TestClient(create_app(run_pipeline=False))
    client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
    return client


def _assert_latest_two_moved_and_told(ids) -> None:
    assert _statuses(ids["shift"]) == {ids["ana"]: "booked", ids["bea"]: "waitlisted", ids["cy"]: "waitlisted"}
    for name in ("bea", "cy"):
        reminders = [r for r in _rows(ids[name]) if r.booking_id is not None]
        assert reminders and {(r.status, r.reason) for r in reminders} == {("cancelled", "moved_to_waitlist")}
    assert {r.status for r in _rows(ids["ana"]) if r.key.startswith("reminder_")} == {"pending"}
    _send_due(local(2026, 12, 2, 12, 1))
    assert _told(ids["ana"]) == []
    assert _told(ids["bea"]) == ["El turno del sáb, 5 de diciembre, 14:00 en Astoria Park ahora tiene menos lugares, "
                                 "así que estás en la lista de espera. Te avisamos en cuanto se libere un lugar."]
    assert len(_told(ids["cy"])) == 1 and "liste d'attente" in _told(ids["cy"])[0]
    with session_scope() as session:
        assert [session.get(Volunteer, ids[n]).stage for n in ("ana", "bea", "cy")] == ["booked", "assigned", "assigned"]
    # the day before, only the person who kept a place is reminded
    _send_due(local(2026, 12, 4, 10, 0))
    assert len(_told(ids["ana"])) == 1 and len(_told(ids["bea"])) == 1 and len(_told(ids["cy"])) == 1


def test_lowering_capacity_by_the_api_moves_the_latest_bookings_to_the_waitlist_and_tells_each_in_their_language(three_booked):
    ids = three_booked
    with time_machine.travel(CHANGED_AT), _api() as client:
        response = client.patch(f"/v1/shifts/{ids['shift']}", json={"capacity": 1})
        assert response.status_code == 200, response.text
        assert (response.json()["capacity"], response.json()["booked"]) == (1, 1)
    _assert_latest_two_moved_and_told(ids)


def test_lowering_capacity_by_import_moves_the_latest_bookings_the_same_way_and_once(three_booked, tmp_path):
    ids = three_booked
    path = tmp_path / "shifts.csv"
    path.write_text(f"id,team,starts_at,hours,place,capacity\n{ids['shift']},astoria,2026-12-05 14:00,2,Astoria Park,1\n",
                    encoding="utf-8")
    for _ in range(2):  # the second import of the same file changes, plans and tells nothing
        with time_machine.travel(CHANGED_AT, tick=False), session_scope() as session:
            imports.run(session, "shifts", path, ["en", "es", "fr"], "America/New_York", cadence=CADENCE)
    _assert_latest_two_moved_and_told(ids)


def test_raising_capacity_again_gives_the_places_back_in_order_of_asking_and_tells_who_got_one(three_booked):
    ids = three_booked
    with time_machine.travel(CHANGED_AT, tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=1)
    with time_machine.travel(local(2026, 12, 2, 13, 0), tick=False), session_scope() as session:
        _, dan = _person(session, name="dan", language="en")
        assert shifts.book(session, dan, ids["shift"], CADENCE).status == "waitlisted"
        ids["dan"] = dan.id
    with time_machine.travel(local(2026, 12, 2, 14, 0)), _api() as client:
        response = client.patch(f"/v1/shifts/{ids['shift']}", json={"capacity": 2})
        assert response.status_code == 200 and response.json()["booked"] == 2
    assert _statuses(ids["shift"]) == {ids["ana"]: "booked", ids["bea"]: "booked", ids["cy"]: "waitlisted",
                                       ids["dan"]: "waitlisted"}
    pending = {r.key: r for r in _rows(ids["bea"]) if r.status == "pending"}
    assert pending["reminder_day_before"].send_after == local(2026, 12, 4, 10, 0)
    assert "waitlist_promoted" in pending
    _send_due(local(2026, 12, 2, 14, 1))
    assert _told(ids["bea"])[-1].startswith("Buenas noticias: se liberó un lugar")
    assert len(_told(ids["cy"])) == 1 and _told(ids["dan"]) == []  # cy heard only of the waitlist


def test_the_capacity_of_a_shift_that_has_started_moves_nobody(three_booked):
    ids = three_booked
    with time_machine.travel(local(2026, 12, 5, 14, 30), tick=False), session_scope() as session:
        told = shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=1)
    assert told == []
    assert set(_statuses(ids["shift"]).values()) == {"booked"}


def test_a_shift_moved_tells_who_waits_for_it_its_new_time_and_place_in_their_language_once(three_booked):
    ids = three_booked
    with time_machine.travel(CHANGED_AT, tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=2)  # cy waits
    _send_due(local(2026, 12, 2, 12, 1))
    assert len(_told(ids["cy"])) == 1
    with time_machine.travel(local(2026, 12, 2, 13, 0)), _api() as client:
        response = client.patch(f"/v1/shifts/{ids['shift']}", json={"starts_at": "2026-12-06T11:00:00-05:00",
                                                                     "place": "Astoria Library"})
        assert response.status_code == 200, response.text
    _send_due(local(2026, 12, 2, 13, 1))
    assert _told(ids["cy"])[-1] == ("Le créneau pour lequel vous êtes sur liste d'attente a changé : c'est maintenant "
                                    "dim. 6 décembre, 11:00 à Astoria Library. Vous restez sur sa liste d'attente ; "
                                    "si cela ne vous convient plus, dites-le-nous.")
    assert _told(ids["bea"])[-1].startswith("Tu turno cambió") and len(_told(ids["bea"])) == 1
    assert _statuses(ids["shift"])[ids["cy"]] == "waitlisted"  # still waiting: told, not moved up nor dropped


def test_fewer_places_and_a_new_time_at_once_tell_each_person_one_message(three_booked):
    ids = three_booked
    with time_machine.travel(CHANGED_AT, tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=1,
                            starts_at=local(2026, 12, 6, 11, 0))
    _send_due(local(2026, 12, 2, 12, 1))
    told = {name: _told(ids[name]) for name in ("ana", "bea", "cy")}
    assert [len(messages) for messages in told.values()] == [1, 1, 1]
    assert told["ana"][0].startswith("Your shift has changed")
    assert told["bea"][0].startswith("El turno del dom, 6 de diciembre, 11:00")  # the waitlist, at the new time


def test_a_waiting_notice_not_yet_sent_is_dropped_when_a_place_comes_first(three_booked):
    ids = three_booked
    with time_machine.travel(CHANGED_AT, tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=2)  # cy waits
    _send_due(local(2026, 12, 2, 12, 1))
    with time_machine.travel(local(2026, 12, 2, 13, 0), tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, place="Astoria Library")
    with time_machine.travel(local(2026, 12, 2, 13, 0), tick=False), session_scope() as session:
        shifts.change_shift(session, session.get(Shift, ids["shift"]), CADENCE, capacity=3)  # cy gets a place
    _send_due(local(2026, 12, 2, 13, 1))
    assert _told(ids["cy"])[-1].startswith("Bonne nouvelle") and len(_told(ids["cy"])) == 2
    [dropped] = [r for r in _rows(ids["cy"]) if r.key == "waitlist_shift_changed"]
    assert dropped.status == "cancelled"  # the place re-planned what this booking is told
