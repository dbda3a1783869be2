"""A first message's language in the pipeline: detected, guessed with a switch line, or a menu."""
from sqlalchemy import select

from bot.channels.sms_text import segments
from bot.language import LANGUAGE_CHOSEN, LANGUAGE_GUESSED
from bot.channels.received import Inbound
from bot.pipeline.receive import receive
from bot.compose import compose
from campaign.db import session_scope
from campaign.models import OutboxRow, Volunteer
from onramp.settings import get_settings
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import run_until_idle

PHONE = "+12125550147"  # a US number: no hint from the country code


def texted(text: str, channel: str = "sms", n: int = 1) -> None:
    with session_scope() as session:
        external = PHONE if channel == "sms" else "webchat-langid-1"
        receive(session, Inbound(channel=channel, external_id=external, provider_id=f"{channel}-{n}", text=text,
                                 phone=PHONE if channel == "sms" else None))


def rendered_replies():
    with session_scope() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.kind == "reply").order_by(OutboxRow.id)).all()
        return [compose(session, row, get_settings()) for row in rows]


def volunteer():
    with session_scope() as session:
        v = session.scalars(select(Volunteer)).one()
        return v.language, v.language_source


def test_an_arabic_script_greeting_is_answered_in_arabic_or_urdu(db):
    texted("مرحبا", channel="webchat")
    run_until_idle(FakeRasa())
    assert volunteer()[0] in {"ar", "ur"}
    assert {reply.language for reply in rendered_replies()} <= {"ar", "ur"}


def test_a_clear_short_greeting_is_answered_in_its_language_with_no_switch_line(db):
    texted("bonjour")
    run_until_idle(FakeRasa())
    assert volunteer() == ("fr", "detected")
    first = rendered_replies()[0]
    assert first.language == "fr" and "Responde" not in first.text and "Reply" not in first.text


def test_an_undetermined_first_message_gets_the_best_guess_and_one_switch_line(db):
    texted("salam")
    rasa = FakeRasa()
    run_until_idle(rasa)
    guess, source = volunteer()
    assert guess in {"ar", "ur"} and source == LANGUAGE_GUESSED
    other = ({"ar", "ur"} - {guess}).pop()
    first, second = rendered_replies()
    switch = {"ar": "العربية؟ أرسل", "ur": "اردو؟"}[other]
    assert first.language == guess and switch in first.text.splitlines()[-1]
    assert switch not in second.text  # only the first reply carries it
    base = first.text.rsplit("\n", 1)[0]
    assert len(segments(first.text)) <= len(segments(base)) + 1
    texted("2", n=2)  # the runner-up's number
    run_until_idle(rasa)
    assert volunteer() == (other, LANGUAGE_CHOSEN)
    assert rasa.received[-1][1] == f'/change_language{{"language": "{other}"}}'
    assert {reply.language for reply in rendered_replies()} == {other}  # every message now in it


def test_a_message_with_no_clue_offers_every_language(db):
    texted("👍", channel="webchat")
    run_until_idle(FakeRasa())
    assert volunteer() == (get_settings().default_language, LANGUAGE_GUESSED)
    first = rendered_replies()[0]
    assert [c.payload for c in first.choices] == [f'/change_language{{"language": "{lang}"}}' for lang in get_settings().languages]


def test_a_later_clear_message_settles_a_guessed_language(db):
    texted("hi")
    texted("hola, quiero ser voluntaria", n=2)
    run_until_idle(FakeRasa())
    assert volunteer() == ("es", "detected")


class AsksTheName(FakeRasa):
    def reply_for(self, text: str) -> list[dict]:
        return [{"custom": {"key": "welcome"}}, {"custom": {"key": "ask_name"}}]


def test_a_name_given_when_the_name_was_asked_does_not_settle_a_guessed_language(db):
    texted("Assalam-o-Alaikum bhai")
    rasa = AsksTheName()
    run_until_idle(rasa)
    guessed = volunteer()
    assert guessed[1] == LANGUAGE_GUESSED
    texted("Hassan", n=2)  # a name: read alone it looks French
    run_until_idle(rasa)
    assert volunteer() == guessed
    assert {reply.language for reply in rendered_replies()} == {guessed[0]}


def test_a_name_in_a_letter_only_urdu_uses_still_settles_the_language(db):
    texted("سلام")
    rasa = AsksTheName()
    run_until_idle(rasa)
    texted("فاطمہ", n=2)  # ہ: Urdu's alphabet, not Arabic's
    run_until_idle(rasa)
    assert volunteer() == ("ur", "detected")


def test_a_first_hi_on_telegram_is_answered_in_the_language_of_the_persons_telegram(db):
    """Blind round: a Bengali user's first "hi" on Telegram (language_code bn) was answered in
    English: the word's own guess beat the app's language. A message that tells no language by
    itself now takes the hint the channel gives."""
    with session_scope() as session:
        receive(session, Inbound(channel="telegram", external_id="880123", provider_id="880123:1", text="hi",
                                 language_hint="bn"))
    run_until_idle(FakeRasa())
    assert volunteer() == ("bn", LANGUAGE_GUESSED)
    assert rendered_replies()[0].language == "bn"


def test_a_message_that_tells_its_language_is_not_overruled_by_the_hint(db):
    with session_scope() as session:
        receive(session, Inbound(channel="telegram", external_id="880124", provider_id="880124:1",
                                 text="hola, quiero ser voluntaria", language_hint="bn"))
    run_until_idle(FakeRasa())
    assert volunteer()[0] == "es"
