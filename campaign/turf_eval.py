"""`onramp locate eval`: how often the turf matcher finds the place people wrote, per language,
and how often it finds a place in texts that name none (false matches).

The set (bench/locate/places.yml) is run against the demo campaign in a fresh SQLite database,
so the figures do not depend on what a running database holds.
"""
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from campaign import turf
from campaign.db import make_engine, session_factory
from campaign.demo import load
from campaign.migrate import upgrade


@dataclass
class LanguageScore:
    places: int = 0
    found: int = 0
    wrong: int = 0  # located, but to another neighborhood
    non_places: int = 0
    false_matches: int = 0
    misses: list[str] = field(default_factory=list)  # "text -> what came back"

    @property
    def found_rate(self) -> float:
        return self.found / self.places if self.places else 0.0

    @property
    def false_rate(self) -> float:
        return self.false_matches / self.non_places if self.non_places else 0.0


def _answer(place, borough) -> str | None:
    if place is not None:
        return place.neighborhood
    return f"borough {borough.name}" if borough is not None else None


def evaluate(path: Path) -> dict[str, LanguageScore]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    scores: dict[str, LanguageScore] = defaultdict(LanguageScore)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'locate-eval.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            with session_factory(engine)() as session:
                load.load(session)
                session.commit()
                for neighborhood, by_language in data["places"].items():
                    for language, texts in by_language.items():
                        for text in texts:
                            score = scores[language]
                            score.places += 1
                            got = turf.locate(session, text)
                            if got is not None and got.neighborhood == neighborhood:
                                score.found += 1
                                continue
                            score.wrong += got is not None
                            score.misses.append(f"{text} -> {got.neighborhood if got else None} (want {neighborhood})")
                for language, texts in data["not_places"].items():
                    for text in texts:
                        score = scores[language]
                        score.non_places += 1
                        got = _answer(turf.locate(session, text), _borough(session, text))
                        if got is not None:
                            score.false_matches += 1
                            score.misses.append(f"{text} -> {got} (not a place)")
        finally:
            engine.dispose()
    return dict(sorted(scores.items()))


def _borough(session, text: str):
    finder = getattr(turf, "borough", None)  # borough-only answers, where the matcher has them
    return finder(session, text) if finder else None


def overall(scores: dict[str, LanguageScore]) -> LanguageScore:
    total = LanguageScore()
    for score in scores.values():
        total.places += score.places
        total.found += score.found
        total.wrong += score.wrong
        total.non_places += score.non_places
        total.false_matches += score.false_matches
    return total
