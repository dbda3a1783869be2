"""Bookings within capacity under concurrency, the waitlist, and what team leads are told."""
import asyncio
import threading
from datetime import timedelta

from sqlalchemy import func, select

from campaign.schedule import Cadence, cadence_from
from campaign import assignment, shifts
from campaign.db import session_scope
from campaign.models import Booking, Neighborhood, OutboxRow, Shift, Team, Volunteer, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings
from worker.sender import OutboxWorker


CADENCE = Cadence()  # the default cadence, in the demo's time zone


def _astoria_volunteers(session, n, channel="webchat", on_team=False):
    hood = session.scalars(select(Neighborhood).where(Neighborhood.name == "Astoria")).one()
    out = []
    for i in range(n):
        identity = identify(session, channel, f"session-{channel}-{i:04d}-x")
        volunteer = identity.volunteer
        volunteer.name, volunteer.neighborhood_id, volunteer.language = f"V{i}", hood.id, "en"
        if on_team:  # only a team's own (or offered) shifts are bookable
            volunteer.team_id = hood.team_id
        out.append(volunteer)
    session.flush()
    return hood, out


def test_twenty_concurrent_bookings_for_five_places(demo):
    with session_scope() as session:
        hood, volunteers = _astoria_volunteers(session, 20, on_team=True)
        ids = [v.id for v in volunteers]
        shift = Shift(team_id=hood.team_id, starts_at=utcnow() + timedelta(days=3), ends_at=utcnow() + timedelta(days=3, hours=2),
                      place="Astoria Park", capacity=5)
        session.add(shift)
        session.flush()
        shift_id = shift.id
    barrier = threading.Barrier(20)
    errors = []

    def book(volunteer_id):
        try:
            barrier.wait()
            with session_scope() as session:
                shifts.book(session, session.get(Volunteer, volunteer_id), shift_id, CADENCE)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=book, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope() as session:
        statuses = session.execute(select(Booking.status, func.count()).where(Booking.shift_id == shift_id).group_by(Booking.status)).all()
        assert dict(statuses) == {"booked": 5, "waitlisted": 15}


def test_a_cancellation_promotes_the_first_on_the_waitlist_who_is_told(demo):
    with session_scope() as session:
        hood, (ana, bea, cy) = _astoria_volunteers(session, 3, on_team=True)
        shift = Shift(team_id=hood.team_id, starts_at=utcnow() + timedelta(days=2), ends_at=utcnow() + timedelta(days=2, hours=2),
                      place="Astoria Park", capacity=1)
        session.add(shift)
        session.flush()
        assert [shifts.book(session, v, shift.id, CADENCE).status for v in (ana, bea, cy)] == ["booked", "waitlisted", "waitlisted"]
        shifts.cancel(session, ana, CADENCE)
        statuses = dict(session.execute(select(Booking.volunteer_id, Booking.status).where(Booking.shift_id == shift.id)).all())
        assert statuses == {ana.id: "cancelled", bea.id: "booked", cy.id: "waitlisted"}
        told = session.scalars(select(OutboxRow).where(OutboxRow.key == "waitlist_promoted")).all()
        assert [row.volunteer_id for row in told] == [bea.id]


def test_the_lead_hears_of_each_new_member_in_their_language_or_one_digest_for_a_burst(demo, monkeypatch):
    RECORDED.clear()
    monkeypatch.setenv("LEAD_DIGEST_SECONDS", "0")
    get_settings.cache_clear()
    with session_scope() as session:
        hood, volunteers = _astoria_volunteers(session, 1)
        assignment.assign(session, volunteers[0], cadence_from(get_settings()))
        team = session.get(Team, hood.team_id)
        lead_id, lead_language = team.lead_volunteer_id, team.lead_language
    asyncio.run(OutboxWorker(get_settings(), channels=_recording()).send_due())
    with session_scope() as session:
        sent = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == lead_id)).all()
        assert [(r.key, r.status) for r in sent] == [("lead_new_member", "sent")]
        assert RECORDED[-1].language == lead_language
        hood, volunteers = _astoria_volunteers(session, 4, channel="webchat2")
        for volunteer in volunteers:
            assignment.assign(session, volunteer, cadence_from(get_settings()))
    asyncio.run(OutboxWorker(get_settings(), channels=_recording()).send_due())
    with session_scope() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.volunteer_id == lead_id).order_by(OutboxRow.id)).all()
        assert [r.status for r in rows[1:]] == ["sent", "digested", "digested", "digested"]
        assert rows[1].key == "lead_digest" and rows[1].params["count"] == 4
    assert len(RECORDED) == 2  # one message, then one digest


RECORDED: list = []


def _recording():
    """Channels that record what they would send (the SMS fake provider is tested with the channels)."""
    class Recorder:
        idempotent = True

        def __init__(self, name):
            self.name = name

        async def send(self, row, message):
            RECORDED.append(message)
            return f"rec-{row.id}"

    return {name: Recorder(name) for name in ("sms", "webchat")}  # a worker sends only on declared channels
