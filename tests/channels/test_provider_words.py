"""Provider words stop at their adapter: no code outside an adapter names one of its provider's
status words or error codes. The words are read from each adapter's own mapping tables (the keys
of `statuses` less the neutral values, and the keys of `errors`), so a word added there is
checked here without touching this test."""
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from bot.channels import ADAPTERS
from campaign.delivery import DeliveryStatus
from onramp.settings import ROOT

# A code this short (Meta's 4, "too many calls") cannot be told from any other number in code.
SHORTEST_CODE = 1000
# The same letters meaning something else where they stand, each said why.
ELSEWHERE = {
    ("bot/langid_eval.py", "accepted"): "a language the identifier accepted, not a delivery status",
    ("api/dashboard/pages/outbox.py", "scheduled"): "the dashboard's word for a pending outbox row, not Twilio's status",
}


def words_of(adapter) -> tuple[set[str], set[str], set[str]]:
    """(status words, error codes, error class names) of one adapter."""
    statuses = {word.lower() for word in adapter.statuses} - {str(s) for s in DeliveryStatus}
    codes = {str(key) for key in adapter.errors if isinstance(key, int) and key >= SHORTEST_CODE}
    classes = {key.__name__ for key in adapter.errors if isinstance(key, type)}
    return statuses, codes, classes


def mentions(source: str, statuses: set[str], codes: set[str], classes: set[str]) -> list[tuple[int, str]]:
    """Where the source names a word: a string that is a status word, a code in a number or a
    string, a class by its name. Comments are prose and are not read."""
    found = []
    code_in_text = re.compile(r"\b(" + "|".join(map(re.escape, codes)) + r")\b") if codes else None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            text = token.string.strip("rbfuRBFU").strip("'\"").strip().lower()
            if text in statuses:
                found.append((token.start[0], text))
            if code_in_text and (match := code_in_text.search(token.string)):
                found.append((token.start[0], match.group(1)))
        elif token.type == tokenize.NUMBER and token.string in codes:
            found.append((token.start[0], token.string))
        elif token.type == tokenize.NAME and token.string in classes:
            found.append((token.start[0], token.string))
    return found


def project_sources() -> list[Path]:
    """The project's Python code: what git tracks, less tests (they speak to the providers' fakes
    in the providers' words) and migrations (history)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed
            if not name.startswith("tests/") and "/migrations/" not in name and (ROOT / name).exists()]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: adapter.__name__)
def test_no_code_outside_the_adapter_names_its_providers_words(adapter):
    own = Path(sys.modules[adapter.__module__].__file__).resolve()
    statuses, codes, classes = words_of(adapter)
    outside = []
    for path in project_sources():
        if path.resolve() == own:
            continue
        name = str(path.relative_to(ROOT))
        for line, word in mentions(path.read_text(encoding="utf-8"), statuses, codes, classes):
            if (name, word) not in ELSEWHERE:
                outside.append(f"{name}:{line}: {word}")
    assert outside == []


def test_the_check_finds_a_word_where_it_stands():
    statuses, codes, classes = {"undelivered"}, {"21610"}, {"Forbidden"}
    source = ('if status == "undelivered" or code == 21610 or "21610" in text:\n'
              '    raise Forbidden()  # undelivered 21610 in a comment is prose\n')
    assert [word for _, word in mentions(source, statuses, codes, classes)] == ["undelivered", "21610", "21610", "Forbidden"]


def test_every_adapter_with_a_provider_has_words_to_check():
    """The check means something only if the tables it reads are there."""
    for adapter in ADAPTERS:
        if adapter.routes:
            assert adapter.errors, adapter.__name__
