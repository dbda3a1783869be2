"""Which language a message is in, for a volunteer who has not chosen one.

`identify` is what the pipeline uses. Script first: Bengali, Devanagari and Han decide alone;
Arabic script is Arabic or Urdu and never a Latin-script language (letters only Urdu uses decide
Urdu). Then two detectors together: lingua, which knows long text, and the in-domain model
(bot/langid_model.py), trained on the campaign's own chat messages, which knows short chat and
romanized Hindi, Urdu, Bengali and Arabic. Every answer carries a calibrated confidence and a
status: detected (sure), guessed (a best guess and runners-up), or no clue at all (an emoji, "ok").

`guess` and `detect` are the statistical detector alone (lingua by default; langdetect can be
chosen in settings, LANGUAGE_DETECTOR), kept so the detectors can be compared (`onramp langid eval`).
"""
import re
from dataclasses import dataclass
from functools import lru_cache

MIN_LETTERS = 6
THRESHOLD = 0.5
HINT_BONUS = 0.15

_SCRIPTS = [
    (re.compile(r"[\u0980-\u09ff]"), ["bn"]),
    (re.compile(r"[\u0900-\u097f]"), ["hi"]),
    (re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"), ["zh"]),
    # letters of Urdu's alphabet that Arabic's has not (ٹ ڈ ڑ ں ے ہ ھ ک گ ی, پ چ ژ, ۂ ۃ ۓ) tell
    # Urdu from Arabic
    (re.compile(r"[\u0679\u0688\u0691\u06ba\u06d2\u06c1\u06be\u06a9\u06af\u06cc\u067e\u0686\u0698\u06c2\u06c3\u06d3]"),
     ["ur"]),
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


# Identification statuses
DETECTED, GUESSED, NO_CLUE = "detected", "guessed", "no_clue"
# Volunteer.language_source: asked for it (never overridden), detected, or only a best guess
# (the first reply offered the runners-up; any later clear message settles it)
LANGUAGE_CHOSEN, LANGUAGE_DETECTED, LANGUAGE_GUESSED = "chosen", "detected", "guessed"
# Tuned by cross-validation on data/nlu (`python -m bot.langid_tune`), never on the evaluation
# set: lingua's share of the Latin-script decision grows with length, and a language counts as
# detected at this calibrated confidence.
LINGUA_WEIGHT_SHORT, ARABIC_LINGUA_WEIGHT_SHORT, LINGUA_WEIGHT_LONG, LONG_WORDS = 0.3, 0.3, 0.8, 6
SURE = 0.65
# Fewer letters than this, outside the scripts that decide alone, say nothing ("ok", "hi", "no").
MIN_CLUE_LETTERS = 3
LATIN = ("en", "es", "fr")
# Hindi and Urdu written in Latin letters are one spoken language: the two together being sure
# is enough to answer in the likelier one (and offer the other).
ROMANIZED_TWINS = {"hi": "ur", "ur": "hi"}
# Written in Latin letters, these are romanized: the in-domain model's ground, not lingua's. From
# this in-domain share on, words it has not seen are not handed to lingua (tuned on the development
# sets, data/eval/langid-chat-dev*.tsv, with the shared word lists as a check).
ROMANIZED = ("ar", "bn", "hi", "ur", "zh")
ROMANIZED_KEEP, ROMANIZED_MIN_WORDS = 0.7, 2
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


@dataclass(frozen=True)
class Identification:
    language: str | None  # the best guess, even when unsure (None: no candidate at all)
    confidence: float
    status: str
    ranking: tuple[tuple[str, float], ...] = ()  # every candidate, most likely first

    @property
    def detected(self) -> str | None:
        return self.language if self.status == DETECTED else None

    def runners_up(self, floor: float = 0.1, most: int = 2) -> list[str]:
        """The other plausible languages, most likely first."""
        return [language for language, p in self.ranking[1:most + 1] if p >= floor]


def _ranked(scores: dict[str, float]) -> tuple[tuple[str, float], ...]:
    total = sum(scores.values()) or 1.0
    return tuple(sorted(((k, v / total) for k, v in scores.items()), key=lambda kv: (-kv[1], kv[0])))


def _in_domain(text: str, languages: list[str]) -> dict[str, float]:
    from bot.langid_model import model

    probabilities = model().probabilities(text)
    return {language: probabilities.get(language, 0.0) for language in languages}


def _known(text: str, language: str, in_domain: dict[str, float]) -> float:
    """How much of the text is words the chat data holds in this language. A word seen only in
    another language's chats does not count: the model leaning to French on a word it saw only in
    English chats is reading letters, and lingua reads the word better. Romanized Hindi, Urdu or
    Arabic, which lingua has never seen, is the exception: when the in-domain model reads the text
    as romanized (most of its own probability there), a word seen in any romanized language's
    chats counts ("theek" leans English once blended, and lingua would call it English)."""
    from bot.langid_model import model

    languages = {language}
    if _LATIN_LETTER.search(text) and sum(in_domain.get(code, 0.0) for code in ROMANIZED) >= 0.5:
        languages.update(ROMANIZED)
    return model().known(text, languages, loosely_spelled=ROMANIZED)


def _only_shared(text: str) -> bool:
    """Words chats in many languages use alike ("hello", "bye", "ok"): a best guess, never sure."""
    from bot.langid_model import model

    return model().only_shared(text)


def combine(text: str, in_domain: dict[str, float], lingua_latin, languages: list[str]) -> dict[str, float]:
    """In-domain probabilities, with lingua's view blended into the Latin-script languages' share.

    For Latin-script text lingua only tells English from Spanish from French (it has never seen
    romanized Hindi), so it reshares the mass the in-domain model gives those three, and the mass
    for romanized Hindi, Urdu, Bengali... stays the in-domain model's. The two views are multiplied
    (a weighted geometric mean), so where they agree the answer is surer than either alone."""
    latin = [language for language in LATIN if language in languages]
    if not _LATIN_LETTER.search(text) or len(latin) < 2:
        return dict(in_domain)
    weight = LINGUA_WEIGHT_LONG if len(text.split()) >= LONG_WORDS else LINGUA_WEIGHT_SHORT
    mass = sum(in_domain.get(language, 0.0) for language in latin)
    if mass <= 0:
        return dict(in_domain)
    lingua = lingua_latin(text, tuple(latin))
    lingua_total = sum(lingua.get(language, 0.0) for language in latin) or 1.0
    blended = {language: (in_domain.get(language, 0.0) / mass + 1e-3) ** (1 - weight)
               * (lingua.get(language, 0.0) / lingua_total + 1e-3) ** weight for language in latin}
    total = sum(blended.values())
    return {**in_domain, **{language: mass * value / total for language, value in blended.items()}}


def decided_by_script(text: str, languages: list[str]) -> bool:
    """The script alone tells the language (Bengali, Devanagari, Han, a letter only Urdu uses)."""
    return _script_candidates(text, languages)[1]


def _script_candidates(text: str, languages: list[str]) -> tuple[list[str], bool]:
    """The candidates the script allows, and whether the script alone decides."""
    for pattern, script_languages in _SCRIPTS:
        if pattern.search(text):
            allowed = [c for c in script_languages if c in languages]
            if allowed:
                return allowed, len(allowed) == 1
            break
    return list(languages), False


def identify(text: str, languages: list[str], hint: str | None = None, backend: str = "lingua",
             use_lingua: bool = True, in_domain=None, known_share: float | None = None) -> Identification:
    """The language of a chat message: detected, guessed (with runners-up) or no clue.

    `in_domain` replaces the in-domain model's probabilities (cross-validation uses held-out ones)."""
    letters = sum(ch.isalpha() for ch in text)
    if letters == 0 or not languages:
        ranking = ((hint, 1.0),) if hint in languages else ()
        return Identification(hint if hint in languages else None, 0.0, NO_CLUE, ranking)
    candidates, decided = _script_candidates(text, languages)
    if decided:
        return Identification(candidates[0], 1.0, DETECTED, ((candidates[0], 1.0),))
    probabilities = in_domain if in_domain is not None else _in_domain(text, candidates)
    scores = {c: probabilities.get(c, 0.0) for c in candidates}
    if use_lingua and len(candidates) > 1:
        lingua = BACKENDS[backend]
        if set(candidates) <= {"ar", "ur"}:
            blended = _arabic_script(text, scores, lingua)
        else:
            blended = combine(text, scores, lingua, candidates)
        # Words the chat data never held are lingua's ground (news, long messages): the in-domain
        # view counts as much as the text is made of words it has seen (or chat spellings of
        # words seen in the language it leans to).
        leader = max(blended, key=blended.get)
        known = _known(text, leader, scores) if known_share is None else known_share
        total = sum(blended.values()) or 1.0
        if (leader in ROMANIZED and _LATIN_LETTER.search(text) and len(text.split()) >= ROMANIZED_MIN_WORDS
                and blended[leader] / total >= ROMANIZED_KEEP):
            # lingua has never seen romanized Hindi, Urdu, Bengali or Arabic: it reads "keef
            # halak" as English. A clear in-domain reading of a few such words is not handed
            # over (one unseen word is too little to overrule lingua: "bank" is not Urdu).
            known = 1.0
        if known < 1.0:
            alone = lingua(text, tuple(sorted(candidates)))
            blended_total, alone_total = sum(blended.values()) or 1.0, sum(alone.values()) or 1.0
            blended = {c: known * blended[c] / blended_total + (1 - known) * alone.get(c, 0.0) / alone_total
                       for c in candidates}
        scores = blended
    ranking = _ranked(scores)
    best, confidence = ranking[0]
    if hint in scores and hint != best and confidence < SURE:
        # a hint (a phone's country, a browser's language) settles a close call, never a sure one
        hinted = dict(ranking)
        hinted[hint] += HINT_BONUS
        ranking = _ranked(hinted)
        best, confidence = ranking[0]
    few_letters = letters < MIN_CLUE_LETTERS and set(candidates) - {"ar", "ur"}
    sure = confidence
    if best in ROMANIZED_TWINS and _LATIN_LETTER.search(text):
        sure += dict(ranking).get(ROMANIZED_TWINS[best], 0.0)
    if sure >= SURE and not few_letters and not _only_shared(text):
        return Identification(best, confidence, DETECTED, ranking)
    return Identification(best, confidence, NO_CLUE if few_letters else GUESSED, ranking)


def _arabic_script(text: str, in_domain: dict[str, float], lingua_scores) -> dict[str, float]:
    """Arabic or Urdu without an Urdu-only letter: lingua knows the two apart in longer text, the
    in-domain model in chat; a weighted geometric mean of both."""
    weight = LINGUA_WEIGHT_LONG if len(text.split()) >= LONG_WORDS else ARABIC_LINGUA_WEIGHT_SHORT
    lingua = lingua_scores(text, tuple(sorted(in_domain)))
    own_total = sum(in_domain.values()) or 1.0
    lingua_total = sum(lingua.values()) or 1.0
    return {c: (in_domain[c] / own_total + 1e-3) ** (1 - weight) * (lingua.get(c, 0.0) / lingua_total + 1e-3) ** weight
            for c in in_domain}


def folder_guessers(backend: str) -> dict:
    """What `onramp langid eval <folder>` can measure: a language for every text, never none."""
    return {
        backend: lambda text, languages: guess(text, languages, backend=backend)[0],
        "in-domain": lambda text, languages: identify(text, languages, backend=backend, use_lingua=False).language,
        "combined": lambda text, languages: identify(text, languages, backend=backend).language,
    }


def chat_identifiers(languages: list[str], backend: str) -> dict:
    """What `onramp langid eval <chat set>` measures: a language, or None to abstain."""
    return {
        backend: lambda text: detect(text, languages, backend=backend),
        "in-domain": lambda text: identify(text, languages, backend=backend, use_lingua=False).detected,
        "combined": lambda text: identify(text, languages, backend=backend).detected,
    }
