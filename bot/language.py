"""Which language a message is in, for a volunteer who has not chosen one.

Script first (Bengali, Devanagari, Han, Arabic letters), then a statistical detector restricted
to the campaign's languages, with hints and a confidence threshold. Short or ambiguous messages
("ok", "sí", "1", an emoji) detect nothing, so the current language holds.
"""
import re
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

MIN_LETTERS = 6
THRESHOLD = 0.5
HINT_BONUS = 0.15

_SCRIPTS = [
    (re.compile(r"[\u0980-\u09ff]"), ["bn"]),
    (re.compile(r"[\u0900-\u097f]"), ["hi"]),
    (re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]"), ["zh"]),
    # Urdu-only letters (ٹ ڈ ڑ ں ے ہ ھ ک گ ی) tell Urdu from Arabic
    (re.compile(r"[\u0679\u0688\u0691\u06ba\u06d2\u06c1\u06be\u06a9\u06af\u06cc]"), ["ur"]),
    (re.compile(r"[\u0600-\u06ff]"), ["ar", "ur"]),
]


@lru_cache
def _detector(languages: tuple[str, ...]):
    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    if len(langs) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect(text: str, languages: list[str], hint: str | None = None) -> str | None:
    """The language of `text` among `languages`, or None when the text is too short or unsure."""
    letters = sum(ch.isalpha() for ch in text)
    for pattern, candidates in _SCRIPTS:
        if pattern.search(text):
            allowed = [c for c in candidates if c in languages]
            if len(allowed) == 1:
                return allowed[0]
            languages = allowed or languages
            break
    if letters < MIN_LETTERS or len(languages) == 0:
        return None
    if len(languages) == 1:
        return languages[0]
    detector = _detector(tuple(sorted(languages)))
    scores = {
        value.language.iso_code_639_1.name.lower(): value.value
        for value in detector.compute_language_confidence_values(text)
    }
    if hint in scores:
        scores[hint] += HINT_BONUS
    best = max(scores, key=scores.get)
    return best if scores[best] >= THRESHOLD else None
