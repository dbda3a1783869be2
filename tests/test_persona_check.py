"""The persona suite's language check: a message is in a language when every part of it is one
of that language's catalog messages, as the app joins them."""
from tests.personas.suite import _in_language


def test_a_greeting_with_the_sms_stop_notice_and_the_language_menu_is_english():
    text = ("Hi! Thanks for reaching out to NYC for All. Let's get you on a local team — it takes a minute.\n"
            "NYC for All: reply STOP to stop.\nWhich language do you prefer?")
    assert _in_language(text, "en")


def test_a_french_greeting_may_carry_the_offer_to_switch_to_english_in_english():
    text = ("Bonjour ! Merci d'avoir écrit à NYC for All. On vous trouve une équipe près de chez vous : "
            "ça prend une minute.\nNYC for All : répondez STOP pour ne plus recevoir de messages.\nEnglish? Reply 2")
    assert _in_language(text, "fr")


def test_an_english_greeting_is_not_french():
    text = ("Hi! Thanks for reaching out to NYC for All. Let's get you on a local team — it takes a minute.\n"
            "NYC for All: reply STOP to stop.")
    assert not _in_language(text, "fr")


def test_an_arabic_question_is_not_urdu_even_though_both_use_the_arabic_script():
    assert not _in_language("ما اسمك؟", "ur")
    assert _in_language("آپ کا نام کیا ہے؟", "ur")


def test_a_template_that_is_mostly_placeholders_does_not_make_any_text_french():
    assert not _in_language("Sat, December 5, 10:00 AM à Restoration Plaza", "fr")
    assert not _in_language("English? Reply 2", "fr")


def test_the_suite_meets_its_target_with_one_failure_in_ten_but_not_two():
    from tests.personas.suite import Persona, Result, summary, target_met

    def results(language, failing):
        return [Result(Persona(f"{language}-{i}", ["hi"], {"language": language}), ["wrong team"] if i < failing else [])
                for i in range(10)]

    assert target_met(results("ur", 1) + results("en", 0))
    assert not target_met(results("ur", 2) + results("en", 0))
    report = summary(results("ur", 2))
    assert "| ur | 8/10 | 0.80 |" in report and "NOT met" in report
    assert report.splitlines()[-1] == "personas passed: 8/10"
