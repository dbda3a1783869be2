"""Assignment: the team that covers you, or the nearest one with room, and always why."""
import pytest
from sqlalchemy import select

from campaign.schedule import Cadence
from campaign import assignment, shifts
from campaign.db import session_scope
from campaign.models import Neighborhood, Team, Volunteer, ZipCode


CADENCE = Cadence()  # the default cadence, in the demo's time zone

def _volunteer(session, **fields) -> Volunteer:
    volunteer = Volunteer(**{"availability": [], "interests": [], **fields})
    session.add(volunteer)
    session.flush()
    return volunteer


def _hood(session, name) -> Neighborhood:
    return session.scalars(select(Neighborhood).where(Neighborhood.name == name)).one()


def test_a_zip_code_assigns_the_team_that_covers_it(demo):
    with session_scope() as session:
        hood = session.get(ZipCode, "11372").neighborhood
        volunteer = _volunteer(session, zip_code="11372", neighborhood_id=hood.id)
        result = assignment.assign(session, volunteer, CADENCE)
        assert result.team.id == hood.team_id
        assert result.reason == "covers 11372"
        assert volunteer.team_id == hood.team_id and volunteer.stage == "assigned"


def test_a_neighborhood_assigns_the_team_that_covers_it(demo):
    with session_scope() as session:
        hood = _hood(session, "Astoria")
        result = assignment.assign(session, _volunteer(session, neighborhood_id=hood.id), CADENCE)
        assert result.team.id == hood.team_id
        assert result.reason == "covers Astoria"


def test_a_full_team_sends_the_volunteer_to_the_nearest_team_with_room(demo):
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.capacity == 2)).first()
        assert team is not None, "the demo campaign has a small team for this test"
        hood = team.neighborhoods[0]
        for _ in range(2):
            _volunteer(session, neighborhood_id=hood.id, team_id=team.id)
        result = assignment.assign(session, _volunteer(session, neighborhood_id=hood.id), CADENCE)
        assert result.team.id != team.id
        assert result.code == "nearest_with_room"
        assert "is full; nearest team with room" in result.reason and "km" in result.reason


def test_no_place_means_no_assignment_and_a_clear_reason(demo):
    with session_scope() as session:
        with pytest.raises(assignment.AssignmentError, match="no known neighborhood or ZIP"):
            assignment.assign(session, _volunteer(session), CADENCE)


def test_shifts_offered_fit_the_volunteers_availability(demo):
    with session_scope() as session:
        hood = _hood(session, "Jackson Heights")
        volunteer = _volunteer(session, neighborhood_id=hood.id, availability=["sat:morning", "sat:afternoon"])
        assignment.assign(session, volunteer, CADENCE)
        offered = shifts.upcoming_fitting(session, volunteer, "America/New_York", limit=3)
        assert offered, "the demo team has Saturday shifts"
        assert all(shifts.slot_of(s.starts_at, "America/New_York") in volunteer.availability for s in offered)
        assert [s.starts_at for s in offered] == sorted(s.starts_at for s in offered)


def test_booking_fills_places_then_the_waitlist(demo):
    with session_scope() as session:
        hood = _hood(session, "Astoria")
        volunteers = [_volunteer(session, neighborhood_id=hood.id, team_id=hood.team_id) for _ in range(3)]
        shift = shifts.upcoming_fitting(session, volunteers[0], "America/New_York", limit=1)[0]
        shift.capacity = 2
        statuses = [shifts.book(session, v, shift.id, CADENCE).status for v in volunteers]
        assert statuses == ["booked", "booked", "waitlisted"]
        assert shifts.book(session, volunteers[0], shift.id, CADENCE).status == "booked"  # booking twice is a no-op
        assert shifts.booked_count(session, shift.id) == 2


def test_an_unknown_place_goes_to_the_nearest_team_with_the_reason(demo):
    with session_scope() as session:
        # 11370 (East Elmhurst) is a real ZIP the demo turf does not list: the Jackson Heights team is nearest
        result = assignment.assign(session, _volunteer(session, zip_code="11370"), CADENCE)
        assert result.code == "nearest_with_room"
        assert result.team.slug == "jackson-heights"
        assert result.reason.startswith("nearest team with room, ") and result.reason.endswith(" km")
        with pytest.raises(assignment.AssignmentError, match="not a known US ZIP code"):
            assignment.assign(session, _volunteer(session, zip_code="00000"), CADENCE)


def test_a_misspelled_neighborhood_is_found_and_assigned(demo):
    from campaign import turf

    with session_scope() as session:
        place = turf.locate(session, "I live in Jackson Hieghts")
        result = assignment.assign(session, _volunteer(session, neighborhood_id=place.neighborhood_id), CADENCE)
        assert (place.neighborhood, result.team.slug, result.reason) == ("Jackson Heights", "jackson-heights", "covers Jackson Heights")


def test_among_teams_about_as_near_the_one_whose_lead_speaks_the_language_wins(db):
    with session_scope() as session:
        def team(slug, lead_language, capacity, lat, lon):
            t = Team(slug=slug, name=slug, capacity=capacity, languages=["en"], lead_language=lead_language)
            session.add(t)
            session.flush()
            hood = Neighborhood(team_id=t.id, name=f"{slug} hood", lat=lat, lon=lon)
            session.add(hood)
            session.flush()
            return t, hood

        _, home = team("home", "en", 0, 40.7500, -73.8800)  # full
        near, _ = team("near", "en", 50, 40.7590, -73.8800)  # 1.0 km north
        farther, _ = team("farther", "es", 50, 40.7500, -73.8590)  # 1.8 km east, led in Spanish
        team("far", "es", 50, 40.8000, -73.8800)  # 5.6 km: too far to be "about as near"
        spanish = assignment.assign(session, _volunteer(session, neighborhood_id=home.id, language="es"), CADENCE)
        assert spanish.team.id == farther.id
        assert spanish.reason == "home is full; nearest team with room, 1.8 km; its lead speaks es"
        english = assignment.assign(session, _volunteer(session, neighborhood_id=home.id, language="en"), CADENCE)
        assert (english.team.id, english.reason) == (near.id, "home is full; nearest team with room, 1.0 km")
