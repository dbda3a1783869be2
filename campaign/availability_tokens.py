"""Step 1 of reading availability (campaign/availability.py): the text as tokens.

The lexicon's phrases (days, parts of day, connectors such as "to"/"a"/"إلى"/"से", "after"/"before",
hour markers) and the numbers, found longest first. The words live in lexicon/availability.yml,
one block per language, so a new language is data. Digits of every script are read as ASCII
digits first (campaign/digits.py). A Latin-script word typed a letter off a day or a part of day
("mornin", "samdi", "aftrnoon") is read as that word first.
"""
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex
import yaml
from rapidfuzz.distance import OSA

from campaign.digits import fold_digits

# what the lexicon's words mean: the days and parts of day of a weekly slot ("sat:morning")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("morning", "afternoon", "evening")
GROUPS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "any": DAYS}
LEXICON = Path(__file__).resolve().parent / "lexicon" / "availability.yml"

# Which lexicon lists make which tokens. Connectors and markers only mean something next to a
# day or a number; alone they are ignored. The words that take days out (except, except_after,
# busy) and end their reach (break) come last, so a phrase listed as a connector stays one.
_TOKEN_KINDS = {"and": "and", "range": "range", "until": "until", "after": "after", "before": "before",
                "between": "between", "hour": "hour", "am": "am", "pm": "pm", "count": "count", "not_time": "not_time",
                "on_day": "on", "except": "except", "except_after": "except_after", "busy": "busy", "break": "break"}
EXCEPTING = {"except", "except_after", "busy"}
MARKERS = {"hour", "am", "pm"}          # stick to a number: "18h", "9am", "৬টার", "6点"
_SPACELESS = {"zh"}
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ی", "ي": "ی", "ك": "ک",
                              "ة": "ہ", "ه": "ہ", "ۀ": "ہ", "ە": "ہ", "’": "'", "‘": "'", "،": ",", "，": ",",
                              "–": "-", "—": "-", "~": "-", "～": "-"})
# vowel marks that Arabic and Urdu writers add or leave out, the tatweel, and the nukta
# (Devanagari/Bengali writers type वक़्त and वक्त alike)
_DROPPED = regex.compile(r"[\u064B-\u065F\u0670\u0640\u093C\u09BC]")
# In chat Arabic digits are letters ("sob7", "7ad", "2abl"): a number is not glued to Latin
# letters, except an hour marker after it ("18h", "9am", "4pm")
_NUMBER = regex.compile(r"(?<![\p{Latin}\d.:])(\d{1,2})(?:[:.h](\d{2}))?(?![\d])"
                        r"(?:(?!\p{Latin})|(?=(?:h|hrs?|hs|am|pm|a\.m|p\.m)(?!\p{Latin})))")


def normalize(text: str) -> str:
    """Case-folded, Latin accents off, digits ASCII, Arabic-script letter variants folded."""
    out: list[str] = []
    base = ""
    for char in unicodedata.normalize("NFKD", fold_digits(text).casefold()):
        if unicodedata.combining(char):
            # only Latin accents go; marks are parts of letters in Bengali, Devanagari, Arabic
            if base and base < "\u0250":
                continue
        else:
            base = char
        out.append(char)
    text = unicodedata.normalize("NFC", "".join(out))
    return _DROPPED.sub("", text).translate(_ARABIC_FOLD)


@dataclass
class Token:
    start: int
    end: int
    kind: str                 # day, part, num, and, range, until, after, before, ...
    value: object = None      # days (tuple) / parts (tuple) / hour (float)
    group: bool = False       # a day token naming several days (weekend, a range)
    timed: bool = False       # a word that is a time by itself: "noon", "midi"
    joined: str = ""          # a clitic glued in front: "and" (Arabic و), "to" (Arabic ل)
    parts: tuple = ()         # a day token that says its part too: "weeknights"
    short: bool = False       # an abbreviation that is a day only next to other time words
    spelled: bool = False     # an hour written as a word ("七", "six"): needs more to be a time
    early: bool = False       # an early-morning word: bare hours near it are am


@dataclass
class _Entry:
    kind: str
    value: object = None
    group: bool = False
    timed: bool = False
    joined: str = ""
    spaceless: bool = False
    short: bool = False
    spelled: bool = False
    early: bool = False


@lru_cache
def numbered_days() -> tuple[str, ...]:
    """Words that name a day by its number ("星期" + 五 = Friday), from the lexicon."""
    blocks = yaml.safe_load(LEXICON.read_text(encoding="utf-8")).values()
    return tuple(normalize(word) for block in blocks for word in block.get("numbered_days") or [])


