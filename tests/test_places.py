"""Free text to places and times: what a supporter types must land on the right turf and slots."""
import pytest
import yaml

from campaign import availability, landmarks, turf
from campaign.db import session_scope
from campaign.models import Neighborhood
from onramp.settings import ROOT


@pytest.mark.parametrize("text, neighborhood, zip_code", [
    ("Jackson Heights", "Jackson Heights", None),
    ("i live in jackson hts", "Jackson Heights", None),
    ("Jackson Hieghts", "Jackson Heights", None),
    ("11372", "Jackson Heights", "11372"),
    ("my zip is 11372-1234", "Jackson Heights", "11372"),
    ("I'm Ana from Astoria, free on weekends", "Astoria", None),
    ("bed stuy", "Bedford-Stuyvesant", None),
    ("我住在法拉盛", "Flushing", None),
    ("জ্যাকসন হাইটস", "Jackson Heights", None),
    ("vivo en Washington Heights", "Washington Heights", None),
])
def test_locate_finds_the_neighborhood(demo, text, neighborhood, zip_code):
    with session_scope() as session:
        place = turf.locate(session, text)
        assert place is not None, text
        assert (place.neighborhood, place.zip_code) == (neighborhood, zip_code)


@pytest.mark.parametrize("text", ["Narnia", "hello", "99999", ""])
def test_locate_finds_nothing_in_unknown_places(demo, text):
    with session_scope() as session:
        assert turf.locate(session, text) is None


def test_an_uncovered_zip_is_reported():
    assert turf.unknown_zip("I'm in 90210") == "90210"
    assert turf.unknown_zip("no zip here") is None


WEEKEND = ["sat:morning", "sat:afternoon", "sat:evening", "sun:morning", "sun:afternoon", "sun:evening"]


@pytest.mark.parametrize("text, slots", [
    ("weekends", WEEKEND),
    ("free on weekends", WEEKEND),
    ("los fines de semana", WEEKEND),
    ("weekday evenings", [f"{d}:evening" for d in ("mon", "tue", "wed", "thu", "fri")]),
    ("entre semana por la tarde", [f"{d}:afternoon" for d in ("mon", "tue", "wed", "thu", "fri")]),
    ("sábados por la mañana", ["sat:morning"]),
    ("Saturday mornings and Sunday afternoons", ["sat:morning", "sun:afternoon"]),
    ("Ana", []),
    ("I am Ana from Astoria", []),
])
def test_availability_becomes_weekly_slots(text, slots):
    assert availability.parse(text) == slots



@pytest.fixture(scope="module")
def demo_turf():
    """The matcher over the demo campaign's names, aliases and boroughs, without a database
    (the same Locator that turf.locate builds from the tables)."""
    data = yaml.safe_load((ROOT / "campaign" / "demo" / "nyc.yml").read_text(encoding="utf-8"))
    hoods = [(h, t["borough"]) for t in data["teams"] for h in t["turf"]]
    boroughs = sorted({b for _, b in hoods})
    names = [(h["neighborhood"], i, True) for i, (h, _) in enumerate(hoods)]
    # its aliases, and its stations, streets and landmarks as the loader writes them
    names += [(alias, i, False) for i, (h, _) in enumerate(hoods) for alias in [*h.get("aliases", []), *landmarks.aliases(h)]]
    names += [(b, -1 - i, True) for i, b in enumerate(boroughs)]
    locator = turf.Locator(names, {i: -1 - boroughs.index(b) for i, (_, b) in enumerate(hoods)})

    def read(text: str) -> str | None:
        found = locator.find(text)
        if found is None:
            return None
        return hoods[found[0]][0]["neighborhood"] if found[0] >= 0 else f"borough {boroughs[-1 - found[0]]}"
    return read


def _misread(read, cases):
    return {text: got for text, want in cases if (got := read(text)) != want}


def test_names_in_the_writers_own_script_are_found_without_an_alias_for_that_spelling(demo_turf):
    cases = [("ফ্ল্যাটবুশ", "Flatbush"), ("ولیمز برگ", "Williamsburg"), ("बुशविक", "Bushwick"),
             ("غرينبوينت", "Greenpoint"), ("ریڈ ہک", "Red Hook"), ("एल्महर्स्ट", "Elmhurst")]
    assert _misread(demo_turf, cases) == {}


def test_grammatical_endings_and_prepositions_are_taken_off(demo_turf):
    cases = [("গ্রিনপয়েন্টে থাকি", "Greenpoint"), ("ফ্ল্যাটবুশের কাছে", "Flatbush"), ("ببوشويك", "Bushwick"),
             ("ولیمز برگ کے پاس", "Williamsburg"), ("बुशविक में रहता हूँ", "Bushwick"),
             ("dans l'East Village", "East Village")]
    assert _misread(demo_turf, cases) == {}


def test_a_french_exonym_and_a_spanish_spelling_are_found(demo_turf):
    cases = [("j'habite à la Jamaïque", "Jamaica"), ("sur l'île Roosevelt", "Roosevelt Island"),
             ("vivo en Jamilton Heights", "Hamilton Heights")]
    assert _misread(demo_turf, cases) == {}


def test_greetings_names_and_times_are_not_places(demo_turf):
    texts = ["yes", "نعم", "شكرا جزيلا", "আমার নাম রাহিম", "六点以后", "मेरा नाम राहुल है", "میرا نام عمران ہے",
             "buenas noches", "早上好", "je m'appelle Amélie", "كيف حالك"]
    assert {text: got for text in texts if (got := demo_turf(text))} == {}


