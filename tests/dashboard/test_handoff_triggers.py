"""When a handoff opens by itself, what it plans, and how Rasa is kept out of it."""
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign import handoffs, leads
from campaign.db import session_scope
from campaign.models import Account, Handoff, Message, OutboxRow, Team, Volunteer
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import post, run_until_idle
from onramp.settings import get_settings

# Fresh sentences, one per language, each raising a sensitive topic.
SENSITIVE = {
    "en": ("the police came to my building yesterday", "police"),
    "es": ("tengo miedo de que me deporten", "immigration"),
    "fr": ("mon voisin me harcèle tous les jours", "harassment"),
    "zh": ("我担心移民局会来找我", "immigration"),
    "bn": ("পুলিশ আমার বাড়িতে এসেছিল", "police"),
    "ar": ("جاءت الشرطة إلى بيتي الليلة الماضية", "police"),
    "ur": ("مجھے فون پر دھمکی دی گئی ہے", "threats"),
    "hi": ("मुझे कल रात धमकी मिली", "threats"),
}


class NotUnderstanding(FakeRasa):
    def reply_for(self, text):
        return [{"custom": {"key": "not_understood"}}]


@pytest.fixture
def chat(teams):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        yield client


def _handoffs() -> list[Handoff]:
    with session_scope() as session:
        return list(session.scalars(select(Handoff).order_by(Handoff.id)))


def _reply_keys(session_id: str) -> list[str]:
    with session_scope() as session:
        volunteer_ids = select(Message.volunteer_id).where(Message.channel == "webchat")
        # the replies, not the rows planned for later (a sign-up nudge is planned at the first message)
        return list(session.scalars(select(OutboxRow.key).where(OutboxRow.volunteer_id.in_(volunteer_ids),
                                                                OutboxRow.kind == "reply").order_by(OutboxRow.id)))


def test_a_sensitive_word_in_each_language_opens_an_urgent_handoff_and_never_reaches_the_bot(chat):
    for language, (text, _) in SENSITIVE.items():
        assert post(chat, f"sensitive-{language}", text).status_code == 202
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert rasa.received == []
    opened = _handoffs()
    assert len(opened) == len(SENSITIVE)
    assert all(h.urgent and h.reason == "sensitive" for h in opened)
    assert {h.summary: h.topic for h in opened} == dict(SENSITIVE.values())
    assert _reply_keys("")[:1] == ["handoff_opened"] and _reply_keys("").count("handoff_opened") == len(SENSITIVE)
    # Rasa's copy of each conversation is paused, so that nothing of Rasa's own brings the bot back
    assert all(events and events[-1] == {"event": "pause"} for events in rasa.events.values())
    assert len(rasa.events) == len(SENSITIVE)


# Fresh sentences: asking for a person without the words "talk to a person" (blind rounds 1-2
# had such requests booked on a shift or answered "I didn't understand").
ASKS = {
    "en": "before I pick a shift could somebody from your team phone me",
    "es": "antes de apuntarme prefiero conversar con alguien de ustedes",
    "fr": "est-ce qu'une vraie personne peut m'appeler demain matin ?",
    "zh": "可以请你们的人给我打个电话吗",
    "bn": "আপনাদের কেউ কি আমাকে একটা ফোন দিতে পারবেন",
    "ar": "ممكن حدا من الحملة يتصل فيني قبل ما سجل",
    "ur": "کیا آپ میں سے کوئی مجھ سے فون پر بات کر سکتا ہے",
    "hi": "क्या कोई मुझे फ़ोन कर सकता है, पहले बात करनी है",
}


def test_asking_for_a_person_in_ones_own_words_opens_a_handoff_and_never_reaches_the_bot(chat):
    for language, text in ASKS.items():
        assert post(chat, f"asks-{language}", text).status_code == 202
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert rasa.received == []  # the form never read it: nobody is booked over their request
    opened = _handoffs()
    assert sorted(h.summary for h in opened) == sorted(ASKS.values())
    assert all(h.reason == "asked" and not h.urgent for h in opened)
    assert _reply_keys("").count("handoff_opened") == len(ASKS)


def test_ordinary_words_that_look_alike_do_not_open_a_handoff():
    for text in ("I love ice cream", "my policy is to help", "la política local", "je m'arrête là", "politique"):
        assert handoffs.sensitive_topic(text) is None, text


