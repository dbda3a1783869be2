"""Stop means stop, and only stop (#24): a natural opt-out in any of the eight languages opts the
person out as STOP does, before the form and before the model; a look-alike ("who gave you my
number?") never does; a maybe is asked about once, and nothing automated goes out until the
person answers.

Every phrasing here was written for these tests: none is taken from eval/revocation/set1.yml.
"""
import asyncio
from datetime import UTC, datetime

import pytest
import time_machine
import yaml
from sqlalchemy import select

from bot import catalog, compliance, revocation, revocation_eval
from bot.channels.received import Inbound
from bot.compose import compose
from bot.language import LANGUAGE_CHOSEN
from bot.pipeline.receive import receive
from campaign import consent, outbox
from campaign.db import session_scope
from campaign.models import Identity, Message, OutboxRow, Volunteer
from campaign.models.outbox import OutboxKind
from campaign.volunteers import identify
from onramp.settings import get_settings
from tests.support.fake_rasa import FakeRasa
from tests.test_pipeline import run_until_idle
from worker.sender import OutboxWorker

LANGUAGES = ["en", "es", "fr", "zh", "bn", "ar", "ur", "hi"]


@pytest.fixture(autouse=True)
def daytime():
    """A weekday afternoon in New York (automated rows wait for the day); everything in these
    tests, the database set-up included, runs on this clock."""
    with time_machine.travel("2026-12-02 15:00:00-05:00", tick=True):
        yield


class FormRasa(FakeRasa):
    """The model in the middle of the sign-up form: it answers every message with a question."""

    def reply_for(self, text: str) -> list[dict]:
        return [{"custom": {"key": "ask_name"}}]


def _say(text: str, contact: str, channel: str = "sms", provider_id: str | None = None) -> None:
    with session_scope() as session:
        receive(session, Inbound(channel=channel, external_id=contact, provider_id=provider_id or f"{contact}:{text}",
                                 text=text, phone=contact if channel == "sms" else None))


def _volunteer(contact: str) -> Volunteer:
    with session_scope() as session:
        volunteer = session.scalars(select(Volunteer).where(Volunteer.identities.any(Identity.external_id == contact))).one()
        session.expunge(volunteer)
        return volunteer


def _speaks(contact: str, language: str) -> None:
    """The person chose their language (as a tap on the language offer would)."""
    with session_scope() as session:
        volunteer = session.scalars(select(Volunteer).where(Volunteer.identities.any(Identity.external_id == contact))).one()
        volunteer.language, volunteer.language_source = language, LANGUAGE_CHOSEN


def _rows(contact: str, kind: str | None = None) -> list[OutboxRow]:
    with session_scope() as session:
        query = select(OutboxRow).where(OutboxRow.recipient == contact).order_by(OutboxRow.id)
        if kind:
            query = query.where(OutboxRow.kind == kind)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows


def _text(row: OutboxRow) -> str:
    with session_scope() as session:
        return compose(session, session.get(OutboxRow, row.id), get_settings()).text


def _send_due(passes: int = 4) -> None:
    """A few passes of the worker: the replies of a conversation go one after the other."""
    for _ in range(passes):
        asyncio.run(OutboxWorker(get_settings()).send_due())


