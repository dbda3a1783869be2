"""How bot/revocation.py reads a message: the text folded, cut into words and clauses, and the
spans of every word class of the lexicon (bot/revocation.yml) found in it. The rules that combine
those spans into a verdict are in bot/revocation.py."""
import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

LEXICON = Path(__file__).resolve().parent / "revocation.yml"

GAP_DEFAULT = 3  # "~" in an entry

# Vetoes that govern the clause they are in; the other classes below only veto, hedge, mask or cut.
VETO_IN_CLAUSE = ("shift", "activity", "time_word", "moment", "time_q", "instead", "prev_msg", "not_arriving", "miss",
                  "third_party")
NOT_CONSTRUCTS = {"hedge", "soften", "soften_removal", "mask", "boundary", "filler", "alone", "correction", "about_word",
                  "question", "number", "new_number", "time_before", "clock", "ask_channel", "weak_keyword", "done",
                  "bare_no", "filler_object", *VETO_IN_CLAUSE}


# --- folding ---------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "＇": "'"})
# Arabic script: harakat, shadda, superscript alef and tatweel go; hamza-carrying alefs become
# alef, and the letters Arabic and Urdu keyboards type differently for the same sound (yeh, heh,
# teh marbuta) become one. Kaf stays apart: Urdu کل ("tomorrow") is not Arabic كل ("every").
_ARABIC_MARKS = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ی", "ي": "ی", "ئ": "ی",
                                 "ة": "ہ", "ه": "ہ", "ۀ": "ہ", "ؤ": "و"})
# Devanagari and Bengali: nukta off (ज़ = ज, য় = য), candrabindu as anusvara (हाँ = हां).
_INDIC = str.maketrans({"\u093c": None, "\u09bc": None, "\u0901": "\u0902", "\u0981": "\u0982",
                        "\u200c": None, "\u200d": None})
_CLAUSE_END = set(".,;:!?…。，、！？；：،؛؟۔।॥\n")
_QUESTION = set("?？؟")
# Placeholders that carry an entry's wildcards through folding (private-use letters).
_STAR, _ANY = "\ue000", "\ue001"


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x2FFFF or 0x3040 <= code <= 0x30FF)


def is_latin(char: str) -> bool:
    return char.isascii() or 0x00C0 <= ord(char) <= 0x024F or 0x1E00 <= ord(char) <= 0x1EFF


def fold(text: str) -> str:
    """NFKC, casefold, one form per letter in each script, traditional Chinese as simplified.
    Latin accents stay (bare() takes them off)."""
    text = unicodedata.normalize("NFKC", text or "").casefold().translate(_APOSTROPHES)
    text = "".join(ch for ch in text if ch not in _ARABIC_MARKS).translate(_ARABIC_LETTERS).translate(_INDIC)
    simplified = _traditional()
    return "".join(simplified.get(ch, ch) for ch in text)


