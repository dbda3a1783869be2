"""Availability that means what the person said, in every launch language: each day with its own
part of the day, ranges, clock times in any script's digits, and words with two meanings."""
import pytest
from typer.testing import CliRunner

from campaign import availability
from campaign.availability import DAYS, PARTS

WEEKDAYS = DAYS[:5]


def slots(*pairs: tuple) -> list[str]:
    """("sat", "morning"), (WEEKDAYS, "evening"), ("sun", None) = the whole day, ... → sorted slots."""
    wanted = set()
    for days, parts in pairs:
        days = (days,) if isinstance(days, str) else days
        parts = PARTS if parts is None else ((parts,) if isinstance(parts, str) else parts)
        wanted |= {f"{d}:{p}" for d in days for p in parts}
    return [f"{d}:{p}" for d in DAYS for p in PARTS if f"{d}:{p}" in wanted]


@pytest.mark.parametrize("text, expected", [
    ("Thursday evening or Sunday morning", slots(("thu", "evening"), ("sun", "morning"))),
    ("el martes por la noche o el sábado por la tarde", slots(("tue", "evening"), ("sat", "afternoon"))),
    ("mardi soir ou dimanche après-midi", slots(("tue", "evening"), ("sun", "afternoon"))),
    ("周二晚上或者周日下午", slots(("tue", "evening"), ("sun", "afternoon"))),
    ("মঙ্গলবার রাতে অথবা রবিবার বিকেলে", slots(("tue", "evening"), ("sun", "afternoon"))),
    ("مساء الثلاثاء أو بعد ظهر الأحد", slots(("tue", "evening"), ("sun", "afternoon"))),
    ("منگل کی شام یا اتوار کی دوپہر", slots(("tue", "evening"), ("sun", "afternoon"))),
    ("मंगलवार शाम या रविवार दोपहर", slots(("tue", "evening"), ("sun", "afternoon"))),
])
def test_each_day_keeps_its_own_part_of_day_not_the_cross_product(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Tuesday and Friday afternoons", slots((("tue", "fri"), "afternoon"))),
    ("sábado y domingo por la noche", slots((("sat", "sun"), "evening"))),
    ("صباح الاثنين والخميس", slots((("mon", "thu"), "morning"))),
    ("weekends and weekday mornings", slots((("sat", "sun"), None), (WEEKDAYS, "morning"))),
    ("Saturday morning or Sunday", slots(("sat", "morning"), ("sun", None))),
    ("weekends and evenings", slots((("sat", "sun"), None), (DAYS, "evening"))),
])
def test_a_part_said_after_a_list_of_days_belongs_to_each_day_of_the_list(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, days", [
    ("Tuesday to Thursday", ("tue", "wed", "thu")),
    ("mar-jue", ("tue", "wed", "thu")),
    ("du mardi au jeudi", ("tue", "wed", "thu")),
    ("周二到周四", ("tue", "wed", "thu")),
    ("মঙ্গলবার থেকে বৃহস্পতিবার পর্যন্ত", ("tue", "wed", "thu")),
    ("من الثلاثاء إلى الخميس", ("tue", "wed", "thu")),
    ("من الثلاثاء للخميس", ("tue", "wed", "thu")),
    ("منگل سے جمعرات تک", ("tue", "wed", "thu")),
    ("मंगलवार से गुरुवार तक", ("tue", "wed", "thu")),
    ("من الأحد إلى الخميس", ("sun", "mon", "tue", "wed", "thu")),   # a range may wrap past Sunday
])
def test_a_range_of_days_is_every_day_between_both_ends_included(text, days):
    assert availability.parse(text) == slots((days, None))


def test_a_range_of_days_takes_the_part_said_with_it():
    assert availability.parse("Wednesday through Friday evenings") == slots((("wed", "thu", "fri"), "evening"))
    assert availability.parse("پیر سے بدھ صبح") == slots((("mon", "tue", "wed"), "morning"))


