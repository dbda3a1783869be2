"""Adding, changing and cancelling shifts from the dashboard: times typed and shown in the
campaign's time zone, errors said next to the field, the people booked told, leads kept to
their own team, and each action in the access log."""
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from campaign import reminders, shifts
from campaign.db import session_scope
from campaign.models import AccessLogEntry, Identity, OutboxRow, Shift, Team, Volunteer
from campaign.schedule import cadence_from
from onramp.settings import get_settings
from tests.dashboard.conftest import csrf_of, make_account, sign_in

# a controlled clock: the shifts typed below are in the future of this moment, and some in its past
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 12:00 in New York


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def _form(client, path: str, **fields) -> object:
    csrf = csrf_of(client.get("/dashboard/shifts").text)
    return client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)


def _new(client, **fields):
    values = {"team": "astoria", "starts_at": "2026-12-05T10:00", "ends_at": "2026-12-05T13:00",
              "place": "Astoria Park, Shore Blvd", "capacity": "6", **fields}
    return _form(client, "/dashboard/shifts/new", **values)


def _only_shift() -> Shift:
    with session_scope() as session:
        return session.scalars(select(Shift)).one()


def _log(action: str) -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(AccessLogEntry.subject).where(AccessLogEntry.action == action)))


def test_an_organizer_adds_a_shift_typed_in_the_campaign_time_zone_and_sees_it_in_that_zone(organizer):
    added = _new(organizer)
    assert added.status_code == 303
    shift = _only_shift()
    # 10:00 in New York in December is 15:00 UTC
    assert (shift.starts_at, shift.ends_at) == (datetime(2026, 12, 5, 15, tzinfo=UTC), datetime(2026, 12, 5, 18, tzinfo=UTC))
    assert (shift.place, shift.capacity) == ("Astoria Park, Shore Blvd", 6)
    page = organizer.get(added.headers["location"]).text
    assert "Shift added." in page and "Sat 05 Dec 10:00" in page and "Sat 05 Dec 13:00" in page
    assert "Sat 05 Dec 10:00" in organizer.get("/dashboard/shifts").text
    assert _log("shift_created") == [f"shift {shift.id} (astoria, 2026-12-05T10:00)"]
    edit = organizer.get(f"/dashboard/shifts/{shift.id}/edit").text
    assert 'value="2026-12-05T10:00"' in edit and "America/New_York" in edit


@pytest.mark.parametrize("fields, field, message", [
    ({"ends_at": "2026-12-05T09:00"}, "ends_at", "The shift must end after it starts."),
    ({"ends_at": "2026-12-05T10:00"}, "ends_at", "The shift must end after it starts."),
    ({"capacity": "0"}, "capacity", "The capacity must be at least 1 place."),
    ({"capacity": "-3"}, "capacity", "The capacity must be at least 1 place."),
    ({"capacity": "lots"}, "capacity", "The capacity is a whole number of places."),
    ({"team": "nowhere"}, "team", "There is no team &#39;nowhere&#39; that you can add shifts to."),
    ({"starts_at": "2026-11-30T11:00", "ends_at": "2026-11-30T14:00"}, "starts_at", "The start is in the past"),
    ({"starts_at": "next saturday"}, "starts_at", "The start is not a date and time like 2026-12-05 10:00."),
    ({"place": "  "}, "place", "Say where the shift meets."),
    # the clocks jump from 02:00 to 03:00 in New York that night
    ({"starts_at": "2027-03-14T02:30", "ends_at": "2027-03-14T05:00"}, "starts_at",
     "2027-03-14 02:30 does not exist in America/New_York"),
])
def test_a_shift_that_cannot_be_is_refused_with_the_reason_next_to_its_field(organizer, fields, field, message):
    refused = _new(organizer, **fields)
    assert refused.status_code == 422
    assert f'<span class="field-error" id="{field}-error">{message}' in refused.text
    assert 'role="alert"' in refused.text and "The shift was not saved" in refused.text
    with session_scope() as session:
        assert session.scalars(select(Shift)).all() == []
    if field != "place":  # what was typed is still there, to be corrected
        assert 'value="Astoria Park, Shore Blvd"' in refused.text


def _booked_supporter(shift_id: int, phone: str = "+17185550404", name: str = "Rosa") -> int:
    """A Spanish-speaking supporter of the shift's team, reachable by SMS, booked on it."""
    with session_scope() as session:
        shift = session.get(Shift, shift_id)
        volunteer = Volunteer(name=name, team_id=shift.team_id, stage="assigned", language="es", availability=[],
                              interests=[])
        session.add(volunteer)
        session.flush()
        session.add(Identity(volunteer_id=volunteer.id, channel="sms", external_id=phone, phone=phone))
        session.flush()
        shifts.book(session, volunteer, shift_id, cadence_from(get_settings()))
        return volunteer.id


def _rows_for(volunteer_id: int, key: str) -> list[OutboxRow]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.key == key)))


