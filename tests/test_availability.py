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
    ("vendredii soir", ["fri:evening"]),
    ("domnigo tarde", ["sun:afternoon"]),
    ("thrusday evening", ["thu:evening"]),
])
def test_a_day_or_part_of_day_typed_a_letter_off_is_read_as_that_word(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text", ["not even sure", "I might help", "Sunita from Sunset Park", "my money is tight",
                                  "Mondrian Street", "mera naam Bilal hai", "Jeudy", "Soria"])
def test_names_and_words_near_a_time_word_but_short_or_beginning_differently_are_not_respelled(text):
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


# Issue #24: what a supporter says they cannot do is taken out, not added.
ALL_BUT_FRIDAY = slots((("mon", "tue", "wed", "thu", "sat", "sun"), None))


@pytest.mark.parametrize("text", [
    "I'm free every day except Friday",
    "puedo cualquier día excepto el viernes",
    "n'importe quel jour sauf le vendredi",
    "除了星期五，哪天都可以",
    "শুক্রবার ছাড়া যেকোনো দিন",
    "أي يوم ما عدا الجمعة",
    "جمعے کے علاوہ کسی بھی دن",
    "शुक्रवार को छोड़कर किसी भी दिन",
])
def test_except_friday_takes_friday_out_in_every_language(text):
    assert availability.parse(text) == ALL_BUT_FRIDAY


@pytest.mark.parametrize("text, expected", [
    # the exception is subtracted from what the rest of the text gives
    ("afternoons, except Tuesday", slots((("mon", "wed", "thu", "fri", "sat", "sun"), "afternoon"))),
    ("tous les matins sauf le lundi", slots((DAYS[1:], "morning"))),
    ("cada noche menos los martes", slots((("mon", "wed", "thu", "fri", "sat", "sun"), "evening"))),
    ("每天下午都行，除了星期二", slots((("mon", "wed", "thu", "fri", "sat", "sun"), "afternoon"))),
    ("মঙ্গলবার বাদে প্রতিদিন সকালে", slots((("mon", "wed", "thu", "fri", "sat", "sun"), "morning"))),
    ("منگل کو چھوڑ کر ہر شام", slots((("mon", "wed", "thu", "fri", "sat", "sun"), "evening"))),
    ("weekends, except Sunday evening", slots(("sat", None), ("sun", ("morning", "afternoon")))),
    ("weekdays but not Monday or Thursday", slots((("tue", "wed", "fri"), None))),
    # and with nothing else said, from every day
    ("not weekends", slots((WEEKDAYS, None))),
    ("anything but mornings", slots((DAYS, ("afternoon", "evening")))),
])
def test_an_exception_is_subtracted_from_the_rest_or_from_every_day(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Saturdays are fine, just not Sunday", slots(("sat", None))),
    ("el sábado sí, el domingo no", slots(("sat", None))),
    ("le week-end, mais pas le samedi soir", slots(("sat", ("morning", "afternoon")), ("sun", None))),
    ("周末可以，星期天不行", slots(("sat", None))),
    ("সপ্তাহান্তে পারবো, তবে রবিবার না", slots(("sat", None))),
    ("الويكند، مش الأحد", slots(("sat", None))),
    ("ویک اینڈ پر، لیکن اتوار نہیں", slots(("sat", None))),
    ("वीकेंड पर, पर रविवार नहीं", slots(("sat", None))),
])
def test_a_day_said_not_to_suit_is_taken_out_of_the_days_around_it(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("weekdays I'm at work, Sunday afternoon", slots(("sun", "afternoon"))),
    ("I work weekdays so Saturday evening", slots(("sat", "evening"))),
    ("entre semana trabajo, el domingo por la mañana", slots(("sun", "morning"))),
    ("je bosse en semaine, le samedi après-midi", slots(("sat", "afternoon"))),
    ("平日要上班，星期天下午", slots(("sun", "afternoon"))),
    ("সপ্তাহের দিন অফিস থাকে, রবিবার বিকেলে", slots(("sun", "afternoon"))),
    ("أيام الأسبوع عندي دوام، السبت المسا", slots(("sat", "evening"))),
    ("ہفتے کے دنوں میں کام ہوتا ہے، اتوار کو شام", slots(("sun", "evening"))),
    ("Weekdays में office होता है, शनिवार शाम को", slots(("sat", "evening"))),
    ("I work nights, so mornings", slots((DAYS, "morning"))),
])
def test_days_said_to_be_busy_are_removed_not_added(text, expected):
    assert availability.parse(text) == expected


def test_busy_words_alone_or_said_with_not_or_after():
    assert availability.parse("I work Mondays and Tuesdays") == []                   # nothing left to offer
    assert availability.parse("no trabajo los sábados") == slots(("sat", None))      # not busy: free
    assert availability.parse("je ne travaille pas le lundi") == slots(("mon", None))
    assert availability.parse("मैं रविवार को बिज़ी नहीं हूँ") == slots(("sun", None))
    assert availability.parse("after my job on Tuesdays") == slots(("tue", "evening"))
    assert availability.parse("los lunes antes del trabajo") == slots(("mon", "morning"))
    # a day named by itself stays when a group of days around it is busy
    assert availability.parse("weekdays I work, but Friday evening is fine") == slots(("fri", "evening"))