@lru_cache
def _lexicon() -> tuple[regex.Pattern, dict[str, _Entry]]:
    """One pattern for every phrase of every language (longest first at each place)."""
    entries: dict[str, _Entry] = {}

    def add(word: str, entry: _Entry, block: dict) -> None:
        if isinstance(word, bool):
            raise ValueError(f"{word!r} in {LEXICON.name}: quote it, YAML read a word such as on/no/yes as a boolean")
        key = normalize(str(word)).strip()
        if not key:
            return
        variants = {key: ""}
        for prefix, role in (block.get("prefixes") or {}).items():
            glued = normalize(prefix) + key
            for before, after in (block.get("elisions") or {}).items():
                glued = glued.replace(normalize(before), normalize(after))
            variants.setdefault(glued, role or "")
        for suffix in block.get("suffixes") or []:
            variants.setdefault(key + normalize(suffix), "")
        for variant, role in variants.items():
            entries.setdefault(variant, _Entry(entry.kind, entry.value, entry.group, entry.timed, role, entry.spaceless,
                                               entry.short, entry.spelled, entry.early))

    for language, block in yaml.safe_load(LEXICON.read_text(encoding="utf-8")).items():
        spaceless = language in _SPACELESS
        for value, words in (block.get("days") or {}).items():
            for word in words:
                add(word, _Entry("day", GROUPS.get(value, (value,)), group=value in GROUPS, spaceless=spaceless), block)
        for value, words in (block.get("short_days") or {}).items():
            for word in words:
                add(word, _Entry("day", (value,), spaceless=spaceless, short=True), block)
        for value, words in (block.get("parts") or {}).items():
            for word in words:
                add(word, _Entry("part", PARTS if value == "any" else (value,), spaceless=spaceless), block)
        for word in block.get("early") or []:
            add(word, _Entry("part", ("morning",), spaceless=spaceless, early=True), block)
        for word in block.get("noon") or []:
            add(word, _Entry("noon", ("afternoon",), spaceless=spaceless), block)
        for value, words in (block.get("slots") or {}).items():
            day, part = value.split(":")
            for word in words:
                add(word, _Entry("slot", (GROUPS.get(day, (day,)), (part,)), group=day in GROUPS, spaceless=spaceless), block)
        for hour, words in (block.get("numbers") or {}).items():
            for word in words:
                add(word, _Entry("num", float(hour), spaceless=spaceless, spelled=True), block)
        for hour, words in (block.get("clock") or {}).items():
            for word in words:
                add(word, _Entry("num", float(hour), timed=True, spaceless=spaceless), block)
        for name, kind in _TOKEN_KINDS.items():
            for word in block.get(name) or []:
                add(word, _Entry(kind, spaceless=spaceless), block)

    words, markers, bare = [], [], []
    for key in sorted(entries, key=lambda k: -len(k)):
        entry = entries[key]
        if entry.spaceless or not regex.search(r"\w", key):
            bare.append(regex.escape(key))
        elif entry.kind in MARKERS:
            markers.append(regex.escape(key))
        else:
            words.append(regex.escape(key))
    # a word ends where letters and their vowel signs (\p{M}: Bengali, Devanagari) end; a
    # marker may touch a number ("18h", "9am", "৬টার") but not another letter
    pattern = (rf"(?<![\w\p{{M}}])(?:{'|'.join(words)})(?![\w\p{{M}}])"
               rf"|(?<![^\W\d_]|\p{{M}})(?:{'|'.join(markers)})(?![^\W\d_]|\p{{M}})"
               rf"|(?:{'|'.join(bare)})")
    return regex.compile(pattern), entries


# dates and phone numbers ("2026-12-05", "5/12", "718-555-0100") hold no hours
_DATE = regex.compile(r"\d+([-/.])\d+\1\d+|\d+/\d+")


def tokens_of(key: str) -> list[Token]:
    """The numbers and the lexicon's phrases in a normalized text, in order of place."""
    found: list[Token] = []
    for match in _NUMBER.finditer(_DATE.sub(lambda m: " " * len(m.group()), key)):
        hour, minutes = int(match.group(1)), int(match.group(2) or 0)
        if hour <= 24 and minutes < 60:
            # "18h30", "5:30" are times by their form
            found.append(Token(match.start(), match.end(), "num", hour + minutes / 60, timed=match.group(2) is not None))
    # numbers are blanked (same length, so places keep) before the words are read
    blank = list(key)
    for token in found:
        blank[token.start:token.end] = " " * (token.end - token.start)
    pattern, entries = _lexicon()
    for match in pattern.finditer("".join(blank)):
        entry = entries[match.group()]
        if entry.kind == "slot":
            days, parts = entry.value
            found.append(Token(match.start(), match.end(), "day", days, entry.group, joined=entry.joined, parts=parts))
        else:
            found.append(Token(match.start(), match.end(), entry.kind, entry.value, entry.group, entry.timed, entry.joined,
                                short=entry.short, spelled=entry.spelled, early=entry.early))
    found.sort(key=lambda t: (t.start, t.end))
    return [t for i, t in enumerate(found) if not t.short or _among_time_words(found, i, key)]


