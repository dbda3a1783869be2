"""The funnel: stage events recorded as people advance, a back-filling migration, cohorts and splits."""
import re
from datetime import datetime, timedelta, UTC

import time_machine
from sqlalchemy import select, text

from campaign.db import session_scope
from campaign.models import Booking, Shift, StageEvent, Team, Volunteer

# people whose first message fell in the week, and how far each group got
REACHED = {"first_message": 10, "name": 8, "place": 6, "availability": 5, "team": 4, "booked": 3, "attended": 1}


def _seed_week() -> None:
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == "astoria")).one()
        shift = Shift(team_id=team.id, starts_at=datetime(2026, 11, 8, 14, tzinfo=UTC),
                      ends_at=datetime(2026, 11, 8, 17, tzinfo=UTC), place="31st Ave", capacity=10)
        session.add(shift)
        session.flush()
        team_id, shift_id = team.id, shift.id

    def person(n: int, language: str) -> None:
        # each step happens later, through the ordinary attribute writes; the stage events follow
        with session_scope() as session:
            volunteer = Volunteer(stage="new", language=language, availability=[], interests=[], signup_source="sms")
            session.add(volunteer)
        steps = [("name", lambda v: setattr(v, "name", f"P{n}")), ("place", lambda v: setattr(v, "zip_code", "11103")),
                 ("availability", lambda v: setattr(v, "availability", ["sat:morning"])),
                 ("team", lambda v: setattr(v, "team_id", team_id))]
        for stage, step in steps:
            if n >= REACHED[stage]:
                return
            with session_scope() as session:
                step(session.get(Volunteer, volunteer.id))
        if n < REACHED["booked"]:
            with session_scope() as session:
                session.add(Booking(shift_id=shift_id, volunteer_id=volunteer.id, status="booked"))
        if n < REACHED["attended"]:
            with session_scope() as session:
                session.scalars(select(Booking).where(Booking.volunteer_id == volunteer.id)).one().attended = True

    with time_machine.travel(datetime(2026, 11, 2, 12, tzinfo=UTC)):
        for n in range(REACHED["first_message"]):
            person(n, "es" if n % 2 else "en")
    with time_machine.travel(datetime(2026, 10, 20, 12, tzinfo=UTC)):
        for n in range(3):  # an earlier cohort, which got all the way and must not be counted
            person(0, "fr")


def test_the_funnel_page_shows_a_chart_and_the_seeded_figures_for_the_cohort(organizer):
    _seed_week()
    page = organizer.get("/dashboard/funnel?start=2026-11-01&end=2026-11-07").text
    figures = dict(re.findall(r'<tr data-stage="(\w+)"><td[^>]*>[^<]*</td><td[^>]*class="count">(\d+)</td>', page))
    assert {stage: int(n) for stage, n in figures.items()} == REACHED
    assert page.count("<rect") == len(REACHED)
    assert '<g class="bar" data-stage="booked">' in page and ">3 · 30%</text>" in page


def test_the_funnel_splits_by_language(organizer):
    _seed_week()
    page = organizer.get("/dashboard/funnel?start=2026-11-01&end=2026-11-07&split=language").text
    rows = {m[0]: [int(x) for x in re.findall(r"<td>(\d+)</td>", m[1])]
            for m in re.findall(r"<tr><th>(\w+)</th>(<td>.*?)</tr>", page, re.S)}
    assert rows == {"en": [5, 4, 3, 3, 2, 2, 1], "es": [5, 4, 3, 2, 2, 1, 0]}


def test_the_migration_back_fills_the_stages_people_reached_before_it(db_url, monkeypatch):
    from campaign.migrate import upgrade
    from tests.support import databases

    monkeypatch.setenv("DATABASE_URL", db_url)
    databases.reset_caches()
    upgrade(db_url, "0003")
    from campaign.db import get_engine

    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    with get_engine().begin() as conn:
        conn.execute(text("INSERT INTO teams (id, slug, name, capacity, languages) VALUES (1, 't', 'T', 5, '[]')"))
        for n, (name, zip_code, availability, team) in enumerate([(None, None, "[]", None), ("A", None, "[]", None),
                                                                   ("B", "11103", '["sat:morning"]', 1)]):
            conn.execute(text(
                "INSERT INTO volunteers (conversation_id, name, zip_code, availability, interests, stage, team_id, "
                "consent_status, created_at, updated_at) VALUES (:c, :n, :z, :a, '[]', 'new', :t, 'subscribed', :now, :now)"),
                dict(c=f"c{n}", n=name, z=zip_code, a=availability, t=team, now=now))
    upgrade(db_url)
    with session_scope() as session:
        counts = {}
        for event in session.scalars(select(StageEvent)):
            counts[event.stage] = counts.get(event.stage, 0) + 1
    assert counts == {"first_message": 3, "name": 2, "place": 1, "availability": 1, "team": 1}
    get_engine().dispose()
    databases.reset_caches()