@pytest.mark.parametrize("text, parts", [
    ("after 5", ("evening",)),
    ("after 3", ("afternoon", "evening")),
    ("before 11", ("morning",)),
    ("10 to 2", ("morning", "afternoon")),           # 12-hour: the end is after the start
    ("from 19:00", ("evening",)),                     # 24-hour
    ("7-9am", ("morning",)),
    ("à partir de 17h30", ("evening",)),
    ("de 2 a 4", ("afternoon",)),
    ("después de las 6 de la tarde", ("evening",)),   # "de la tarde" says pm; 18:00 is evening
    ("بعد ٦ مساء", ("evening",)),                     # Arabic-Indic digits
    ("۵ بجے کے بعد", ("evening",)),                   # Extended Arabic-Indic (Urdu)
    ("৫টার পরে", ("evening",)),                        # Bengali digits, glued hour word
    ("५ बजे के बाद", ("evening",)),                    # Devanagari
    ("５点以后", ("evening",)),                          # fullwidth
    ("晚上八点以后", ("evening",)),                      # hours as Chinese numerals
    ("上午9点到11点", ("morning",)),
    ("between 1 and 3", ("afternoon",)),
])
def test_clock_times_cover_the_parts_of_the_day_they_overlap(text, parts):
    assert availability.parse(text) == slots((DAYS, parts))


def test_a_clock_time_belongs_to_the_day_said_with_it():
    assert availability.parse("Monday after 6 or Saturday 9-12") == slots(("mon", "evening"), ("sat", "morning"))
    assert availability.parse("السبت من ١٠ الصبح لحد ٢ الظهر") == slots(("sat", ("morning", "afternoon")))


@pytest.mark.parametrize("text", ["I have 2 kids", "2-3 days a week", "ہفتے میں دو دن", "一周两天", "call me at 718 555 0100",
                                  "718-555-0100", "born 2001-04-09", "since 5/12"])
def test_numbers_that_are_not_times_name_no_time(text):
    assert availability.parse(text) == []


def test_clock_thresholds_are_the_ones_shifts_are_sorted_by():
    # a shift starting at 17:00 is an evening shift, and "after 5" reaches it
    assert availability.part_of_day(17) == "evening"
    assert availability.part_of_day(11) == "morning"
    assert availability.part_of_day(12) == "afternoon"
    assert "mon:evening" in availability.parse("Monday after 5")
    assert "mon:afternoon" not in availability.parse("Monday after 5")


@pytest.mark.parametrize("text, expected", [
    ("ہفتے کو شام", slots(("sat", "evening"))),                 # ہفتہ = Saturday
    ("ہفتہ اور اتوار", slots((("sat", "sun"), None))),
    ("پیر سے ہفتے تک", slots((DAYS[:6], None))),
    ("ہفتے میں ایک دن صبح", slots((DAYS, "morning"))),           # ہفتہ = week
    ("اگلے ہفتے", []),
    ("ہفتے کے دنوں میں شام کو", slots((WEEKDAYS, "evening"))),    # the days of the week
    ("हफ़्ते को सुबह", slots(("sat", "morning"))),
    ("हफ्ते में दो दिन शाम को", slots((DAYS, "evening"))),      # typed without the nukta
    ("अगले हफ़्ते", []),
])
def test_saturday_or_week_is_settled_by_the_words_around_it(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("weekends work best", slots((("sat", "sun"), None))),
    ("les week-ends, le matin", slots((("sat", "sun"), "morning"))),
    ("كل يوم في أي وقت", slots((DAYS, None))),
    ("anytime", slots((DAYS, None))),
    ("Friday, any time", slots(("fri", None))),
    ("যেকোনো সময়", slots((DAYS, None))),
])
def test_weekends_and_any_time(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("saturdy morning", ["sat:morning"]),
    ("sundy evenin", ["sun:evening"]),
    ("wendsday afternon", ["wed:afternoon"]),
    ("vendredi soiir", ["fri:evening"]),
    ("domingo tardee", ["sun:afternoon"]),
    ("thrusday evening", ["thu:evening"]),
])
def test_a_day_or_part_of_day_typed_a_letter_off_is_read_as_that_word(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text", ["not even sure", "I might help", "Sunita from Sunset Park", "my money is tight",
                                  "Mondrian Street"])