# Typos and clipped words in chat ("sat mornin", "samdi matin"): a Latin-script word the lexicon
# does not know, of RESPELL_MIN letters or more, is read as the one day or part-of-day word of
# RESPELL_TARGET_MIN letters or more an edit away (adjacent letters swapped count as one; two
# edits from RESPELL_TWO_FROM letters) with the same first letter. Short words stay as typed
# ("even" is no "eve"), and short time words are no targets: names are short too, and the form
# reads a time from every message ("Bilal" is no "bikal", Bengali for afternoon). Words that begin
# differently ("might" is no "night"), numbers and connectors stay as typed too.
RESPELL_MIN = 5
RESPELL_TARGET_MIN = 6
RESPELL_TWO_FROM = 8
_RESPELL_KINDS = {"day", "part", "slot"}
_LATIN_WORD = regex.compile(r"(?<![\w\p{M}])\p{Latin}{%d,}(?![\w\p{M}])" % RESPELL_MIN)


@lru_cache
def _respellable() -> tuple[dict[str, list[str]], frozenset[str]]:
    """Single lexicon words a typo may be read as (by first letter), and every word the lexicon
    holds inside any phrase: those are words, not typos ("mañana" of "por la mañana" is
    "tomorrow" alone, not a misspelt "mañanas")."""
    _, entries = _lexicon()
    by_first: dict[str, list[str]] = {}
    known: set[str] = set()
    for phrase, entry in entries.items():
        known.update(regex.findall(r"[\w\p{M}]+", phrase))
        if entry.kind in _RESPELL_KINDS and not entry.short and regex.fullmatch(r"\p{Latin}{%d,}" % RESPELL_TARGET_MIN, phrase):
            by_first.setdefault(phrase[0], []).append(phrase)
    return by_first, frozenset(known)


def respelled(key: str) -> str:
    _, entries = _lexicon()
    candidates, known = _respellable()

    def nearest(match: regex.Match) -> str:
        word = match.group()
        if word in known:
            return word
        limit = 1 if len(word) < RESPELL_TWO_FROM else 2
        close = [(OSA.distance(word, known, score_cutoff=limit), known) for known in candidates.get(word[0], ())]
        close = [(distance, known) for distance, known in close if distance <= limit]
        if not close:
            return word
        best = min(distance for distance, _ in close)
        meanings = {(entries[known].kind, entries[known].value) for distance, known in close if distance == best}
        # two words as near that mean different things: a guess either way, so no guess
        return next(known for distance, known in close if distance == best) if len(meanings) == 1 else word

    return _LATIN_WORD.sub(nearest, key)


_TIME_WORDS = {"day", "part", "range", "until", "num", "and", "am", "pm", "on", "noon"}
_TOUCHING = regex.compile(r"[\s,/&+\-.]*")
_CLAUSE_END = regex.compile(r"\s*(?:[,.;!?\n]|$)")


def _among_time_words(tokens: list[Token], i: int, key: str) -> bool:
    """"mon-wed", "sat 9am", "dim soir", "free on sat": an abbreviation next to other time
    words is a day; "après mon travail" (French "my") and "I'm Sam" are not. After an except
    word it is a day where the clause ends with it ("every day except fri"), not in "c'est pas
    mon truc"."""
    if i > 0 and tokens[i - 1].kind == "except" and _TOUCHING.fullmatch(key[tokens[i - 1].end:tokens[i].start]) \
            and _CLAUSE_END.match(key, tokens[i].end):
        return True
    for j in (i - 1, i + 1):
        # "on sat", "le dim", but not "ven el domingo" (Spanish "come on Sunday")
        if 0 <= j < len(tokens) and tokens[j].kind in _TIME_WORDS and (j < i or tokens[j].kind != "on"):
            first, second = sorted((tokens[i], tokens[j]), key=lambda t: t.start)
            if _TOUCHING.fullmatch(key[first.end:second.start]):
                return True
    return False
