"""A shift changed by a file import is changed the way the API changes it: its reminders are
re-planned and the people booked are told, in their language; re-importing the same file plans
and tells nothing (controlled clock)."""
import asyncio

import pytest
import time_machine
from sqlalchemy import func, select

from campaign import imports, shifts
from campaign.db import session_scope
from campaign.models import Message, OutboxRow, Shift, Team
from onramp.settings import get_settings
from tests.test_reminders import CADENCE, _person, _shift, local
from worker.sender import OutboxWorker

HEADER = "id,team,starts_at,hours,place,capacity\n"


@pytest.fixture
def booked(db):
    """A Spanish speaker booked for Saturday 14:00-16:00 at Astoria Park."""
    with time_machine.travel(local(2026, 12, 1, 12, 0), tick=False), session_scope() as session:
        _, volunteer = _person(session, language="es")
        shift = _shift(session, local(2026, 12, 5, 14, 0))
        shifts.book(session, volunteer, shift.id, CADENCE)
        return {"volunteer": volunteer.id, "shift": shift.id}


def _import(tmp_path, text, at=local(2026, 12, 2, 12, 0)) -> imports.Report:
    path = tmp_path / "shifts.csv"
    path.write_text(text, encoding="utf-8")
    with time_machine.travel(at, tick=False), session_scope() as session:
        return imports.run(session, "shifts", path, ["en", "es"], "America/New_York")


def _rows(volunteer_id) -> list[OutboxRow]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id).order_by(OutboxRow.id)))


def _told() -> list[str]:
    with time_machine.travel(local(2026, 12, 2, 12, 1)):
        asyncio.run(OutboxWorker(get_settings()).send_due())
    with session_scope() as session:
        return list(session.scalars(select(Message.body).where(Message.direction == "out")))


def test_a_shift_moved_by_import_re_plans_its_reminders_and_tells_the_supporter_as_the_api_does(booked, tmp_path):
    report = _import(tmp_path, f"{HEADER}{booked['shift']},astoria,2026-12-06 11:00,2,Astoria Library,10\n")
    assert (report.created, report.updated, report.changed, report.told) == (0, 1, 1, 1)
    with session_scope() as session:
        shift = session.get(Shift, booked["shift"])
        assert (shift.starts_at, shift.ends_at, shift.place) == (local(2026, 12, 6, 11, 0), local(2026, 12, 6, 13, 0),
                                                                 "Astoria Library")
    rows = _rows(booked["volunteer"])
    pending = {r.key: r for r in rows if r.status == "pending"}
    assert pending["reminder_day_before"].send_after == local(2026, 12, 5, 10, 0)
    assert pending["reminder_two_hours"].send_after == local(2026, 12, 6, 9, 0)
    assert pending["post_shift_check"].send_after == local(2026, 12, 6, 14, 0)
    assert [r.send_after for r in rows if r.key == "reminder_day_before" and r.status == "cancelled"] == [local(2026, 12, 4, 10, 0)]
    told = _told()
    assert len(told) == 1 and told[0].startswith("Tu turno cambió") and "Astoria Library" in told[0]


def test_a_longer_shift_by_import_moves_the_did_you_make_it_check_and_tells_the_supporter(booked, tmp_path):
    # no id: the row finds the shift by team, start and place, and changes its length
    report = _import(tmp_path, "team,starts_at,hours,place,capacity\nastoria,2026-12-05 14:00,4,Astoria Park,10\n")
    assert (report.updated, report.changed, report.told) == (1, 1, 1)
    pending = {r.key: r for r in _rows(booked["volunteer"]) if r.status == "pending"}
    assert pending["post_shift_check"].send_after == local(2026, 12, 5, 19, 0)
    assert pending["reminder_day_before"].send_after == local(2026, 12, 4, 10, 0)
    assert len(_told()) == 1


def test_re_importing_an_unchanged_file_plans_and_tells_nothing(booked, tmp_path):
    text = f"{HEADER}{booked['shift']},astoria,2026-12-06 11:00,2,Astoria Library,10\n"
    _import(tmp_path, text)
    before = [(r.id, r.status, r.send_after) for r in _rows(booked["volunteer"])]
    again = _import(tmp_path, text, at=local(2026, 12, 2, 15, 0))
    assert (again.updated, again.changed, again.told) == (1, 0, 0)
    assert [(r.id, r.status, r.send_after) for r in _rows(booked["volunteer"])] == before
    unchanged = _import(tmp_path, "team,starts_at,hours,place,capacity\nastoria,2026-12-06 11:00,2,Astoria Library,10\n")
    assert (unchanged.updated, unchanged.changed) == (1, 0)
    assert len(_rows(booked["volunteer"])) == len(before)


@pytest.mark.parametrize("row, expected", [
    ("999,astoria,2026-12-06 11:00,2,Here,10", "line 2: shift 999 does not exist"),
    ("{shift},other,2026-12-06 11:00,2,Here,10", "line 2: shift {shift} is not team 'other''s"),
    ("{shift},astoria,2026-12-06 11:00,2,Here,10\n{shift},astoria,2026-12-07 11:00,2,Here,10",
     "line 3: shift {shift} already on line 2"),
])
def test_a_row_naming_a_shift_that_is_not_there_or_not_its_teams_imports_nothing(booked, tmp_path, row, expected):
    with session_scope() as session:
        session.add(Team(slug="other", name="Other", capacity=5, languages=["en"]))
    with pytest.raises(imports.InvalidFile) as raised:
        _import(tmp_path, HEADER + row.format(shift=booked["shift"]) + "\n")
    assert expected.format(shift=booked["shift"]) in raised.value.errors
    with session_scope() as session:
        assert session.get(Shift, booked["shift"]).place == "Astoria Park"
        assert session.scalar(select(func.count()).select_from(Shift)) == 1
    assert not [r for r in _rows(booked["volunteer"]) if r.status == "cancelled"]


def test_a_cancelled_shift_cannot_be_changed_by_import_but_its_unchanged_row_still_imports(booked, tmp_path):
    with time_machine.travel(local(2026, 12, 2, 9, 0), tick=False), session_scope() as session:
        shifts.cancel_shift(session, session.get(Shift, booked["shift"]), CADENCE)
    with pytest.raises(imports.InvalidFile) as raised:
        _import(tmp_path, "team,starts_at,hours,place,capacity\nastoria,2026-12-05 14:00,3,Astoria Park,10\n")
    assert raised.value.errors == [f"line 2: shift {booked['shift']} is cancelled and cannot be changed"]
    same = _import(tmp_path, "team,starts_at,hours,place,capacity\nastoria,2026-12-05 14:00,2,Astoria Park,10\n")
    assert (same.created, same.updated, same.changed) == (0, 1, 0)


def test_the_import_command_says_how_many_shifts_changed_and_how_many_people_were_told(booked, tmp_path):
    from typer.testing import CliRunner

    from onramp.cli import app

    path = tmp_path / "shifts.csv"
    path.write_text(f"{HEADER}{booked['shift']},astoria,2026-12-06 11:00,2,Astoria Library,10\n", encoding="utf-8")
    with time_machine.travel(local(2026, 12, 2, 12, 0), tick=False):
        result = CliRunner().invoke(app, ["import", "shifts", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 changed (1 people told)" in result.output