def test_words_near_a_time_word_but_short_or_beginning_differently_are_not_respelled(text):
    assert availability.parse(text) == []


@pytest.mark.parametrize("text", ["not sure yet", "todavía no lo sé", "je ne sais pas", "还不知道", "জানি না",
                                  "لا أعرف", "پتہ نہیں", "पता नहीं", "next week", "la semana que viene", ""])
def test_a_text_that_names_no_time_gives_no_slots(text):
    assert availability.parse(text) == []


def test_the_eval_command_counts_only_exact_sets(tmp_path):
    from onramp.cli import app

    labelled = tmp_path / "set.yml"
    labelled.write_text("en:\n"
                        "  - {text: Friday evening or Saturday morning, slots: [fri:evening, sat:morning]}\n"
                        "  - {text: Friday evening, slots: [fri:evening, sat:evening]}\n"
                        "es:\n"
                        "  - {text: lun-vie, slots: [" + ", ".join(slots((WEEKDAYS, None))) + "]}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["availability", "eval", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "en: 0.500 (1/2)" in result.output
    assert "es: 1.000 (1/1)" in result.output
    assert "overall exact: 0.667 (2/3)" in result.output


@pytest.mark.parametrize("text, expected", [
    ("mon-wed evenings", slots((("mon", "tue", "wed"), "evening"))),
    ("dim soir", slots(("sun", "evening"))),
    ("free on sat", slots(("sat", None))),
    ("mié y jue", slots((("wed", "thu"), None))),
    ("mon fils a école, donc le samedi", slots(("sat", None))),   # French "mon" is "my"
    ("ven el domingo", slots(("sun", None))),                     # Spanish "ven" is "come"
    ("I sat down with my calendar: Sunday", slots(("sun", None))),
])
def test_a_short_day_name_is_a_day_only_among_time_words(text, expected):
    assert availability.parse(text) == expected


def test_digits_inside_chat_arabic_words_are_letters_not_hours():
    assert availability.parse("el gom3a el sob7") == slots(("fri", "morning"))
    assert availability.parse("el sabt ba3d 5") == slots(("sat", "evening"))
    assert availability.parse("el sabt 2abl 11") == slots(("sat", "morning"))
    assert availability.parse("el 7ad el 3asr") == slots(("sun", "afternoon"))
    assert availability.parse("18h30") == slots((DAYS, "evening"))   # a time by its form alone


@pytest.mark.parametrize("text", ["I'm Sam", "my name is Sun", "Soy Mar, vivo en Astoria", "Dom"])
def test_a_name_that_looks_like_a_short_day_is_no_time(text):
    # the form reads a time from every message until it has one, names included
    assert availability.parse(text) == []


@pytest.mark.parametrize("text", ["good evening!", "buenas noches", "bonne soirée", "晚上好", "শুভ সকাল", "صباح الخير",
                                  "صبح بخیر", "शुभ रात्रि", "what did you do last night", "qué tiempo hace mañana",
                                  "多说一点", "jamais de la vie"])
def test_greetings_and_other_days_name_no_weekly_time(text):
    # the form reads a time from any message until it has one: a greeting must not become one
    assert availability.parse(text) == []


def test_a_greeting_does_not_hide_the_time_said_after_it():
    assert availability.parse("good evening! free Saturday mornings") == slots(("sat", "morning"))
    assert availability.parse("buenas noches, puedo los martes a las 10 de la mañana") == slots(("tue", "morning"))
