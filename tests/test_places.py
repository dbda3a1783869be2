"""Free text to places and times: what a supporter types must land on the right turf and slots."""
import pytest

from campaign import availability, turf
from campaign.db import session_scope


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
