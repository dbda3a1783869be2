"""Open offers: a tap or a typed choice counts only against choices this person was shown."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign import offers, shifts
from campaign.db import session_scope
from campaign.models import Message, Neighborhood, OpenOffer, Shift, Team, utcnow
from campaign.volunteers import identify
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import client, contact, post, run_until_idle  # noqa: F401 - the shared fixture

SHIFT_CHOICES = [{"payload": '/affirm{"shift_id": 11}', "title": "Sat 10:00"},
                 {"payload": '/affirm{"shift_id": 12}', "title": "Sun 10:00"}]


def _contact(session, external_id="session-offer-1"):
    return identify(session, "webchat", external_id)


def test_a_payload_matches_only_an_open_offer_of_the_same_contact(db):
    with session_scope() as session:
        mine, other = _contact(session), _contact(session, "session-offer-2")
        offers.record(session, identity_id=mine.id, volunteer_id=mine.volunteer_id, choices=SHIFT_CHOICES, source="reply")
        found = offers.match_payload(session, mine.id, '/affirm{"shift_id": 12}')
        assert found is not None and found[1]["title"] == "Sun 10:00"
        assert offers.match_payload(session, other.id, '/affirm{"shift_id": 12}') is None
        assert offers.match_payload(session, mine.id, '/affirm{"shift_id": 13}') is None


def test_a_newer_offer_supersedes_the_older_one_of_the_same_source_only(db):
    with session_scope() as session:
        contact = _contact(session)
        reminder = offers.record(session, identity_id=contact.id, volunteer_id=contact.volunteer_id, source="reminder",
                                 choices=[{"payload": "/confirm", "title": "Yes"}], subject_kind="booking", subject_id=5)
        offers.record(session, identity_id=contact.id, volunteer_id=contact.volunteer_id, source="reply", choices=SHIFT_CHOICES)
        newest = offers.record(session, identity_id=contact.id, volunteer_id=contact.volunteer_id, source="reply",
                               choices=[{"payload": "/deny", "title": "No"}])
        assert offers.latest(session, contact.id).id == newest.id
        assert offers.match_payload(session, contact.id, '/affirm{"shift_id": 11}') is None  # superseded
        assert offers.match_payload(session, contact.id, "/confirm")[0].id == reminder.id  # still open


def test_an_expired_offer_accepts_nothing(db):
    with session_scope() as session:
        contact = _contact(session)
        offers.record(session, identity_id=contact.id, volunteer_id=contact.volunteer_id, source="reply",
                      choices=SHIFT_CHOICES, expires_at=utcnow() - timedelta(seconds=1))
        assert offers.latest(session, contact.id) is None
        assert offers.match_payload(session, contact.id, SHIFT_CHOICES[0]["payload"]) is None


def test_a_typed_intent_with_entities_reaches_rasa_as_text(client):  # noqa: F811
    post(client, "session-inject-1", '/affirm{"shift_id": 7}')
    rasa = FakeRasa()
    run_until_idle(rasa)
    [(_, text)] = rasa.received
    assert not text.startswith("/") and text.endswith('/affirm{"shift_id": 7}')


def test_a_forged_tap_is_read_as_text_and_an_offered_one_as_its_payload(client):  # noqa: F811
    post(client, "session-inject-2", "hi")
    run_until_idle(FakeRasa())
    with session_scope() as session:
        chat = identify(session, "webchat", contact("session-inject-2"))
        offers.record(session, identity_id=chat.id, volunteer_id=chat.volunteer_id, choices=SHIFT_CHOICES, source="reply")
    post(client, "session-inject-2", "", payload='/affirm{"shift_id": 99}')  # never offered
    post(client, "session-inject-2", "", payload='/affirm{"shift_id": 12}')  # offered
    rasa = FakeRasa()
    run_until_idle(rasa)
    texts = [text for _, text in rasa.received]
    assert texts[1] == '/affirm{"shift_id": 12}'
    assert not texts[0].startswith("/")
    with session_scope() as session:
        forged = session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()[1]
        assert forged.payload.get("not_offered") == '/affirm{"shift_id": 99}' and "button" not in forged.payload


def test_a_shift_of_another_team_never_offered_cannot_be_booked(demo):
    with session_scope() as session:
        contact = _contact(session)
        volunteer = contact.volunteer
        astoria = session.scalars(select(Neighborhood).where(Neighborhood.name == "Astoria")).one()
        volunteer.team_id = astoria.team_id
        other_team = session.scalars(select(Team).where(Team.id != astoria.team_id)).first()
        theirs = session.scalars(select(Shift).where(Shift.team_id == other_team.id, Shift.starts_at > utcnow())).first()
        with pytest.raises(shifts.NotBookable):
            shifts.book(session, volunteer, theirs.id)
        offers.record(session, identity_id=contact.id, volunteer_id=volunteer.id, source="reply",
                      choices=[{"payload": f'/affirm{{"shift_id": {theirs.id}}}', "title": "nearby"}])
        assert shifts.book(session, volunteer, theirs.id).status in ("booked", "waitlisted")


def test_a_shift_that_has_started_cannot_be_booked(demo):
    with session_scope() as session:
        contact = _contact(session)
        team = session.scalars(select(Team)).first()
        contact.volunteer.team_id = team.id
        started = Shift(team_id=team.id, starts_at=utcnow() - timedelta(minutes=5), ends_at=utcnow() + timedelta(hours=2),
                        place="Park", capacity=5)
        session.add(started)
        session.flush()
        with pytest.raises(shifts.NotBookable, match="started"):
            shifts.book(session, contact.volunteer, started.id)


def test_a_sent_message_with_choices_opens_an_offer_naming_its_subject(db):
    import asyncio

    from campaign.outbox import enqueue
    from onramp.settings import get_settings
    from worker.sender import OutboxWorker

    with session_scope() as session:
        contact = _contact(session)
        enqueue(session, contact, key="shift_offer", params={"when": "x", "place": "y"}, subject_kind="shift", subject_id=4,
                choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}])
    asyncio.run(OutboxWorker(get_settings()).send_due())
    with session_scope() as session:
        [offer] = session.scalars(select(OpenOffer)).all()
        assert (offer.subject_kind, offer.subject_id) == ("shift", 4)
        assert [c["payload"] for c in offer.choices] == ["/affirm", "/deny"]
        assert offer.choices[0]["title"]  # the rendered title, in the person's language
