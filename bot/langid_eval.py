"""Scoring a language identifier on short chat messages (data/eval/langid-chat.tsv).

Each item lists the languages an answer may be in, or `und` when no language can be told from
it ("ok", an emoji). An answer is right when it is in the accepted set, or when the identifier
abstains on an `und` item; wrong when it names another language (any language, for `und`);
abstained otherwise. Items that also appear word for word in data/nlu (the in-domain model's
training data) are counted apart, so the fresh figure is not flattered by memorised phrases.
"""
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

UND = "und"
RIGHT, WRONG, ABSTAINED = "right", "wrong", "abstained"
# "[Dave](name)" or '[Dave]{"entity": "name"}' in Rasa's training data is just "Dave"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Item:
    text: str
    accepted: frozenset[str]
    kind: str = ""


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, outcome: str) -> float:
        return self.counts[outcome] / self.total if self.total else 0.0


def load_items(path: Path) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, accepted, *rest = line.split("\t")
        if (text, accepted) == ("text", "accepted"):
            continue
        items.append(Item(text, frozenset(accepted.split()), rest[0] if rest else ""))
    return items


def nlu_examples(folder: Path) -> dict[str, list[str]]:
    """The plain text of every training example, per language file (entity markup removed)."""
    examples: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts = []
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(_ANNOTATION.sub(r"\1", line[2:]).strip())
        if texts:
            examples[path.stem] = texts
    return examples


def fold(text: str) -> str:
    """Word-for-word comparison: case, punctuation and spacing do not count."""
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text.casefold())
    return " ".join(kept.split())


def outcome(item: Item, answer: str | None) -> str:
    if answer is None:
        return RIGHT if UND in item.accepted else ABSTAINED
    return RIGHT if answer in item.accepted else WRONG


def score(items: list[Item], identify: Callable[[str], str | None], seen: set[str]) -> dict[str, dict[str, Tally]]:
    """Tallies per group ("fresh", "in data/nlu", "all") and per accepted language ("all" too)."""
    tallies: dict[str, dict[str, Tally]] = {}
    for item in items:
        result = outcome(item, identify(item.text))
        group = "in data/nlu" if fold(item.text) in seen else "fresh"
        for g in (group, "all"):
            for language in (*sorted(item.accepted), "all"):
                tallies.setdefault(g, {}).setdefault(language, Tally()).add(result)
    return tallies
