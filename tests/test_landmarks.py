"""Landmarks, subway stations and cross streets name a neighborhood (issue #24): each demo
neighborhood's stations (with their lines), streets and landmarks are data in the campaign file,
stored as aliases with their kind; the matcher reads them in a sentence, in every launch language.
Fresh phrasings: none of them is in bench/locate/landmarks-blind-1.yml."""
import pytest
import yaml

from campaign import landmarks, turf
from campaign.db import session_scope
from campaign.models import NeighborhoodAlias
from onramp.settings import ROOT


@pytest.fixture(scope="module")
def read():
    """The matcher over the demo turf, as turf.locate builds it from the tables, without a database."""
    data = yaml.safe_load((ROOT / "campaign" / "demo" / "nyc.yml").read_text(encoding="utf-8"))
    hoods = [(h, t["borough"]) for t in data["teams"] for h in t["turf"]]
    boroughs = sorted({b for _, b in hoods})
    names = [(h["neighborhood"], i, True) for i, (h, _) in enumerate(hoods)]
    names += [(a, i, False) for i, (h, _) in enumerate(hoods) for a in [*h.get("aliases", []), *landmarks.aliases(h)]]
    names += [(b, -1 - i, True) for i, b in enumerate(boroughs)]
    locator = turf.Locator(names, {i: -1 - boroughs.index(b) for i, (_, b) in enumerate(hoods)})

    def answer(text: str) -> str | None:
        found = locator.find(text)
        if found is None:
            return None
        return hoods[found[0]][0]["neighborhood"] if found[0] >= 0 else f"borough {boroughs[-1 - found[0]]}"
    return answer


def _misread(read, cases):
    return {text: got for text, want in cases if (got := read(text)) != want}


def test_a_line_said_beside_a_station_chooses_between_stations_of_the_same_name(read):
    # 86 St is on the R in Bay Ridge and on the Q on the Upper East Side; 111 St on the J in
    # Richmond Hill and on the 7 in Corona; Church Av on the Q in Flatbush, on the G in Kensington
    cases = [("off the 86 St stop on the R", "Bay Ridge"), ("86 St stop, Q train", "Upper East Side"),
             ("en la estación de la 111 del J", "Richmond Hill"), ("en la estación de la 111 del 7", "Corona"),
             ("J线111街站", "Richmond Hill"), ("7号线111街站", "Corona"),
             ("चर्च एवेन्यू स्टेशन, Q ट्रेन", "Flatbush"), ("चर्च एवेन्यू स्टेशन, G ट्रेन", "Kensington"),
             ("قرب محطة 86 على خط R", "Bay Ridge")]
    assert _misread(read, cases) == {}


def test_a_cross_street_is_the_neighborhood_whose_streets_include_both(read):
    cases = [("Nostrand & Church", "Flatbush"), ("corner of Bell Blvd and Northern", "Bayside"),
             ("la 42 con la 9na avenida", "Hell's Kitchen"),  # Spanish ordinal, street word after
             ("au coin de la 5e avenue et de la 86e rue, à Manhattan", "Upper East Side"),
             ("la 5ta avenida y la 86, en Brooklyn", "Bay Ridge"),  # the same corner, another borough
             ("تقاطع برودواي وشارع 181", "Washington Heights"),  # و "and" joined to شارع "street"
             ("勿街和披露街", "Chinatown"),  # Mott and Pell, by their Chinese names
             ("W 181 St and Fort Washington", "Washington Heights"), ("E 116 St and Lexington", "East Harlem"),
             ("116 and Lenox", "Central Harlem")]
    assert _misread(read, cases) == {}


def test_a_landmark_inside_a_sentence_in_any_launch_language(read):
    cases = [("my kids go to school near Brooklyn College", "Midwood"),
             ("vivo a dos cuadras del Apollo Theater", "Central Harlem"),
             ("j'habite juste derrière le Barclays Center", "Prospect Heights"),
             ("ইয়র্ক কলেজের পাশে থাকি", "Jamaica"),  # York College, Bengali ending taken off
             ("قريب من متحف بروكلين", "Prospect Heights"),  # "museum" put first, as Arabic does
             ("लिंकन सेंटर के सामने रहती हूँ", "Upper West Side"), ("I'm near the Met", "Upper East Side")]
    assert _misread(read, cases) == {}


def test_a_borough_said_first_then_a_landmark_or_a_street(read):
    cases = [("Staten Island, next to Borough Hall", "St. George"), ("Brooklyn, on Manhattan Ave", "Greenpoint"),
             ("near Borough Hall", None)]  # every borough has one
    assert _misread(read, cases) == {}


def test_a_landmark_never_wins_over_a_neighborhood_named_as_it_is(read):
    cases = [("Astoria, but I work near Queens Center Mall", "Astoria"),
             ("vivo en Flushing pero trabajo cerca de Lincoln Center", "Flushing"),
             ("Red Hook, Brooklyn", "Red Hook")]
    assert _misread(read, cases) == {}


def test_a_street_named_after_another_place_is_not_that_place(read):
    cases = [("Flushing Av & Evergreen", "Bushwick"), ("Coney Island Av and Av J", "Midwood")]
    assert _misread(read, cases) == {}


def test_numbers_times_and_everyday_words_are_no_stations_or_streets(read):
    texts = ["2 or 3 shifts", "de 9 a 1", "10 and 2", "the park is nice", "I go to church on Sundays",
             "we met him yesterday", "on 181st", "星期六上午10点到12点", "शनिवार 10 बजे से 2 बजे", "السبت من 10 إلى 2"]
    assert {text: got for text in texts if (got := read(text))} == {}


def test_the_loader_stores_stations_streets_and_landmarks_as_aliases_and_a_zip_still_wins(demo):
    with session_scope() as session:
        aliases = {a.alias for a in session.query(NeighborhoodAlias)}
        assert {"station: Church Av (B Q)", "station: Church Av (F G)", "street: Broadway @ Inwood",
                "landmark: Queens Center Mall"} <= aliases
        assert max(len(a) for a in aliases) <= 120  # the column's length
        place = turf.locate(session, "Dyckman con Broadway")
        assert (place.neighborhood, place.zip_code) == ("Inwood", None)
        place = turf.locate(session, "11372, near Queens Center Mall")
        assert (place.neighborhood, place.zip_code) == ("Jackson Heights", "11372")
        assert turf.borough(session, "near the Church Av stop on the Q") is None


def test_campaign_file_landmarks_become_aliases_with_their_kind():
    turf_entry = {"neighborhood": "Flatbush", "stations": ["Church Av (B Q)", "Newkirk Plaza | Newkirk Av (B Q)"],
                  "streets": ["Church Av", "E 16-31 St"], "landmarks": ["Erasmus Hall High School | Erasmus Hall"]}
    assert landmarks.aliases(turf_entry) == [
        "station: Church Av (B Q)", "station: Newkirk Plaza (B Q)", "station: Newkirk Av (B Q)",
        "street: Church Av @ Flatbush", "street: E 16-31 St @ Flatbush",
        "landmark: Erasmus Hall High School", "landmark: Erasmus Hall"]
    assert all(landmarks.is_landmark(a) for a in landmarks.aliases(turf_entry))
    assert not landmarks.is_landmark("Church Av") and not landmarks.is_landmark("华盛顿高地")