@pytest.mark.parametrize("before, after", [
    ("Thursday before noon", "Thursday after noon"),
    ("el jueves antes del mediodía", "el jueves después del mediodía"),
    ("jeudi avant midi", "jeudi à partir de midi"),
    ("星期四中午以前", "星期四中午以后"),
    ("বৃহস্পতিবার দুপুরের আগে", "বৃহস্পতিবার দুপুরের পরে"),
    ("الخميس قبل الظهر", "الخميس بعد الظهر"),
    ("جمعرات کو دوپہر سے پہلے", "جمعرات کو دوپہر کے بعد"),
    ("गुरुवार को दोपहर से पहले", "गुरुवार को दोपहर के बाद"),
])
def test_before_noon_is_the_morning_and_after_noon_the_afternoon_in_every_language(before, after):
    assert availability.parse(before) == slots(("thu", "morning"))
    assert availability.parse(after) == slots(("thu", "afternoon"))


@pytest.mark.parametrize("text, parts", [
    ("from 9 till noon", ("morning",)),               # noon ends a range at 12:00
    ("de 10h à midi", ("morning",)),
    ("noon to 6", ("afternoon", "evening")),          # and starts one at 12
    ("at noon", ("afternoon",)),                      # alone, the afternoon
    ("दोपहर 2 बजे", ("afternoon",)),                  # next to a number it says pm
    ("سہ پہر", ("afternoon",)),
])
def test_noon_in_ranges_and_alone(text, parts):
    assert availability.parse(text) == slots((DAYS, parts))


@pytest.mark.parametrize("text, parts", [
    ("early mornings, 5 to 7", ("morning",)),         # bare hours near an early-morning word are am
    ("ভোরবেলা ৫টা থেকে ৭টা", ("morning",)),
    ("सुबह सुबह 5 से 7 बजे", ("morning",)),
    ("صبح سویرے ۵ سے ۷", ("morning",)),
    ("muy temprano, de 5 a 7", ("morning",)),
    ("一大早，五点到七点", ("morning",)),
    ("early mornings or after 6", ("morning", "evening")),   # "or" ends its reach
    ("early evening", ("evening",)),                  # before another part it only qualifies it
])
def test_early_morning_makes_bare_hours_am(text, parts):
    assert availability.parse(text) == slots((DAYS, parts))


@pytest.mark.parametrize("text", [
    "Friday 11 to 3",
    "el viernes de 11 a 3",
    "le vendredi de 11h à 15h",
    "星期五十一点到三点",
    "শুক্রবার ১১টা থেকে ৩টা",
    "الجمعة من ١١ إلى ٣",
    "جمعہ کو ۱۱ سے ۳ بجے تک",
    "शुक्रवार ११ से ३ बजे तक",
])
def test_a_range_of_hours_across_noon_in_any_script_is_morning_and_afternoon(text):
    assert availability.parse(text) == slots(("fri", ("morning", "afternoon")))


@pytest.mark.parametrize("text, expected", [
    ("el lune y el marte por la tarde", slots((("mon", "tue"), "afternoon"))),   # Caribbean Spanish, final s dropped
    ("Mon n Wed", slots((("mon", "wed"), None))),
    ("التلات والحد", slots((("tue", "sun"), None))),                             # Egyptian / Levantine
    ("يوم الاتنين بالليل", slots(("mon", "evening"))),
    ("হনিবার হকালে", slots(("sat", "morning"))),                                  # Sylheti
    ("জুমাবার বিকেলে", slots(("fri", "afternoon"))),
    ("禮拜三朝早同禮拜五下晝", slots(("wed", "morning"), ("fri", "afternoon"))),     # Cantonese
    ("周二至四晚上", slots((("tue", "wed", "thu"), "evening"))),                   # a range to a bare day number
])
def test_dialect_day_and_part_names(text, expected):
    assert availability.parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("not sure, maybe Saturday", slots(("sat", None))),
    ("I can't wait for Saturday", slots(("sat", None))),
    ("más o menos los sábados", slots(("sat", None))),
    ("pas de souci pour samedi", slots(("sat", None))),
    ("c'est pas mon truc", []),
    ("能不能改到星期天", slots(("sun", None))),
    ("الحد الأدنى للأجور", []),                         # "minimum", not Sunday
    ("कोई बात नहीं, शनिवार", slots(("sat", None))),
    ("I can come to help on Saturday", slots(("sat", None))),
    ("no sorry, Tuesday afternoon", slots(("tue", "afternoon"))),       # a refusal of an offer, then a new time
    ("لا آسف الثلاثاء العصر", slots(("tue", "afternoon"))),
])
def test_words_that_only_look_like_exceptions_take_nothing_out(text, expected):
    assert availability.parse(text) == expected
