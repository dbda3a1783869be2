"""STOP / START / HELP in every language, matched deterministically before the model."""
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

KEYWORDS = Path(__file__).resolve().parent / "compliance.yml"
LEAD_COMMANDS = Path(__file__).resolve().parent / "lead_commands.yml"
def _is_edge(char: str) -> bool:
    # punctuation, symbols, spaces: not letters, digits or the vowel signs of Bengali and Hindi
    return unicodedata.category(char)[0] in "PSZC"


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return " ".join(text[start:end].split())


@lru_cache
def _table() -> dict[str, set[str]]:
    data = yaml.safe_load(KEYWORDS.read_text(encoding="utf-8"))
    return {kind: {_key(str(word)) for words in by_language.values() for word in words} for kind, by_language in data.items()}


def classify(text: str, opted_out: bool = False) -> str | None:
    """"stop", "start" or "help" when the whole message is a compliance keyword, else None."""
    key = _key(text or "")
    if not key:
        return None
    table = _table()
    if key in table["stop"]:
        return "stop"
    # START means something only to someone who has opted out; otherwise it is a normal message
    if opted_out and (key in table["start"] or key in table["start_when_opted_out"]):
        return "start"
    if key in table["help"]:
        return "help"
    return None


def affirmative(text: str) -> bool:
    """A bare "yes" in any language ("YES", "sí", "是", "হ্যাঁ", "نعم", "ہاں", "हाँ"): the answer to a
    yes-or-no question the bot asked, such as "do you want to stop getting messages?"."""
    return _key(text or "") in _table()["start_when_opted_out"]


@lru_cache
def _languages() -> dict[str, dict[str, set[str]]]:
    data = yaml.safe_load(KEYWORDS.read_text(encoding="utf-8"))
    return {kind: {language: {_key(str(word)) for word in words} for language, words in by_language.items()}
            for kind, by_language in data.items()}


def languages_of(kind: str, text: str) -> set[str]:
    """The languages whose `kind` keywords ("stop", "start", "help") hold this whole message."""
    key = _key(text or "")
    return {language for language, words in _languages().get(kind, {}).items() if key in words}


@lru_cache
def _lead_table() -> dict[str, set[str]]:
    data = yaml.safe_load(LEAD_COMMANDS.read_text(encoding="utf-8"))
    return {kind: {_key(str(word)) for words in by_language.values() for word in words} for kind, by_language in data.items()}


def lead_command(text: str) -> str | None:
    """"roster" when the whole message asks for it, in any language, else None."""
    key = _key(text or "")
    return next((kind for kind, words in _lead_table().items() if key in words), None)
