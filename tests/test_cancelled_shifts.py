"""A cancelled shift, or one that has started, is never offered and never booked: not through the
API, not by a tap on an offer shown before. Cancelling takes the shift out of its open offers and
cancels its reminders in the same transaction, and a booking racing the cancellation never ends up
holding a place. Every block that touches the product runs on a pinned clock."""
import asyncio
import json
import os
import subprocess
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import stamp
from bot.pipeline.process import process
from campaign import offers, shifts
from campaign.booking_status import ACTIVE
from campaign.db import session_scope
from campaign.models import Booking, Message, Neighborhood, OpenOffer, OutboxRow, Shift, Team, Volunteer
from campaign.outbox import enqueue
from campaign.outbox_status import OPEN
from onramp.settings import get_settings
from tests.support.fake_rasa import FakeRasa
from tests.test_reminders import CADENCE, _person, _send_due, _shift, local

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa/bin/python"

NOW = local(2026, 12, 1, 12, 0)  # a Tuesday noon
SATURDAY, SUNDAY = local(2026, 12, 5, 14, 0), local(2026, 12, 6, 14, 0)
REMINDERS = ("reminder_day_before", "reminder_two_hours", "post_shift_check")


def at(moment):
    return time_machine.travel(moment, tick=False)


def _payload(shift_id: int) -> str:
    return f'/affirm{{"shift_id": {shift_id}}}'  # what a tap on a shift's choice sends (shifts.offer_choices)


@pytest.fixture
def api(db):
    from api.main import create_app

    with at(NOW), TestClient(create_app(run_pipeline=False)) as client:
        client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
        yield client


# --- booking is refused, with the reason ----------------------------------------------------------

def test_booking_a_cancelled_shift_by_the_api_is_refused_with_409_saying_so(api):
    with at(NOW), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, SATURDAY)
        volunteer_id, shift_id = volunteer.id, shift.id
    with at(NOW + timedelta(minutes=5)):
        assert api.post(f"/v1/shifts/{shift_id}/cancel").status_code == 200
        response = api.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": shift_id})
    assert response.status_code == 409, response.text
    assert response.json()["reason"] == "shift cancelled"
    with at(NOW + timedelta(minutes=5)), session_scope() as session:
        assert session.scalars(select(Booking).where(Booking.shift_id == shift_id)).all() == []
        assert session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id == volunteer_id,
                                                           OutboxRow.status.in_(OPEN))).all() == []  # no reminder


def test_booking_a_shift_that_has_started_by_the_api_is_refused_with_409_saying_so(api):
    with at(NOW), session_scope() as session:
        _, volunteer = _person(session)
        shift = _shift(session, NOW + timedelta(hours=1))
        volunteer_id, shift_id = volunteer.id, shift.id
    with at(NOW + timedelta(hours=1, minutes=10)):
        response = api.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": shift_id})
    assert response.status_code == 409, response.text
    assert response.json()["reason"] == "shift already started"
    with at(NOW + timedelta(hours=1, minutes=10)), session_scope() as session:
        assert session.scalars(select(Booking).where(Booking.shift_id == shift_id)).all() == []


def _inbound(identity, button: str) -> int:
    with session_scope() as session:
        message = Message(direction="in", channel=identity.channel, provider_id=uuid.uuid4().hex, identity_id=identity.id,
                          volunteer_id=identity.volunteer_id, body=button, payload={"button": button})
        session.add(message)
        session.flush()
        return message.id


def _process(message_id) -> list[str]:
    """Run the pipeline on one stored message; what reached the model."""
    rasa = FakeRasa()
    asyncio.run(process(message_id, rasa.client(), get_settings()))
    return [text for _, text in rasa.received]


def test_a_tap_on_an_offer_shown_before_the_shift_was_cancelled_books_nothing(db):
    with at(NOW), session_scope() as session:
        identity, _ = _person(session)
        saturday, sunday = _shift(session, SATURDAY), _shift(session, SUNDAY)
        # the assistant offered both, one choice per shift, and the offer went out
        enqueue(session, identity, key="shift_offers", choices=shifts.offer_choices([saturday, sunday]))
        saturday_id, sunday_id = saturday.id, sunday.id
    with at(NOW):
        _send_due()
    with at(NOW + timedelta(hours=1)), session_scope() as session:
        shifts.cancel_shift(session, session.get(Shift, saturday_id), CADENCE)
    with at(NOW + timedelta(hours=2)):
        tapped_saturday = _inbound(identity, _payload(saturday_id))
        # the booking payload never reaches the model (which would book it): the tap is read as words
        assert _process(tapped_saturday) != [_payload(saturday_id)]
        assert _process(_inbound(identity, _payload(sunday_id))) == [_payload(sunday_id)]  # the other still stands
    with at(NOW + timedelta(hours=2)), session_scope() as session:
        assert session.get(Message, tapped_saturday).payload.get("not_offered") == _payload(saturday_id)
        assert session.scalars(select(Booking)).all() == []