def bare(word: str) -> str:
    """The word without the accents of its Latin letters: "más" -> "mas", "écrivez" -> "ecrivez"."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.category(ch) == "Mn" and out and is_latin(out[-1]):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@dataclass(frozen=True)
class Token:
    kept: str   # folded, accents kept
    bare: str   # accents off: what most entries compare with
    cjk: bool   # a Chinese character (or kana): a word of its own, half a word long


@dataclass(frozen=True)
class Break:
    """Where a clause ends; `question`: it ended with a question mark."""
    question: bool = False


def is_word(item) -> bool:
    return isinstance(item, Token)


def tokens(text: str) -> list[Token | Break]:
    """Words (each Chinese character one word), with a Break where a clause ends."""
    out: list[Token | Break] = []
    word: list[str] = []

    def flush():
        if word:
            kept = "".join(word)
            out.append(Token(kept, bare(kept), False))
            word.clear()

    for ch in fold(text):
        if _is_cjk(ch):
            flush()
            out.append(Token(ch, ch, True))
        elif ch in (_STAR, _ANY) or unicodedata.category(ch)[0] in "LMN":
            word.append(ch)
        elif ch in _CLAUSE_END:
            flush()
            if out and not is_word(out[-1]):
                out[-1] = Break(out[-1].question or ch in _QUESTION)
            elif out:
                out.append(Break(ch in _QUESTION))
        else:
            flush()
    flush()
    return out


# --- the lexicon -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Gap:
    most: int


@dataclass(frozen=True)
class Word:
    text: str
    strict: bool = False               # compare with the accents kept
    pattern: re.Pattern | None = None  # a word with wildcards

    def matches(self, token: Token) -> bool:
        value = token.kept if self.strict else token.bare
        return self.pattern.fullmatch(value) is not None if self.pattern else value == self.text


@dataclass(frozen=True)
class Entry:
    cls: str
    language: str
    parts: tuple  # of Word and Gap


def _entry(cls: str, language: str, raw: str) -> Entry | None:
    parts: list = []
    for piece in raw.split():
        if re.fullmatch(r"~\d*", piece):
            parts.append(Gap(int(piece[1:] or GAP_DEFAULT)))
            continue
        strict = piece.startswith("=")
        piece = piece.lstrip("=").replace("*", _STAR).replace("?", _ANY)
        for token in tokens(piece):
            if not is_word(token):
                continue
            value = token.kept if strict else token.bare
            if _STAR in value or _ANY in value:
                glob = value.replace(_STAR, "*").replace(_ANY, "?")
                parts.append(Word(value, strict, re.compile(fnmatch.translate(glob), re.S)))
            else:
                parts.append(Word(value, strict))
    while parts and isinstance(parts[0], Gap):
        parts.pop(0)
    while parts and isinstance(parts[-1], Gap):
        parts.pop()
    return Entry(cls, language, tuple(parts)) if parts else None


@dataclass
class Lexicon:
    by_first: dict[str, list[Entry]] = field(default_factory=dict)  # first word plain: found by it
    # first word with a wildcard (or strict): by the first letter it must start with, and those
    # that may start with any letter ("*رسايل")
    by_initial: dict[str, list[Entry]] = field(default_factory=dict)
    any_initial: dict[str, list[Entry]] = field(default_factory=dict)  # by script

    def candidates(self, word: Token) -> list[Entry]:
        initial = word.bare[:1]
        return [*self.by_first.get(word.bare, ()), *self.by_initial.get(initial, ()),
                *(self.by_initial.get(word.kept[:1], ()) if word.kept[:1] != initial else ()),
                *self.any_initial.get(_script(word.kept), ())]


def _script(text: str) -> str:
    """The script of the first letter: an entry like "*رسايل" can only match an Arabic-script word."""
    for ch in text:
        if ch in (_STAR, _ANY) or not ch.isalpha():
            continue
        code = ord(ch)
        if is_latin(ch):
            return "latin"
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            return "arabic"
        if 0x0900 <= code <= 0x097F:
            return "devanagari"
        if 0x0980 <= code <= 0x09FF:
            return "bengali"
        return "cjk" if _is_cjk(ch) else "other"
    return "other"


@lru_cache
def lexicon_data() -> dict:
    return yaml.safe_load(LEXICON.read_text(encoding="utf-8"))


@lru_cache
def _traditional() -> dict[str, str]:
    return {str(k): str(v) for k, v in (lexicon_data().get("traditional") or {}).items()}


@lru_cache
def lexicon() -> Lexicon:
    found = Lexicon()
    for cls, by_language in lexicon_data()["classes"].items():
        for language, entries in by_language.items():
            for raw in str(entries).split("|"):
                entry = _entry(cls, language, raw.strip())
                if entry is None:
                    continue
                first = entry.parts[0]
                if first.pattern is None and not first.strict:
                    found.by_first.setdefault(first.text, []).append(entry)
                elif first.text[:1] in (_STAR, _ANY, ""):
                    found.any_initial.setdefault(_script(first.text), []).append(entry)
                else:
                    found.by_initial.setdefault(first.text[:1], []).append(entry)
    return found


# --- finding the classes in a message ------------------------------------------------------

@dataclass(frozen=True)
class Span:
    cls: str
    start: int  # word index
    end: int    # exclusive
    clause: int
    language: str


def _match(parts: tuple, words: list, at: int) -> int | None:
    """The end of the shortest match of `parts` at `at`, never across a clause break."""
    if not parts:
        return at
    part, rest = parts[0], parts[1:]
    if isinstance(part, Gap):
        for skip in range(part.most + 1):
            if at + skip > len(words) or not all(is_word(w) for w in words[at:at + skip]):
                break
            end = _match(rest, words, at + skip)
            if end is not None:
                return end
        return None
    if at >= len(words) or not is_word(words[at]) or not part.matches(words[at]):
        return None
    return _match(rest, words, at + 1)


def _find(words: list) -> list[tuple[Entry, int, int]]:
    """Every entry of the lexicon found in the words: (entry, start, end)."""
    lex = lexicon()
    found = []
    for at, word in enumerate(words):
        if not is_word(word):
            continue
        for entry in lex.candidates(word):
            if entry.parts[0].matches(word):
                end = _match(entry.parts, words, at)
                if end is not None:
                    found.append((entry, at, end))
    return found


class Text:
    """A message as words cut into clauses, with the spans of every class found in it."""

    def __init__(self, text: str):
        words = tokens(text)
        every = _find(words)
        # conjunctions cut clauses too ("remove me from saturday's shift but keep me for sunday")
        cuts = {i for e, start, end in every if e.cls == "boundary" for i in range(start, end)}
        self.words = [Break() if i in cuts else w for i, w in enumerate(words)]
        self.clause: list[int] = []
        self.pos: list[float] = [0.0]  # the weighted position before each word
        self.asking: set[int] = set()  # clauses that end with a question mark
        clause = 0
        for word in self.words:
            if not is_word(word):
                if word.question:
                    self.asking.add(clause)
                clause += 1
            self.clause.append(clause)
            self.pos.append(self.pos[-1] + (0.5 if is_word(word) and word.cjk else 1.0))
        found = [Span(e.cls, start, end, self.clause[start], e.language) for e, start, end in every
                 if e.cls != "boundary" and not cuts.intersection(range(start, end))]
        # the languages of each (class, place): one word can be an entry in several
        self.langs: dict[tuple[str, int, int], set[str]] = {}
        for span in found:
            self.langs.setdefault((span.cls, span.start, span.end), set()).add(span.language)
        masks = [s for s in found if s.cls == "mask"]
        more = [s for s in found if s.cls == "more"]
        hedges = [s for s in found if s.cls == "hedge"]
        fillers = [s for s in found if s.cls == "filler"]
        self.spans: dict[str, list[Span]] = {}
        for span in found:
            if span.cls not in NOT_CONSTRUCTS and any(overlap(span, m) for m in masks):
                continue  # "stop by", "don't worry": these words say nothing here
            if span.cls == "time_word" and any(inside(span, m) and m.end - m.start > span.end - span.start
                                               for m in more):
                continue  # "after today", "a partir de hoy": from now on, not one day
            if span.cls == "moment" and any(inside(span, h) and h.end - h.start > span.end - span.start
                                            for h in hedges):
                continue  # "por ahora", "for now": a hedge, not a moment
            if span.cls in VETO_IN_CLAUSE and any(inside(span, f) and f.end - f.start > span.end - span.start
                                                  for f in fillers):
                continue  # "il" in "s'il vous plaît"
            self.spans.setdefault(span.cls, []).append(span)

    def get(self, *classes: str) -> list[Span]:
        return [span for cls in classes for span in self.spans.get(cls, ())]

    def gap(self, a: Span, b: Span) -> float:
        """Words between two spans of one clause (0 when they touch or overlap; inf across clauses)."""
        if a.clause != b.clause:
            return float("inf")
        if overlap(a, b):
            return 0.0
        first, second = (a, b) if a.start < b.start else (b, a)
        return self.pos[second.start] - self.pos[first.end]

    def near(self, a: Span, classes: tuple[str, ...] | str, most: float) -> list[Span]:
        classes = (classes,) if isinstance(classes, str) else classes
        return [b for b in self.get(*classes) if self.gap(a, b) <= most]

    def in_clause(self, clause: int, *classes: str) -> list[Span]:
        return [s for s in self.get(*classes) if s.clause == clause]

    def clause_words(self, clause: int) -> list[int]:
        return [i for i, w in enumerate(self.words) if is_word(w) and self.clause[i] == clause]

    def clauses(self) -> list[int]:
        return sorted({self.clause[i] for i, w in enumerate(self.words) if is_word(w)})

    def covered(self, clause: int, *classes: str) -> set[int]:
        return {i for s in self.in_clause(clause, *classes) for i in range(s.start, s.end)}

    def languages(self, span: Span) -> set[str]:
        return self.langs.get((span.cls, span.start, span.end), {span.language} if span.language else set())


def overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def inside(a: Span, b: Span) -> bool:
    return b.start <= a.start and a.end <= b.end