def test_two_not_understood_answers_in_a_row_outside_a_form_open_a_handoff(chat):
    rasa = NotUnderstanding()
    for text in ("blorp", "zzzt"):
        assert post(chat, "lost-person-1", text).status_code == 202
        run_until_idle(rasa)
    [handoff] = _handoffs()
    assert handoff.reason == "not_understood" and handoff.rasa_paused_at is not None
    post(chat, "lost-person-1", "still there?")
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == ["blorp", "zzzt"]  # the third went to a person
    assert _reply_keys("") == ["not_understood", "not_understood", "handoff_opened"]


def test_not_understood_twice_while_a_form_asks_is_left_to_the_form(chat):
    rasa = NotUnderstanding()
    rasa.active_form = "onboarding_form"
    for text in ("blorp", "zzzt", "qwfp"):
        assert post(chat, "form-person-1", text).status_code == 202
        run_until_idle(rasa)
    assert _handoffs() == []
    assert len(rasa.received) == 3


def _lead_team() -> int:
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == "astoria")).one()
        team.lead_phone, team.lead_name, team.lead_language = "+17185550999", "Lina", "es"
        lead = leads.ensure_lead_contact(session, team)
        volunteer = Volunteer(name="Sam", team_id=team.id, stage="assigned", availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        from campaign.models import Identity
        session.add(Identity(volunteer_id=volunteer.id, channel="sms", external_id="+17185550123", phone="+17185550123"))
        return volunteer.id


def test_a_handoff_plans_an_alert_to_the_team_lead_that_the_first_answer_cancels(teams):
    volunteer_id = _lead_team()
    with session_scope() as session:
        handoff = handoffs.open_for(session, volunteer_id, "asked", settings=get_settings())
        [alert] = session.scalars(select(OutboxRow).where(OutboxRow.key == handoffs.ALERT_KEY)).all()
        assert alert.recipient == "+17185550999" and alert.status == "pending"
        assert alert.send_after - handoff.opened_at == timedelta(minutes=15)
        session.add(Account(email="o@example.org", password_hash="x", role="organizer", disabled=False))
        session.flush()
        account = session.scalars(select(Account)).one()
        handoffs.reply(session, handoff, account, text="Hi Sam, I'm here")
        session.refresh(alert)
        assert alert.status == "cancelled" and handoff.answered_at is not None
        reply = session.scalars(select(OutboxRow).where(OutboxRow.text == "Hi Sam, I'm here")).one()
        assert (reply.channel, reply.recipient, reply.kind) == ("sms", "+17185550123", "reply")


def test_the_reply_box_is_blocked_with_the_reason_for_someone_who_opted_out(teams):
    volunteer_id = _lead_team()
    with session_scope() as session:
        handoff = handoffs.open_for(session, volunteer_id, "asked", settings=get_settings())
        volunteer = session.get(Volunteer, volunteer_id)
        volunteer.consent_status, volunteer.consent_source = "opted_out", "sms"
        account = Account(email="o@example.org", password_hash="x", role="organizer", disabled=False)
        session.add(account)
        session.flush()
        with pytest.raises(handoffs.HandoffError, match="opted out"):
            handoffs.reply(session, handoff, account, text="hello?")


def test_outside_the_whatsapp_window_only_a_saved_reply_can_be_sent(teams):
    from campaign.models import Identity, utcnow

    with session_scope() as session:
        volunteer = Volunteer(name="Wa", stage="new", availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        session.add(Identity(volunteer_id=volunteer.id, channel="whatsapp_cloud", external_id="17185550777",
                             last_inbound_at=utcnow() - timedelta(hours=30)))
        account = Account(email="o@example.org", password_hash="x", role="organizer", disabled=False)
        session.add(account)
        handoff = handoffs.open_for(session, volunteer.id, "asked", settings=get_settings())
        with pytest.raises(handoffs.HandoffError, match="24-hour window"):
            handoffs.reply(session, handoff, account, text="free text")
        assert handoffs.reply(session, handoff, account, key="canned_checking") is not None


def test_continue_onboarding_gives_rasa_the_corrected_slots_and_the_form_again():
    volunteer = Volunteer(name="Corrected Name", availability=[])
    events = handoffs.resume_events(volunteer, "continue")
    assert events == [{"event": "resume"}, {"event": "slot", "name": "volunteer_name", "value": "Corrected Name"},
                      {"event": "followup", "name": "onboarding_form"}]
    assert handoffs.resume_events(volunteer, "quiet") == [{"event": "resume"}]
