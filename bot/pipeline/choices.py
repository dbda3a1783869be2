"""A typed answer to a list of choices, resolved against the choices that were shown.

"yes" picks the first choice that means yes (shift offers are soonest first); "the second", "2"
or "第二个" pick by position; "Saturday" picks the shift on that day; a choice's own title picks
it. The words of each language are data (choice_words.yml); the day names come from the CLDR
(Babel), so every language the campaign speaks has them. Anything else is not an answer to the
offer (None), and goes to the model as text.
"""
import re
from functools import lru_cache
from pathlib import Path

import yaml
from babel import Locale

from campaign.digits import fold_digits
from campaign.turf import normalize

WORDS = Path(__file__).with_name("choice_words.yml")
# A day answer may carry a word or two more ("saturday morning", "el del sábado").
DAY_EXTRA_WORDS = 2
_PUNCTUATION = re.compile(r"[\s.,;:!?¿¡'\"()\[\]。，、！？؟،۔।]+")


@lru_cache
def _words() -> dict:
    return yaml.safe_load(WORDS.read_text(encoding="utf-8"))


def _fold(text: str) -> str:
    return " ".join(_PUNCTUATION.split(normalize(fold_digits(text)))).strip()


def _vocabulary(language: str | None, part: str) -> list:
    data = _words()
    languages = [language] if language in data else [code for code in data if code != "any"]
    return [entry for code in languages + ["any"] for entry in [data.get(code, {}).get(part)] if entry]


def _phrases(language: str | None, part: str) -> set[str]:
    return {_fold(str(word)) for entry in _vocabulary(language, part) for word in entry}


def _without(text: str, phrase: str) -> str | None:
    """The text with the phrase taken out (as whole words, or inside unspaced Chinese), or None."""
    if not phrase:
        return None
    padded, needle = f" {text} ", f" {phrase} "
    if needle in padded:
        return padded.replace(needle, " ", 1).strip()
    if re.search(r"[\u3400-\u9fff]", phrase) and phrase in text:
        return text.replace(phrase, " ", 1).strip()
    return None


def _leftover(text: str, fillers: set[str]) -> list[str]:
    for filler in sorted(fillers, key=len, reverse=True):
        while (rest := _without(text, filler)) is not None:
            text = rest
    return text.split()


def _position(text: str, count: int, language: str | None) -> int | None:
    fillers = _phrases(language, "fillers")
    rest = _leftover(text, fillers)
    if len(rest) == 1 and rest[0].lstrip("#").isdigit():
        number = int(rest[0].lstrip("#"))
        return number - 1 if 1 <= number <= count else None
    found: list[tuple[int, str]] = []
    for entry in _vocabulary(language, "ordinals"):
        for position, words in entry.items():
            for word in words:
                phrase = _fold(str(word))
                index = count - 1 if position == "last" else int(position) - 1
                if _without(text, phrase) is not None:
                    found.append((index, phrase))
    for index, phrase in sorted(found, key=lambda f: -len(f[1])):
        if 0 <= index < count and not _leftover(_without(text, phrase) or "", fillers):
            return index
    return None


@lru_cache
def _day_names(language: str) -> list[set[str]]:
    """Monday..Sunday, each as every name the CLDR has for it in this language and in English."""
    names: list[set[str]] = [set() for _ in range(7)]
    for code in {language, "en"}:
        try:
            locale = Locale.parse(code)
        except (ValueError, LookupError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated", "short"):
                for day, name in locale.days[context][width].items():
                    folded = _fold(name)
                    if len(folded) > 1 or re.search(r"[\u3400-\u9fff]", folded):
                        names[day].add(folded)
    return names


def _day(text: str, language: str) -> tuple[int, str] | None:
    for day, names in enumerate(_day_names(language)):
        for name in sorted(names, key=len, reverse=True):
            if _without(text, name) is not None:
                return day, name
    return None


def _is_shift(choice: dict) -> bool:
    return '"shift_id"' in (choice.get("payload") or "")


def resolve(choices: list[dict], text: str, language: str | None) -> str | None:
    """The payload of the choice this text picks among `choices` (as shown), or None."""
    if not choices or not text.strip():
        return None
    folded = _fold(text)
    if folded in _phrases(language, "affirm"):
        yes = next((c for c in choices if (c.get("payload") or "").startswith("/affirm")), None)
        return yes["payload"] if yes else None
    for choice in choices:
        if choice.get("title") and _fold(choice["title"]) == folded:
            return choice["payload"]
    index = _position(folded, len(choices), language)
    if index is not None:
        return choices[index]["payload"]
    shifts = [c for c in choices if _is_shift(c)]
    said = _day(folded, language or "en") if shifts else None
    if said is not None:
        day, name = said
        rest = _leftover(_without(folded, name) or "", _phrases(language, "fillers"))
        if len(rest) <= DAY_EXTRA_WORDS:
            for choice in shifts:
                on = _day(_fold(choice.get("title") or ""), language or "en")
                if on is not None and on[0] == day:
                    return choice["payload"]
    return None
