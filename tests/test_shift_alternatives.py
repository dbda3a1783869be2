"""When no shift of the team fits: the nearest alternatives, and "tell me when one opens"."""
from datetime import timedelta

from sqlalchemy import select

from campaign import shifts
from campaign.db import session_scope
from campaign.models import Neighborhood, OutboxRow, Team, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings
from campaign.schedule import cadence_from

TZ = get_settings().campaign_timezone


def _astorian(session, availability):
    hood = session.scalars(select(Neighborhood).where(Neighborhood.name == "Astoria")).one()
    volunteer = identify(session, "webchat", "session-alternatives-0001").volunteer
    volunteer.name, volunteer.neighborhood_id, volunteer.team_id = "Noor", hood.id, hood.team_id
    volunteer.availability = availability
    session.flush()
    return volunteer


def test_no_fitting_shift_offers_the_teams_other_times_and_a_nearby_teams_shift_that_fits(demo):
    with session_scope() as session:
        volunteer = _astorian(session, ["wed:evening"])  # Astoria has no Wednesday shift
        assert shifts.upcoming_fitting(session, volunteer, TZ) == []
        found = shifts.alternatives(session, volunteer, TZ, limit=3)
        own = [s for s in found if s.team_id == volunteer.team_id]
        other = [s for s in found if s.team_id != volunteer.team_id]
        assert len(found) == 3 and own and other
        assert all(shifts.slot_of(s.starts_at, TZ) == "wed:evening" for s in other)
        assert {session.get(Team, s.team_id).slug for s in other} <= {"jackson-heights", "north-brooklyn"}  # the near ones
        assert [s.starts_at for s in found] == sorted(s.starts_at for s in found)  # "yes" takes the soonest
        assert all(s.starts_at <= utcnow() + timedelta(days=14) for s in found)


def test_a_time_no_team_near_has_offers_the_teams_own_other_times(demo):
    with session_scope() as session:
        volunteer = _astorian(session, ["fri:evening"])  # no team has a Friday shift
        found = shifts.alternatives(session, volunteer, TZ, limit=3)
        assert len(found) == 3 and all(s.team_id == volunteer.team_id for s in found)


def test_asking_to_be_told_when_a_shift_opens_tells_the_team_lead(demo):
    with session_scope() as session:
        volunteer = _astorian(session, ["fri:evening"])
        assert shifts.wish_for_shift(session, volunteer, cadence_from(get_settings()))
        lead_id = session.get(Team, volunteer.team_id).lead_volunteer_id
        told = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == lead_id)).all()
        assert [(row.key, row.params["name"], row.params["times"]) for row in told] == [("lead_shift_wanted", "Noor", "fri:evening")]
