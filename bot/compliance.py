"""STOP / START / HELP in every language, matched deterministically before the model."""
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

KEYWORDS = Path(__file__).resolve().parent / "compliance.yml"
LEAD_COMMANDS = Path(__file__).resolve().parent / "lead_commands.yml"
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _EDGES.sub("", text.strip())
    return " ".join(text.split())


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
    if key in table["start"] or (opted_out and key in table["start_when_opted_out"]):
        return "start"
    if key in table["help"]:
        return "help"
    return None


@lru_cache
def _lead_table() -> dict[str, set[str]]:
    data = yaml.safe_load(LEAD_COMMANDS.read_text(encoding="utf-8"))
    return {kind: {_key(str(word)) for words in by_language.values() for word in words} for kind, by_language in data.items()}


def lead_command(text: str) -> str | None:
    """"roster" when the whole message asks for it, in any language, else None."""
    key = _key(text or "")
    return next((kind for kind, words in _lead_table().items() if key in words), None)