def _status(row_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        row = session.get(OutboxRow, row_id)
        return row.status, row.reason


# --- a natural opt-out, mid-form, in every language ------------------------------------------

MID_FORM = {
    "en": ("hi, I want to volunteer", "Dana Okafor", "actually, please don't send me any more texts"),
    "es": ("hola, quiero ayudar con la campaña", "Lucía Méndez", "mejor no me escriban más, gracias"),
    "fr": ("bonjour, je veux aider", "Mamadou Diallo", "finalement, ne m'envoyez plus de messages s'il vous plaît"),
    "zh": ("你好，我想当志愿者", "李明", "算了，以后别再给我发短信了"),
    "bn": ("হ্যালো, আমি স্বেচ্ছাসেবক হতে চাই", "রহিম উদ্দিন", "থাক, আমাকে আর কোনো মেসেজ পাঠাবেন না"),
    "ar": ("مرحبا، أريد التطوع", "فاطمة حسن", "خلاص، ما بدي توصلني رسائل منكم بعد اليوم"),
    "ur": ("السلام علیکم، میں رضاکار بننا چاہتا ہوں", "عائشہ خان", "رہنے دیں، مجھے مزید پیغامات نہ بھیجیں"),
    "hi": ("नमस्ते, मैं वॉलंटियर बनना चाहता हूँ", "प्रिया शर्मा", "रहने दीजिए, मुझे अब कोई मैसेज मत भेजिए"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_natural_opt_out_mid_form_opts_out_like_stop_in_every_language(db, language):
    hello, name, words = MID_FORM[language]
    contact = f"+1718555{LANGUAGES.index(language):04d}"
    rasa = FormRasa()
    _say(hello, contact)
    run_until_idle(rasa)
    _speaks(contact, language)
    _say(name, contact)
    run_until_idle(rasa)
    assert _volunteer(contact).stage == "onboarding" and not _volunteer(contact).opted_out

    _say(words, contact)  # honoured when it is stored, before any model
    volunteer = _volunteer(contact)
    assert (volunteer.consent_status, volunteer.consent_source, volunteer.opt_out_words) == ("opted_out", "sms", words)
    run_until_idle(rasa)
    assert [text for _, text in rasa.received] == [hello, name]  # the opt-out never reached the model
    [confirmation] = _rows(contact, "compliance")
    assert confirmation.key == "opt_out_confirmed"
    assert _text(confirmation) == catalog.render("opt_out_confirmed", {"campaign": get_settings().campaign_name},
                                                 language, get_settings().campaign_timezone)
    _say("are you still there?", contact)
    run_until_idle(rasa)
    assert len(rasa.received) == 2 and len(_rows(contact, "compliance")) == 1  # nothing more, until START


def test_a_natural_opt_out_behind_a_message_waiting_for_the_model_supersedes_it(db):
    contact = "+17185550201"
    _say("hi, I want to volunteer", contact)
    _say("please take my number off your list", contact)  # the "hi" still waits for the model
    with session_scope() as session:
        statuses = session.scalars(select(Message.error).where(Message.direction == "in").order_by(Message.id)).all()
    assert statuses == ["superseded_by_stop", None]
    rasa = FakeRasa()
    run_until_idle(rasa)
    assert rasa.received == [] and _volunteer(contact).opted_out


def test_a_first_message_that_opts_out_is_confirmed_in_its_own_language(db):
    contact = "+17185550202"
    _say("sáquenme de su lista por favor", contact)
    volunteer = _volunteer(contact)
    assert volunteer.opted_out and volunteer.language == "es"
    [confirmation] = _rows(contact, "compliance")
    assert _text(confirmation).startswith("Ya no recibirás mensajes")


# --- look-alikes reach the model -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "what is this number?", "who gave you guys my number??", "¿de quién es este número?", "qui vous a donné mon numéro ?",
    "谁把我的号码给你们的？", "এই নাম্বারটা কার?", "مين عطاكم رقمي؟", "آپ کو میرا نمبر کس نے دیا؟", "ये नंबर किसका है?",
    "can I stop by the office tomorrow?", "stop, I meant Astoria not Queens",
])
def test_a_look_alike_is_not_an_opt_out_and_reaches_the_model(db, text):
    contact = "+17185550300"
    rasa = FakeRasa()
    _say("hello", contact)
    run_until_idle(rasa)
    _say(text, contact)
    volunteer = _volunteer(contact)
    assert volunteer.consent_status == "subscribed" and volunteer.stop_asked_at is None
    run_until_idle(rasa)
    assert [t for _, t in rasa.received] == ["hello", text]
    assert _rows(contact, "compliance") == []


def test_cancelling_a_shift_is_not_an_opt_out(db):
    contact = "+17185550301"
    _say("hello", contact)
    run_until_idle(FakeRasa())
    _say("cancel my shift on saturday please", contact)
    run_until_idle(FakeRasa())
    volunteer = _volunteer(contact)
    assert volunteer.consent_status == "subscribed" and volunteer.stop_asked_at is None
    assert _rows(contact, "compliance") == []


# --- a maybe is asked about once, and holds automated messages ---------------------------------

MAYBE = "maybe you guys should stop texting me, idk"


def _asked(contact: str, channel: str = "webchat") -> tuple[int, int]:
    """Someone who wrote to us, a reminder and a broadcast waiting for them, then a maybe."""
    _say("hi, I want to volunteer", contact, channel)
    run_until_idle(FakeRasa())
    with session_scope() as session:
        identity = identify(session, channel, contact)
        reminder = outbox.enqueue(session, identity, key="help", kind=OutboxKind.REMINDER)
        broadcast = outbox.enqueue(session, identity, text="Canvass this Saturday!", kind=OutboxKind.BROADCAST)
    _say(MAYBE, contact, channel)
    return reminder, broadcast


def test_a_maybe_asks_once_and_holds_the_automated_messages_until_stop(db):
    contact = "session-maybe-0001"
    rasa = FakeRasa()
    reminder, broadcast = _asked(contact)
    volunteer = _volunteer(contact)
    assert not volunteer.opted_out and volunteer.stop_asked_at is not None
    [question] = _rows(contact, "compliance")
    assert (question.key, question.status) == ("confirm_stop", "pending")
    assert "STOP" in _text(question)
    run_until_idle(rasa)
    assert rasa.received == []  # the maybe was answered by the question, not by the model

    _send_due()
    assert _status(question.id) == ("sent", None)
    # held: not sent while the question is pending (campaign/outbox.py blocked_reason asks consent.held)
    assert _status(reminder) == ("skipped", "stop_asked")
    assert _status(broadcast) == ("skipped", "stop_asked")

    _say("STOP", contact, "webchat")
    volunteer = _volunteer(contact)
    assert volunteer.opted_out and volunteer.stop_asked_at is None
    assert [r.key for r in _rows(contact, "compliance")] == ["confirm_stop", "opt_out_confirmed"]


def test_yes_to_the_question_opts_out_too(db):
    contact = "session-maybe-0002"
    _asked(contact)
    _say("yes", contact, "webchat")
    assert _volunteer(contact).opted_out
    assert [r.key for r in _rows(contact, "compliance")] == ["confirm_stop", "opt_out_confirmed"]


def test_a_maybe_followed_by_an_ordinary_answer_lifts_the_hold_and_goes_on_as_usual(db):
    contact = "session-maybe-0003"
    rasa = FakeRasa()
    _asked(contact)
    _say("no no, keep them coming, I still want to help on weekends", contact, "webchat")
    volunteer = _volunteer(contact)
    assert not volunteer.opted_out and volunteer.stop_asked_at is None
    run_until_idle(rasa)
    assert [t for _, t in rasa.received] == ["no no, keep them coming, I still want to help on weekends"]
    with session_scope() as session:
        reminder = outbox.enqueue(session, identify(session, "webchat", contact), key="help", kind=OutboxKind.REMINDER)
    _send_due()
    assert _status(reminder) == ("sent", None)


def test_a_second_maybe_is_not_asked_again(db):
    contact = "session-maybe-0004"
    _asked(contact)
    _say("hmm, perhaps stop messaging me", contact, "webchat")
    assert [r.key for r in _rows(contact, "compliance")] == ["confirm_stop"]  # asked once
    assert _volunteer(contact).stop_asked_at is None  # "anything else and we carry on"


def test_the_question_names_the_stop_word_of_each_language():
    for language in LANGUAGES:
        text = catalog.render("confirm_stop", {"campaign": "NYC for All"}, language, "America/New_York")
        words = [w.strip('"«»“”„ ') for w in text.replace("?", " ").replace("。", " ").split()]
        words += [text[i:i + 2] for i in range(len(text) - 1)]  # Chinese has no spaces
        assert any(compliance.classify(word) == "stop" and language in compliance.languages_of("stop", word)
                   for word in words), (language, text)


def test_only_automated_kinds_are_held():
    asked = Volunteer(stop_asked_at=datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    assert [kind for kind in (OutboxKind.REMINDER, OutboxKind.FOLLOW_UP, OutboxKind.BROADCAST, OutboxKind.REPLY,
                              OutboxKind.COMPLIANCE, OutboxKind.NOTIFICATION) if consent.held(asked, kind)] == [
        OutboxKind.REMINDER, OutboxKind.FOLLOW_UP, OutboxKind.BROADCAST]
    assert not consent.held(Volunteer(), OutboxKind.REMINDER) and not consent.held(None, OutboxKind.REMINDER)


# --- START after a natural opt-out -----------------------------------------------------------

def test_start_after_a_natural_opt_out_subscribes_again(db):
    contact = "+17185550400"
    rasa = FakeRasa()
    _say("hola, quiero ayudar", contact)
    run_until_idle(rasa)
    _speaks(contact, "es")
    _say("ya no me manden mensajes, por favor", contact)
    assert _volunteer(contact).opted_out
    _say("START", contact)
    volunteer = _volunteer(contact)
    assert volunteer.consent_status == "subscribed" and volunteer.opt_out_words is None
    assert [r.key for r in _rows(contact, "compliance")] == ["opt_out_confirmed", "opt_in_confirmed"]
    _say("¿cuándo es el próximo turno?", contact)
    run_until_idle(rasa)
    assert [t for _, t in rasa.received][-1] == "¿cuándo es el próximo turno?"  # the model answers again


# --- the detector on its own -----------------------------------------------------------------

C, U, N = revocation.CERTAIN, revocation.UNCERTAIN, None
TABLE = [
    # English
    ("en", "please quit messaging this number", C), ("en", "i'd rather not get any more texts from you", C),
    ("en", "kindly remove me from your contact list", C), ("en", "leave me alone please", C),
    ("en", "i think maybe i should unsubscribe", U), ("en", "could you perhaps take me off the list?", U),
    ("en", "who is texting me?", N), ("en", "please don't text me after 9pm", N),
    ("en", "remove me from the sunday shift", N), ("en", "don't forget to text me the address", N),
    ("en", "I never got the text with the address", N), ("en", "stop by the office whenever", N),
    ("en", "I'll text you when I stop working", N), ("en", "unsubscribe my email from your newsletter", U),
    # Spanish
    ("es", "por favor dejen de mandarme mensajes", C), ("es", "bórrenme de sus listas", C),
    ("es", "no quiero que me escriban nunca más", C), ("es", "tal vez deberían quitarme de la lista", U),
    ("es", "¿quién les pasó mi número?", N), ("es", "no me escriban antes de las 8", N),
    ("es", "quítenme del turno del domingo", N), ("es", "no me llegó el mensaje de ayer", N),
    # French
    ("fr", "arrêtez de m'écrire svp", C), ("fr", "retirez mon numéro de vos listes", C),
    ("fr", "je ne veux plus de vos sms", C), ("fr", "peut-être que je vais me désabonner", U),
    ("fr", "c'est quoi ce numéro ?", N), ("fr", "n'écrivez pas après 21h", N),
    ("fr", "vous pouvez m'envoyer plus d'infos ?", N), ("fr", "retirez-moi du créneau de dimanche", N),
    # Chinese (Simplified, Traditional, Cantonese)
    ("zh", "请不要再联系我了", C), ("zh", "請把我的號碼刪除", C), ("zh", "唔好再send嘢俾我啦", C),
    ("zh", "也许我该退订了", U), ("zh", "这是谁的号码？", N), ("zh", "晚上十点以后别发消息", N),
    ("zh", "把我从周日的班删掉", N), ("zh", "我没收到地址的短信", N),
    # Bengali (with Sylheti and romanized)
    ("bn", "আমাকে আর মেসেজ দিবেন না", C), ("bn", "আমার নাম্বারটা লিস্ট থেকে মুছে দিন", C),
    ("bn", "amake ar msg diben na", C), ("bn", "হয়তো আমাকে লিস্ট থেকে সরিয়ে দিলে ভালো", U),
    ("bn", "এটা কার নাম্বার?", N), ("bn", "রবিবারের শিফট থেকে আমাকে বাদ দিন", N), ("bn", "আমি মেসেজটা পাইনি", N),
    # Arabic (MSA, Levantine, Egyptian, Maghrebi, Arabizi)
    ("ar", "لا ترسلوا لي أي رسائل بعد الآن", C), ("ar", "شيلوا رقمي من القائمة", C), ("ar", "بطلوا تبعتولي", C),
    ("ar", "ma baddi rasa2el ba3d el yom", C), ("ar", "ربما من الأفضل أن تحذفوا رقمي", U),
    ("ar", "مين اللي عطاكم رقمي؟", N), ("ar", "لا تبعتولي قبل الساعة ٩", N), ("ar", "شيلوني من شفت الأحد", N),
    # Urdu (and Roman Urdu)
    ("ur", "مجھے مزید پیغامات مت بھیجیں", C), ("ur", "mera number apni list se nikal dein", C),
    ("ur", "shayad mujhe list se hata dena theek rahega", U), ("ur", "یہ کس کا نمبر ہے؟", N),
    ("ur", "رات 10 بجے کے بعد میسج نہ کریں", N), ("ur", "mujhe itwar ki shift se hata do", N),
    # Hindi (and Hinglish)
    ("hi", "मुझे और मैसेज मत भेजो", C), ("hi", "mujhe list se hatao please", C), ("hi", "message mat bhejo ab", C),
    ("hi", "शायद मुझे अनसब्सक्राइब कर देना चाहिए", U), ("hi", "आपको मेरा नंबर किसने दिया?", N),
    ("hi", "रात 10 बजे के बाद मैसेज मत करना", N), ("hi", "mujhe message kar dena na", N),
]


@pytest.mark.parametrize("language, text, verdict", TABLE, ids=[f"{l}:{t}" for l, t, _ in TABLE])
def test_detect(language, text, verdict):
    assert revocation.detect(text) == verdict, revocation.read(text)


def test_every_language_has_certain_uncertain_and_look_alike_rows():
    for language in LANGUAGES:
        assert {v for l, _, v in TABLE if l == language} == {C, U, N}, language


def test_a_compliance_keyword_is_certain_and_folding_meets_unaccented_and_traditional_spellings():
    assert revocation.detect("STOP") == C and revocation.detect("BAJA") == C
    assert revocation.detect("no me escriban mas") == revocation.detect("no me escriban más") == C
    assert revocation.detect("請不要再給我發訊息") == revocation.detect("请不要再给我发讯息") == C


# --- the development set ---------------------------------------------------------------------

def test_the_development_set_meets_its_targets_and_the_old_keyword_check_did_not(capsys):
    assert revocation_eval.main(["eval/revocation/set1.yml"]) == 0
    assert revocation_eval.main(["eval/revocation/set1.yml", "--baseline"]) == 1
    with open("eval/revocation/set1.yml", encoding="utf-8") as f:
        rows = revocation_eval.score(yaml.safe_load(f), revocation.detect)
    assert all(row.missed <= 1 and row.false_stops == 0 and row.false_asks <= 2 for row in rows)
