"""A typed answer to a list of choices is read against the choices that were shown."""
import pytest

from bot.pipeline.choices import resolve

SAT, SUN = '/affirm{"shift_id": 7}', '/affirm{"shift_id": 9}'
SHIFTS = {
    "en": [{"payload": SAT, "title": "Saturday, December 5, 10:00 AM"}, {"payload": SUN, "title": "Sunday, December 6, 1:00 PM"},
           {"payload": "/reschedule", "title": "Another time"}],
    "es": [{"payload": SAT, "title": "sábado, 5 de diciembre, 10:00"}, {"payload": SUN, "title": "domingo, 6 de diciembre, 13:00"}],
    "fr": [{"payload": SAT, "title": "samedi 5 décembre 10:00"}, {"payload": SUN, "title": "dimanche 6 décembre 13:00"}],
    "zh": [{"payload": SAT, "title": "12月5日星期六 上午10:00"}, {"payload": SUN, "title": "12月6日星期日 下午1:00"}],
    "bn": [{"payload": SAT, "title": "শনিবার, ৫ ডিসেম্বর"}, {"payload": SUN, "title": "রবিবার, ৬ ডিসেম্বর"}],
    "ar": [{"payload": SAT, "title": "السبت، ٥ ديسمبر"}, {"payload": SUN, "title": "الأحد، ٦ ديسمبر"}],
    "ur": [{"payload": SAT, "title": "ہفتہ، 5 دسمبر"}, {"payload": SUN, "title": "اتوار، 6 دسمبر"}],
    "hi": [{"payload": SAT, "title": "शनिवार, 5 दिसंबर"}, {"payload": SUN, "title": "रविवार, 6 दिसंबर"}],
}


@pytest.mark.parametrize("language, yes, second, sunday", [
    ("en", "Sure!", "the second one", "sunday"),
    ("es", "vale", "el segundo", "el domingo"),
    ("fr", "d'accord", "le deuxième", "dimanche"),
    ("zh", "好的", "第二个", "周日"),
    ("bn", "হ্যাঁ", "দ্বিতীয়টা", "রবিবার"),
    ("ar", "نعم", "الثاني", "الأحد"),
    ("ur", "جی ہاں", "دوسرا والا", "اتوار"),
    ("hi", "ठीक है", "दूसरा वाला", "रविवार"),
])
def test_yes_takes_the_first_shift_and_a_position_or_a_day_takes_that_one_in_every_language(language, yes, second, sunday):
    shown = SHIFTS[language]
    assert resolve(shown, yes, language) == SAT
    assert resolve(shown, second, language) == SUN
    assert resolve(shown, sunday, language) == SUN


@pytest.mark.parametrize("typed", ["2", "٢", "۲", "২", "२", "２", "#2", "number 2"])
def test_a_number_in_any_script_picks_by_position(typed):
    assert resolve(SHIFTS["en"], typed, "en") == SUN


def test_a_thumbs_up_says_yes_and_a_title_typed_out_picks_its_choice():
    assert resolve(SHIFTS["en"], "👍", "en") == SAT
    assert resolve(SHIFTS["en"], "another time", "en") == "/reschedule"


@pytest.mark.parametrize("typed", ["no", "I live in Astoria", "what is this?", "4", "the fifth", "monday", ""])
def test_what_does_not_pick_a_shown_choice_is_left_to_the_model(typed):
    assert resolve(SHIFTS["en"], typed, "en") is None


def test_yes_picks_nothing_when_no_choice_means_yes_and_days_only_pick_shifts():
    times = [{"payload": "weekday evenings", "title": "Weekday evenings"}, {"payload": "weekends", "title": "Weekends"}]
    assert resolve(times, "yes", "en") is None
    assert resolve(times, "saturday", "en") is None
    assert resolve(times, "the second", "en") == "weekends"
    assert resolve([], "yes", "en") is None
