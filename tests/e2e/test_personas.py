"""One persona per language (tests/personas, marked smoke) through the real stack over the
Twilio webhook; the whole suite runs in `make bench` (`onramp personas run`)."""
import pytest

from tests.personas import suite

SMOKE = [p for p in suite.load() if p.smoke]


@pytest.mark.parametrize("persona", SMOKE, ids=[p.id for p in SMOKE])
def test_a_persona_ends_the_way_they_meant_to(stack, fakes, persona):
    number = suite.FIRST_NUMBER + 900 + SMOKE.index(persona)
    result = suite.run_one(persona, number, stack.api_url, stack.db_url, fakes["twilio"], stack.env["SERVICE_TOKEN"])
    assert result.passed, result.report()


def test_every_language_has_ten_personas_and_one_for_make_test():
    personas = suite.load()
    for language in suite.LANGUAGES:
        mine = [p for p in personas if p.language == language]
        assert len(mine) >= 10 and sum(p.smoke for p in mine) == 1, language
