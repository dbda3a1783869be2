"""Which language a message is in, for a volunteer who has not chosen one.

Script first (Bengali, Devanagari and Han are unambiguous; letters only Urdu uses tell Urdu from
Arabic), then a statistical detector restricted to the campaign's languages, with hints and a
confidence threshold. Short or ambiguous messages ("ok", "sí", "1", an emoji) detect nothing, so
the current language holds. The detector is lingua by default; langdetect can be chosen in
settings (LANGUAGE_DETECTOR) so the two can be compared (`onramp langid eval`).
"""
import re
from functools import lru_cache

MIN_LETTERS = 6
THRESHOLD = 0.5
HINT_BONUS = 0.15

_SCRIPTS = [
    (re.compile(r"[\u0980-\u09ff]"), ["bn"]),
    (re.compile(r"[\u0900-\u097f]"), ["hi"]),
    (re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"), ["zh"]),
    # letters only Urdu uses (ٹ ڈ ڑ ں ے ہ ھ ک گ ی) tell Urdu from Arabic
    (re.compile(r"[\u0679\u0688\u0691\u06ba\u06d2\u06c1\u06be\u06a9\u06af\u06cc]"), ["ur"]),
    (re.compile(r"[\u0600-\u06ff\u0750-\u077f]"), ["ar", "ur"]),
]


@lru_cache
def _lingua(languages: tuple[str, ...]):
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def _lingua_scores(text: str, languages: tuple[str, ...]) -> dict[str, float]:
    values = _lingua(languages).compute_language_confidence_values(text)
    return {value.language.iso_code_639_1.name.lower(): value.value for value in values}


def _langdetect_scores(text: str, languages: tuple[str, ...]) -> dict[str, float]:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # repeatable answers
    try:
        found = detect_langs(text)
    except LangDetectException:
        return {}
    scores: dict[str, float] = {}
    for item in found:
        code = item.lang.split("-")[0]
        if code in languages:
            scores[code] = scores.get(code, 0.0) + item.prob
    return scores


BACKENDS = {"lingua": _lingua_scores, "langdetect": _langdetect_scores}


def guess(text: str, languages: list[str], hint: str | None = None, backend: str = "lingua") -> tuple[str | None, float]:
    """The most likely language among `languages`, and how sure (0..1); never refuses to guess
    when there is a candidate. `detect` adds the rules for a live conversation."""
    candidates = list(languages)
    for pattern, script_languages in _SCRIPTS:
        if pattern.search(text):
            allowed = [c for c in script_languages if c in candidates]
            if len(allowed) == 1:
                return allowed[0], 1.0
            candidates = allowed or candidates
            break
    if not candidates:
        return None, 0.0
    if len(candidates) == 1:
        return candidates[0], 1.0
    scores = BACKENDS[backend](text, tuple(sorted(candidates)))
    if hint in scores:
        scores[hint] += HINT_BONUS
    if not scores:
        return None, 0.0
    best = max(scores, key=scores.get)
    return best, min(scores[best], 1.0)


def detect(text: str, languages: list[str], hint: str | None = None, backend: str = "lingua",
           min_confidence: float = THRESHOLD) -> str | None:
    """The language of a chat message, or None when it is too short or the detector is unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        # a few letters in an unambiguous script still count ("বাংলা" is not "ok")
        language, confidence = guess(text, languages, hint, backend) if _unambiguous_script(text) else (None, 0.0)
        return language if confidence == 1.0 else None
    language, confidence = guess(text, languages, hint, backend)
    return language if confidence >= min_confidence else None


def _unambiguous_script(text: str) -> bool:
    return any(pattern.search(text) for pattern, langs in _SCRIPTS[:4])


def folder_guessers(backend: str) -> dict:
    """What `onramp langid eval <folder>` can measure: a language for every text, never none."""
    return {backend: lambda text, languages: guess(text, languages, backend=backend)[0]}


def chat_identifiers(languages: list[str], backend: str) -> dict:
    """What `onramp langid eval <chat set>` measures: a language, or None to abstain."""
    return {backend: lambda text: detect(text, languages, backend=backend)}