def test_words_supporters_use_to_ask_for_a_person_or_to_stop_are_no_places_whatever_their_consonants(demo_turf):
    # "करनी"/"کرنی" (to do) has Corona's consonants (KRN); the assistant's own examples of asking
    # for help, a person or to stop say it is an ordinary word
    texts = ["क्या आप मेरी मदद करनी चाहेंगे", "مجھے مدد کرنی ہے", "براہ کرم پیغام بند کریں", "بارك الله فيك",
             "আমাকে সাহায্য করেন", "ساعدوني من فضلكم"]
    assert {text: got for text in texts if (got := demo_turf(text))} == {}


def test_a_place_word_that_is_also_an_ordinary_word_still_ends_a_name(demo_turf):
    cases = [("سانسيت بارك", "Sunset Park"), ("অ্যাস্টোরিয়া", "Astoria"), ("कोरोना में रहती हूँ", "Corona")]
    assert _misread(demo_turf, cases) == {}


def test_everyday_chinese_sentences_are_not_places_by_the_sound_of_their_pinyin(demo_turf):
    # Chinese place names are translations or set renderings: the pinyin of a sentence that
    # sounds like "Washington" is chance, not a place
    texts = ["你好，我想当志愿者", "我想当志愿者", "我想帮忙", "请问你是谁", "我周末有空", "好的，谢谢你"]
    assert {text: got for text in texts if (got := demo_turf(text))} == {}


def test_chinese_names_of_the_neighborhoods_are_found_inside_a_sentence_in_either_script(demo_turf):
    # Chinese names are translations or set renderings (华盛顿高地, 可乐娜): the turf carries them,
    # simplified and traditional, and they are found inside a sentence written without spaces
    cases = [("我住在华盛顿高地那边", "Washington Heights"), ("我家在可樂娜", "Corona"), ("下東區附近", "Lower East Side"),
             ("布鲁克林华埠", "Sunset Park"), ("我住法拉盛，周末有空", "Flushing"), ("紅鉤", "Red Hook")]
    assert _misread(demo_turf, cases) == {}


def test_a_place_word_put_before_the_name_is_read_in_english_order(demo_turf):
    # Spanish, French and Arabic put "island", "park", "city" first: "Isla Roosevelt"
    cases = [("vivo en la isla Roosevelt", "Roosevelt Island"), ("Ciudad de Long Island", "Long Island City"),
             ("جزيرة روزفلت", "Roosevelt Island"), ("بجزيرة كوني", "Coney Island")]
    assert _misread(demo_turf, cases) == {}


def test_a_name_of_two_consonants_is_found_in_another_script_but_a_name_like_it_is_not_a_place(demo_turf):
    cases = [("মিডউডে থাকি", "Midwood"), ("मिडवुड", "Midwood"), ("ميدوود", "Midwood"), ("محمد علي", None),
             ("محمود", None), ("मदद चाहिए", None)]
    assert _misread(demo_turf, cases) == {}


def test_spanish_spellings_of_english_sounds_are_tried_together(demo_turf):
    cases = [("vivo en Yamaica Queens", "Jamaica"), ("Sonisaid", "Sunnyside"), ("cerca de Flashin", "Flushing")]
    assert _misread(demo_turf, cases) == {}


def test_letters_a_script_uses_for_an_english_sound_are_read_as_that_sound(demo_turf):
    # Urdu و is V as well as W ("ویو" view, "ول" ville); Arabic غ writes the English G
    cases = [("ساؤنڈ ویو کے پاس", "Soundview"), ("ٹوٹن ول میں", "Tottenville"), ("أسكن في فلاشينغ", "Flushing")]
    assert _misread(demo_turf, cases) == {}


def test_a_place_word_alone_or_beside_a_short_word_is_no_place(demo_turf):
    texts = ["me gusta el parque", "una isla bonita", "au parc le dimanche", "في الحديقة يوم الجمعة", "皇后乐队", "城市很大"]
    assert {text: got for text in texts if (got := demo_turf(text))} == {}


def test_a_borough_named_alone_is_read_as_the_borough_and_a_neighborhood_wins_over_its_borough(demo_turf):
    cases = [("in the Bronx", "borough Bronx"), ("ব্রুকলিনে", "borough Brooklyn"), ("à Brooklyn", "borough Brooklyn"),
             ("کوئنز میں", "borough Queens"), ("Red Hook, Brooklyn", "Red Hook"), ("Astoria Queens", "Astoria")]
    assert _misread(demo_turf, cases) == {}


def test_a_zip_in_any_scripts_digits_is_read_and_a_borough_comes_with_its_neighborhoods(demo):
    cases = [("١١٣٧٢", "11372"), ("۱۱۳۷۲", "11372"), ("১১৩৫৪", "11354"), ("मेरा ज़िप ११३५४ है", "11354"),
             ("邮编１１３７２", "11372")]
    with session_scope() as session:
        assert {t: getattr(turf.locate(session, t), "zip_code", None) for t, _ in cases} == dict(cases)
        bronx = turf.borough(session, "in the Bronx")
        assert bronx.name == "Bronx" and turf.locate(session, "in the Bronx") is None
        assert {session.get(Neighborhood, i).team.borough for i, _ in bronx.neighborhoods} == {"Bronx"}
        pages = [bronx.page(n) for n in range(bronx.pages())]
        assert all(0 < len(page) <= turf.BOROUGH_PAGE for page in pages)
        assert sum(pages, []) == bronx.neighborhoods
    assert turf.unknown_zip("٩٠٢١٠") == "90210"


def test_a_location_pin_resolves_to_the_nearest_neighborhood(demo):
    with session_scope() as session:
        assert turf.nearest(session, 40.7557, -73.8831).neighborhood == "Jackson Heights"  # 82nd St station
        assert turf.nearest(session, 40.5126, -74.2487).neighborhood == "Tottenville"
        assert turf.nearest(session, 34.0522, -118.2437) is None  # Los Angeles
