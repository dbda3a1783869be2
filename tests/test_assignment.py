"""Assignment: the team that covers you, or the nearest one with room, and always why."""
import pytest
from sqlalchemy import select

from campaign import assignment, shifts
from campaign.db import session_scope
from campaign.models import Neighborhood, Team, Volunteer, ZipCode


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
        result = assignment.assign(session, volunteer)
        assert result.team.id == hood.team_id
        assert result.reason == "covers 11372"
        assert volunteer.team_id == hood.team_id and volunteer.stage == "assigned"


def test_a_neighborhood_assigns_the_team_that_covers_it(demo):
    with session_scope() as session:
        hood = _hood(session, "Astoria")
        result = assignment.assign(session, _volunteer(session, neighborhood_id=hood.id))
        assert result.team.id == hood.team_id
        assert result.reason == "covers Astoria"


def test_a_full_team_sends_the_volunteer_to_the_nearest_team_with_room(demo):
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.capacity == 2)).first()
        assert team is not None, "the demo campaign has a small team for this test"
        hood = team.neighborhoods[0]
        for _ in range(2):
            _volunteer(session, neighborhood_id=hood.id, team_id=team.id)
        result = assignment.assign(session, _volunteer(session, neighborhood_id=hood.id))
        assert result.team.id != team.id
        assert result.code == "nearest_with_room"
        assert "is full; nearest team with room" in result.reason and "km" in result.reason


def test_no_place_means_no_assignment_and_a_clear_reason(demo):
    with session_scope() as session:
        with pytest.raises(assignment.AssignmentError, match="no known neighborhood or ZIP"):
            assignment.assign(session, _volunteer(session))


def test_shifts_offered_fit_the_volunteers_availability(demo):
    with session_scope() as session:
        hood = _hood(session, "Jackson Heights")
        volunteer = _volunteer(session, neighborhood_id=hood.id, availability=["sat:morning", "sat:afternoon"])
        assignment.assign(session, volunteer)
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
        statuses = [shifts.book(session, v, shift.id).status for v in volunteers]
        assert statuses == ["booked", "booked", "waitlisted"]
        assert shifts.book(session, volunteers[0], shift.id).status == "booked"  # booking twice is a no-op
        assert shifts.booked_count(session, shift.id) == 2
