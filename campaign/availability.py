"""Free-text availability → weekly slots such as "sat:morning".

The words live in lexicon/availability.yml, one block per language, so a new language is data.
"""
import regex
from functools import lru_cache
from pathlib import Path

import yaml

from campaign.turf import normalize

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("morning", "afternoon", "evening")
GROUPS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "any": DAYS}
_SPACELESS = {"zh"}
LEXICON = Path(__file__).resolve().parent / "lexicon" / "availability.yml"


@lru_cache
def _patterns() -> list[tuple[regex.Pattern, str, str]]:
    """(pattern, "day"|"part", value), longest phrases first so "fin de semana" beats "semana"."""
    entries: list[tuple[str, str, str, bool]] = []
    for language, block in yaml.safe_load(LEXICON.read_text(encoding="utf-8")).items():
        for kind in ("days", "parts"):
            for value, words in (block.get(kind) or {}).items():
                for word in words:
                    entries.append((normalize(str(word)), kind[:-1] if kind == "days" else "part", value, language in _SPACELESS))
    entries.sort(key=lambda e: -len(e[0]))
    compiled = []
    for word, kind, value, spaceless in entries:
        body = regex.escape(word)
        # a word ends where letters and their vowel signs (\p{M}: Bengali, Devanagari) end
        pattern = body if spaceless else rf"(?<![\w\p{{M}}]){body}(?![\w\p{{M}}])"
        compiled.append((regex.compile(pattern), "day" if kind == "day" else "part", value))
    return compiled


def parse(text: str) -> list[str]:
    """Slots named by the text, sorted by day then part; [] when it names no time at all."""
    key = normalize(text)
    days: set[str] = set()
    parts: set[str] = set()
    for pattern, kind, value in _patterns():
        if pattern.search(key):
            # blank out what matched, so "fin de semana" is not read again as "semana"
            key = pattern.sub(" ", key)
            if kind == "day":
                days.update(GROUPS.get(value, (value,)))
            else:
                parts.update(PARTS if value == "any" else (value,))
    if not days and not parts:
        return []
    days = days or set(DAYS)
    parts = parts or set(PARTS)
    return [f"{d}:{p}" for d in DAYS if d in days for p in PARTS if p in parts]


def part_of_day(hour: int) -> str:
    if hour < 12:
        return "morning"
    if hour < 17:
        return "afternoon"
    return "evening"
