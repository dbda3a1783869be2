"""Whether a message asks for a person, in any launch language, by word classes, not phrases
(campaign/lexicon/person_requests.yml says how they combine). It runs on every message before
the model, beside the sensitive topics: "could somebody phone me", "prefiero hablar con alguien",
"কেউ কি আমাকে একটা কল দিতে পারবেন" open a handoff whatever the form was waiting for, so the
person is never booked over their request. The model's ask_human intent stays a second signal.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex
import yaml

from campaign.text import fold

LEXICON = Path(__file__).resolve().parent / "lexicon" / "person_requests.yml"
# how far (in words) a negation may stand from the way of reaching it negates
NEGATION_REACH = 4
ARABIC_PROCLITICS = ("ال", "و", "ف", "ب", "ل")
_WORDS = regex.compile(r"[\p{L}\p{M}\p{N}'’]+")
_SPACELESS = regex.compile(r"\p{Han}")


@dataclass(frozen=True)
class _Classes:
    person: tuple[str, ...]
    reach: tuple[str, ...]
    negation: tuple[str, ...]
    alone: tuple[str, ...]
    negation_after: bool = False  # the negation follows the verb (SOV languages)


@lru_cache
def _lexicon() -> dict[str, _Classes]:
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    return {language: _Classes(**{name: terms if isinstance(terms, bool) else tuple(fold(str(t)) for t in terms)
                                  for name, terms in classes.items()})
            for language, classes in data.items()}


# French elision: "qu'une", "m'appeler", "l'équipe" are two words each ("quelqu'un" stays one)
_ELIDED = regex.compile(r"(?<![\w'’])(qu|l|d|m|j|n|s|t|c|jusqu|lorsqu|puisqu)['’](?=\w)")


def _words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORDS.findall(_ELIDED.sub(r"\1' ", text))]


def _forms(word: str) -> list[str]:
    """The word, and the word without one Arabic-script proclitic (و, ال, ب...)."""
    forms = [word]
    for prefix in ARABIC_PROCLITICS:
        if word.startswith(prefix) and len(word) > len(prefix) + 1:
            forms.append(word[len(prefix):])
    return forms


def _where(term: str, words: list[str], text: str, whole: bool = False) -> list[int]:
    """The word positions where the term matches (-1 for a match with no position: Chinese).
    A term's last word may be the start of a longer word ("call" finds "calling"), unless
    `whole` (negations: "no" must not find "nothing", nor Arabic "مو" find "موظف")."""
    if _SPACELESS.search(term):
        return [-1] if term in text else []
    parts = _words(term)
    if not parts:
        return []

    def same(word: str, part: str, last: bool) -> bool:
        return any(form == part or (last and not whole and form.startswith(part)) for form in _forms(word))

    return [i for i in range(len(words) - len(parts) + 1)
            if all(same(words[i + k], part, k == len(parts) - 1) for k, part in enumerate(parts))]


def asks_for_person(text: str) -> bool:
    folded = fold(text)
    words = _words(folded)
    for classes in _lexicon().values():
        if any(_where(term, words, folded) for term in classes.alone):
            return True
        if not any(_where(term, words, folded) for term in classes.person):
            continue
        reaches = [i for term in classes.reach for i in _where(term, words, folded)]
        negations = [i for term in classes.negation for i in _where(term, words, folded, whole=True)]
        for at in reaches:
            if not any(_negates(n, at, classes.negation_after) for n in negations):
                return True
    return False


def _negates(negation: int, reach: int, after: bool) -> bool:
    """A negation negates the way of reaching when it stands just before it, or just after it in
    languages that put it after the verb (Bengali, Hindi, Urdu: "ফোন করবেন না", "call mat karo")."""
    if negation == -1 or reach == -1:
        return True  # Chinese: no word positions, any negation counts
    distance = reach - negation if not after else negation - reach
    return 0 < distance <= NEGATION_REACH