def test_changing_the_time_tells_the_person_booked_and_moves_their_reminders(organizer):
    _new(organizer)
    shift = _only_shift()
    rosa = _booked_supporter(shift.id)
    changed = _form(organizer, f"/dashboard/shifts/{shift.id}/edit", starts_at="2026-12-05T11:00",
                    ends_at="2026-12-05T14:00", place="Astoria Park, Shore Blvd", capacity="6")
    assert changed.status_code == 303
    assert "Shift changed. 1 booked person was told." in organizer.get(changed.headers["location"]).text
    [told] = _rows_for(rosa, reminders.SHIFT_CHANGED)
    assert (told.channel, told.recipient, told.status) == ("sms", "+17185550404", "pending")
    assert _only_shift().starts_at == datetime(2026, 12, 5, 16, tzinfo=UTC)
    planned = [r for r in _rows_for(rosa, "reminder_day_before") if r.status == "pending"]
    assert all(r.params["starts_at"] == "2026-12-05T16:00:00+00:00" for r in planned)
    assert _log("shift_changed") == [
        f"shift {shift.id}: ends_at 2026-12-05T13:00 -> 2026-12-05T14:00; starts_at 2026-12-05T10:00 -> 2026-12-05T11:00; 1 told"]


def test_a_new_capacity_alone_tells_nobody_and_an_unchanged_form_changes_nothing(organizer):
    _new(organizer)
    shift = _only_shift()
    rosa = _booked_supporter(shift.id)
    same = dict(starts_at="2026-12-05T10:00", ends_at="2026-12-05T13:00", place="Astoria Park, Shore Blvd")
    unchanged = _form(organizer, f"/dashboard/shifts/{shift.id}/edit", capacity="6", **same)
    assert "Nothing to change." in organizer.get(unchanged.headers["location"]).text
    _form(organizer, f"/dashboard/shifts/{shift.id}/edit", capacity="9", **same)
    assert _only_shift().capacity == 9 and _rows_for(rosa, reminders.SHIFT_CHANGED) == []
    assert _log("shift_changed") == [f"shift {shift.id}: capacity 6 -> 9; 0 told"]
    refused = _form(organizer, f"/dashboard/shifts/{shift.id}/edit", capacity="0", **same)
    assert refused.status_code == 422 and "The capacity must be at least 1 place." in refused.text


def test_cancelling_tells_the_person_booked_and_the_shift_cannot_change_afterwards(organizer):
    _new(organizer)
    shift = _only_shift()
    rosa = _booked_supporter(shift.id)
    cancelled = _form(organizer, f"/dashboard/shifts/{shift.id}/cancel")
    assert "Shift cancelled. 1 person was told." in organizer.get(cancelled.headers["location"]).text
    assert [r.recipient for r in _rows_for(rosa, reminders.SHIFT_CANCELLED)] == ["+17185550404"]
    assert _only_shift().cancelled_at is not None
    assert _log("shift_cancelled") == [f"shift {shift.id}; 1 told"]
    again = _form(organizer, f"/dashboard/shifts/{shift.id}/edit", starts_at="2026-12-06T10:00", ends_at="2026-12-06T13:00",
                  place="x", capacity="3")
    assert again.status_code == 409 and "This shift was cancelled." in again.text
    assert "cancelled" in organizer.get("/dashboard/shifts").text


def test_a_shift_that_has_started_can_no_longer_be_changed(organizer):
    _new(organizer, starts_at="2026-11-30T13:00", ends_at="2026-11-30T16:00")
    shift = _only_shift()
    with time_machine.travel(datetime(2026, 11, 30, 18, 30, tzinfo=UTC), tick=False):  # 13:30 in New York
        refused = _form(organizer, f"/dashboard/shifts/{shift.id}/cancel")
    assert refused.status_code == 409 and "This shift has started" in refused.text
    assert _only_shift().cancelled_at is None


def test_a_lead_manages_their_own_teams_shifts_only(client):
    make_account("org@example.org", "organizer")
    sign_in(client, "org@example.org")
    _new(client, team="flatbush", place="Flatbush Ave")
    with session_scope() as session:
        theirs = session.scalars(select(Shift.id)).one()
    client.cookies.clear()
    make_account("lina@example.org", "lead", "astoria")
    assert sign_in(client, "lina@example.org").status_code == 303
    form = client.get("/dashboard/shifts/new").text
    assert 'value="astoria"' in form and "flatbush" not in form
    assert _new(client).status_code == 303  # their own team
    refused = _new(client, team="flatbush")
    assert refused.status_code == 422 and "There is no team &#39;flatbush&#39; that you can add shifts to." in refused.text
    assert client.get(f"/dashboard/shifts/{theirs}/edit").status_code == 404
    csrf = csrf_of(form)
    moved = client.post(f"/dashboard/shifts/{theirs}/edit", data={
        "csrf_token": csrf, "starts_at": "2026-12-07T10:00", "ends_at": "2026-12-07T12:00", "place": "x", "capacity": "2"})
    assert moved.status_code == 404
    assert client.post(f"/dashboard/shifts/{theirs}/cancel", data={"csrf_token": csrf}).status_code == 404
    with session_scope() as session:
        other = session.get(Shift, theirs)
        assert other.cancelled_at is None and other.place == "Flatbush Ave"
        assert [t.slug for t in session.scalars(select(Team).join(Shift).order_by(Shift.id))] == ["flatbush", "astoria"]


def test_the_shift_forms_need_their_csrf_token(organizer):
    assert organizer.post("/dashboard/shifts/new", data={"team": "astoria", "starts_at": "2026-12-05T10:00",
                                                          "ends_at": "2026-12-05T12:00", "place": "x", "capacity": "2"}
                          ).status_code == 403