def _book_shift_action(shift_id: int, refusal: dict) -> dict:
    """Run the assistant's action_book_shift in Rasa's Python against a stand-in for the API that
    refuses the booking as the API does; returns the keys it said and the calls it made."""
    env = {**os.environ, "ONRAMP_API_RETRY_SECONDS": "0", "SERVICE_TOKEN": get_settings().service_token,
           "PYTHONPATH": str(ROOT)}
    metadata = stamp.sign({"message_id": 7, "volunteer_id": 3, "language": "en", "channel": "webchat"},
                          get_settings().service_token)
    job = {"shift_id": shift_id, "metadata": metadata, "refusal": refusal,
           "offers": [{"id": shift_id + 1, "starts_at": SUNDAY.isoformat(), "place": "Astoria Park"}]}
    done = subprocess.run([str(RASA_PYTHON), str(ROOT / "tests/support/run_book_shift.py")], input=json.dumps(job),
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not set up (make setup)")
@pytest.mark.parametrize("reason", ["shift cancelled", "shift already started"])
def test_the_assistant_says_the_shift_is_no_longer_open_when_the_api_refuses_it_then_offers_others(reason):
    # "yes" to a single shift offered before it was cancelled (or before it started) reaches the
    # assistant, which books through the API: the 409 must be said, not swallowed
    with at(NOW):
        said = _book_shift_action(41, {"error": f"shift 41 cannot be booked: {reason}", "reason": reason})
    assert said["calls"][0] == "POST /v1/volunteers/3/bookings"
    assert said["keys"] == ["shift_unavailable", "shift_offer"]


# --- never offered ----------------------------------------------------------------------------------

def test_alternatives_and_offers_never_include_a_cancelled_or_started_shift(api):
    with at(NOW), session_scope() as session:
        home, near = Team(slug="astoria", name="Astoria", languages=["en"]), Team(slug="lic", name="LIC", languages=["en"])
        session.add_all([home, near])
        session.flush()
        session.add_all([Neighborhood(name="Astoria", team_id=home.id, lat=40.764, lon=-73.923),
                         Neighborhood(name="Long Island City", team_id=near.id, lat=40.744, lon=-73.949)])
        session.flush()
        _, volunteer = _person(session, team=home)
        volunteer.neighborhood_id = session.scalars(select(Neighborhood.id).where(Neighborhood.name == "Astoria")).one()
        volunteer.availability = ["wed:evening", "thu:afternoon"]

        def shift(team, starts):
            made = Shift(team_id=team.id, starts_at=starts, ends_at=starts + timedelta(hours=2), place="P", capacity=5)
            session.add(made)
            session.flush()
            return made

        started = shift(home, NOW - timedelta(minutes=30))  # Tuesday noon: under way
        cancelled = [shift(home, local(2026, 12, 3, 14, 0)), shift(near, local(2026, 12, 2, 18, 0))]  # both fit
        open_ = [shift(home, local(2026, 12, 10, 14, 0)), shift(near, local(2026, 12, 9, 18, 0))]
        for gone in cancelled:
            shifts.cancel_shift(session, gone, CADENCE)
        volunteer_id = volunteer.id
        never = {started.id, *(s.id for s in cancelled)}
        expected = {s.id for s in open_}
    with at(NOW):
        alternatives = api.get(f"/v1/volunteers/{volunteer_id}/shift-alternatives", params={"limit": 9}).json()
        fitting = api.get(f"/v1/volunteers/{volunteer_id}/shift-offers", params={"limit": 10}).json()
    assert {s["id"] for s in alternatives} == expected, alternatives
    assert {s["id"] for s in fitting} == {open_[0].id}  # the team's own, at a time that fits
    assert not never & {s["id"] for s in alternatives + fitting}


# --- cancelling closes offers and reminders, and tells -----------------------------------------------

def test_cancelling_a_shift_takes_it_out_of_open_offers_cancels_its_reminders_and_tells_who_counted_on_it(db):
    with at(NOW), session_scope() as session:
        _, booked = _person(session, "bo")
        _, waiting = _person(session, "wu")
        alone, _ = _person(session, "al")
        beside, _ = _person(session, "bea")
        saturday, sunday = _shift(session, SATURDAY, capacity=1), _shift(session, SUNDAY)
        assert shifts.book(session, booked, saturday.id, CADENCE).status == "booked"
        assert shifts.book(session, waiting, saturday.id, CADENCE).status == "waitlisted"
        # offers shown, not answered: Saturday alone, and Saturday beside Sunday
        enqueue(session, alone, key="shift_offers", choices=shifts.offer_choices([saturday]))
        enqueue(session, beside, key="shift_offers", choices=shifts.offer_choices([saturday, sunday]))
        ids = {"booked": booked.id, "waiting": waiting.id, "alone": alone.id, "beside": beside.id,
               "saturday": saturday.id, "sunday": sunday.id}
    with at(NOW):
        _send_due()
    with at(NOW + timedelta(hours=1)), session_scope() as session:
        planned = session.scalars(select(OutboxRow).where(OutboxRow.shift_id == ids["saturday"], OutboxRow.key.in_(REMINDERS),
                                                          OutboxRow.status.in_(OPEN))).all()
        assert {row.key for row in planned} == set(REMINDERS)  # Bo's, pending
        shifts.cancel_shift(session, session.get(Shift, ids["saturday"]), CADENCE)
    with at(NOW + timedelta(hours=1)), session_scope() as session:
        saturday, sunday = _payload(ids["saturday"]), _payload(ids["sunday"])
        for identity in ("alone", "beside"):
            assert offers.match_payload(session, ids[identity], saturday) is None
        assert offers.match_payload(session, ids["beside"], sunday) is not None  # Sunday can still be taken
        status = dict(session.execute(select(OpenOffer.identity_id, OpenOffer.status)).all())
        assert status[ids["alone"]] == "closed" and status[ids["beside"]] == "open"
        assert session.scalars(select(OutboxRow).where(OutboxRow.shift_id == ids["saturday"], OutboxRow.key.in_(REMINDERS),
                                                       OutboxRow.status.in_(OPEN))).all() == []
        told = session.scalars(select(OutboxRow.volunteer_id).where(OutboxRow.key == "shift_cancelled_notice")).all()
        assert sorted(told) == sorted([ids["booked"], ids["waiting"]])


# --- the race ---------------------------------------------------------------------------------------

def test_a_cancellation_racing_twenty_bookings_leaves_nobody_booked(db):
    with at(NOW), session_scope() as session:
        team = Team(slug="astoria", name="Astoria", languages=["en"])
        session.add(team)
        session.flush()
        volunteer_ids = [_person(session, f"racer{i}", team=team)[1].id for i in range(20)]
        shift_id = _shift(session, SATURDAY, capacity=5).id
    together = threading.Barrier(11)  # ten bookings arrive with the cancellation...
    cancelled = threading.Event()  # ...and ten just after it committed
    refused: list[Exception] = []
    failed: list[Exception] = []

    def book(volunteer_id: int, early: bool) -> None:
        try:
            together.wait() if early else cancelled.wait()
            with session_scope() as session:
                shifts.book(session, session.get(Volunteer, volunteer_id), shift_id, CADENCE)
        except shifts.NotBookable as error:
            refused.append(error)
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(error)

    def cancel() -> None:
        try:
            together.wait()
            with session_scope() as session:
                shifts.cancel_shift(session, session.get(Shift, shift_id), CADENCE)
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(error)
        finally:
            cancelled.set()

    with at(NOW):
        threads = [threading.Thread(target=cancel)]
        threads += [threading.Thread(target=book, args=(v, n < 10)) for n, v in enumerate(volunteer_ids)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert failed == []
    with at(NOW), session_scope() as session:
        statuses = session.scalars(select(Booking.status).where(Booking.shift_id == shift_id)).all()
        assert not set(statuses) & set(ACTIVE), statuses  # nobody holds a place on, or waits for, a cancelled shift
        assert len(statuses) + len(refused) == 20
        assert {error.reason for error in refused} <= {"shift cancelled"}
        rows = session.scalars(select(OutboxRow.key).where(OutboxRow.shift_id == shift_id, OutboxRow.status.in_(OPEN))).all()
        assert set(rows) <= {"shift_cancelled_notice"}  # no reminder, no lead digest left
        assert rows.count("shift_cancelled_notice") == len(statuses)  # whoever booked before the cancel is told
