"""Turn free text into a known place: a neighborhood (by name or alias, in any script) or a ZIP.

Token-based matching uses spaCy's PhraseMatcher on a blank multilingual pipeline (no model to
download). Scripts written without spaces between words (Chinese) are matched as substrings.
"""
import math
import re
import threading
import unicodedata
from dataclasses import dataclass

import spacy
import zipcodes
from rapidfuzz import fuzz, process
from spacy.matcher import PhraseMatcher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.models import Neighborhood, NeighborhoodAlias, ZipCode

ZIP_RE = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
FUZZY_MIN_LENGTH = 6
FUZZY_CUTOFF = 85
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Place:
    neighborhood_id: int
    neighborhood: str
    team_id: int
    zip_code: str | None
    matched: str  # the words in the message that named the place


def normalize(text: str) -> str:
    """Case-fold and strip Latin accents so "Astoría" and "astoria" are the same words."""
    out: list[str] = []
    base = ""
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(char):
            # Only Latin accents go; marks are letters' parts in Bengali, Devanagari, Arabic.
            if base and base < "\u0250":
                continue
        else:
            base = char
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


class Locator:
    def __init__(self, names: list[tuple[str, int]]):
        self.nlp = spacy.blank("xx")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.spaceless: list[tuple[str, int]] = []
        patterns: dict[int, list] = {}
        for name, neighborhood_id in names:
            key = normalize(name)
            if _SPACELESS.search(key):
                self.spaceless.append((key, neighborhood_id))
            else:
                patterns.setdefault(neighborhood_id, []).append(self.nlp.make_doc(key))
        for neighborhood_id, docs in patterns.items():
            self.matcher.add(str(neighborhood_id), docs)
        self.spaceless.sort(key=lambda item: -len(item[0]))
        # Misspellings ("Jackson Hieghts") are matched loosely, against longer Latin names only:
        # short aliases ("JH", "LIC") would match too much.
        self.fuzzy = {key: nid for name, nid in names if len(key := normalize(name)) >= FUZZY_MIN_LENGTH and key.isascii()}

    def find(self, text: str) -> tuple[int, str] | None:
        """The longest neighborhood mention in the text, as (neighborhood id, matched words)."""
        key = normalize(text)
        doc = self.nlp.make_doc(key)
        best: tuple[int, str] | None = None
        for match_id, start, end in self.matcher(doc):
            span = doc[start:end].text
            if best is None or len(span) > len(best[1]):
                best = (int(self.nlp.vocab.strings[match_id]), span)
        for alias, neighborhood_id in self.spaceless:
            if alias in key and (best is None or len(alias) > len(best[1])):
                best = (neighborhood_id, alias)
        return best or self._fuzzy(doc)

    def _fuzzy(self, doc) -> tuple[int, str] | None:
        words = [t.text for t in doc if not t.is_punct]
        best: tuple[float, int, str] | None = None
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                window = " ".join(words[start:start + size])
                if len(window) < FUZZY_MIN_LENGTH:
                    continue
                found = process.extractOne(window, self.fuzzy.keys(), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                if found and (best is None or found[1] > best[0]):
                    best = (found[1], self.fuzzy[found[0]], window)
        return (best[1], best[2]) if best else None


_cache: dict[str, tuple[tuple, Locator]] = {}
_lock = threading.Lock()


def _locator(session: Session) -> Locator:
    # Rebuilt only when the turf changes (its size or newest row), not per request.
    database = session.get_bind().url.render_as_string()
    fingerprint = (
        tuple(session.execute(select(func.count(), func.max(Neighborhood.id))).one())
        + tuple(session.execute(select(func.count(), func.max(NeighborhoodAlias.id))).one())
    )
    with _lock:
        cached = _cache.get(database)
        if cached is None or cached[0] != fingerprint:
            names = [(n.name, n.id) for n in session.scalars(select(Neighborhood))]
            names += [(a.alias, a.neighborhood_id) for a in session.scalars(select(NeighborhoodAlias))]
            cached = _cache[database] = (fingerprint, Locator(names))
        return cached[1]


def locate(session: Session, text: str) -> Place | None:
    """The place named in the text; a known ZIP code wins over a neighborhood name."""
    for zip_code in ZIP_RE.findall(text):
        row = session.get(ZipCode, zip_code)
        if row is not None:
            hood = row.neighborhood
            return Place(hood.id, hood.name, hood.team_id, zip_code, zip_code)
    found = _locator(session).find(text)
    if found is None:
        return None
    hood = session.get(Neighborhood, found[0])
    return Place(hood.id, hood.name, hood.team_id, None, found[1])


def unknown_zip(text: str) -> str | None:
    """A ZIP code the campaign does not cover, if the text has one."""
    match = ZIP_RE.search(text)
    return match.group(1) if match else None


def zip_coordinates(zip_code: str) -> tuple[float, float] | None:
    """Where a US ZIP code is (the zipcodes package ships the data; no network)."""
    try:
        found = zipcodes.matching(zip_code)
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    return float(found[0]["lat"]), float(found[0]["long"])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
