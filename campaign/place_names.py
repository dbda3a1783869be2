"""Find the place a free text names among a list of names and aliases (neighborhoods and
boroughs, in any script), with no database: campaign/turf.py hands it the turf's names.

Two passes. First the exact names and aliases: spaCy's PhraseMatcher on a blank multilingual
pipeline (no model to download), and substrings for scripts written without spaces (Chinese).
Then, for names as people spell them in their own script, every word is transliterated to
Latin (anyascii), grammatical endings and prepositions are taken off as the language's lexicon
says (campaign/lexicon/places.yml), and runs of words are compared with every name and alias
twice: as folded Latin letters, and as a consonant key (Metaphone without its vowels), because
Arabic and Urdu leave short vowels unwritten and Bengali or Devanagari spell English vowels
their own way. A place word that Spanish, French or Arabic put first ("isla Roosevelt") is also
read in English order. Chinese names are translations or set renderings, so they come from the
turf's aliases and the lexicon, never from the sound of pinyin. Aliases that are stations, streets
or landmarks are read by campaign/landmarks.py, with this matcher's two passes.
"""
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jellyfish
import regex
import spacy
import yaml
from anyascii import anyascii
from rapidfuzz import fuzz, process
from spacy.matcher import PhraseMatcher

LEXICON = Path(__file__).parent / "lexicon" / "places.yml"
# What supporters write when they are not naming a place: the examples of the assistant's other
# intents (asking for a person, stopping, greeting...). Their common words ("करनी", "کرنی": to
# do) are no place names, however a name's consonants agree with them ("Corona": KRN).
NLU_DATA = Path(__file__).resolve().parent.parent / "data" / "nlu"
# intents whose examples never name a place (a shift to move or a question may, so not those)
NO_PLACE_INTENTS = {"greet", "goodbye", "thanks", "affirm", "deny", "ask_human", "opt_out", "help", "change_language"}
ORDINARY_MIN_EXAMPLES = 2  # a word in this many such examples of its language is an ordinary word
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A Han character is a word of its own (Chinese has no spaces); other scripts split on spaces
# and punctuation, keeping a word's apostrophe ("l'Upper", "Hell's").
_WORD = regex.compile(r"\p{Han}|[[\p{L}\p{M}\p{N}]--\p{Han}]+(?:['’][[\p{L}\p{M}]--\p{Han}]+)*", regex.V1)
_PUNCTUATION = regex.compile(r"[,;:!?，。！？、；：]")  # between clauses (not a hyphen or "St.")
MAX_WORDS, MAX_HAN = 4, 6  # longest run of words compared with a name
# Loose matches must be this close (rapidfuzz ratio, 0-100). Consonant keys are short, so a
# short key must agree exactly and the letters must still look alike.
LETTERS_CUTOFF, KEY_CUTOFF, KEY_EXACT_MAX = 86, 86, 4
BARE_FLOOR, SHORT_BARE_FLOOR, LATIN_FLOOR = 60, 65, 65  # how alike the consonants must still be
MIN_KEY, MIN_LETTERS, MIN_TARGET = 3, 5, 6
TWO_CONSONANTS, MIN_TWO_LETTERS = 2, 4  # a two-consonant name, read from a word this long
MIN_OWN_KEY = 2  # consonants the untranslated words of a half-translated name carry ("isla coney")
MIN_HAN_KEY = 5  # pinyin of any two characters looks like some short name
NO_KEY = 10**6  # no consonant key is this long: the sound is not compared
WORD_BONUS, PRIMARY_BONUS = 1.0, 0.5


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
    return unicodedata.normalize("NFC", "".join(out)).replace("’", "'")


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    forms: tuple[str, ...]  # Latin spellings: as written, then without a prefix or an ending
    skip: bool = False  # a preposition, "I live", ...
    part: bool = False  # one place word translated (上 "upper", "isla"): never a place alone
    written_in_latin: bool = False
    # a Chinese character with no translation: spelled in pinyin, its sound says nothing, since
    # Chinese place names are translations or conventional renderings, not transliterations
    pinyin: bool = False
    head: bool = False  # a place word put before the name ("isla", "île", "جزيرة"): island, park...
    translated: bool = False


class Lexicon:
    """The per-language data of campaign/lexicon/places.yml, merged: a Bengali ending never
    appears on a Latin word, so every rule can be tried on every word."""

    def __init__(self, data: dict):
        self.letters: dict[str, str] = {}
        self.prefixes: set[str] = set()
        self.articles: set[str] = set()
        self.suffixes: set[str] = set()
        self.sounds: list[tuple[str, str]] = []
        self.words: set[tuple[str, ...]] = set()
        self.translations: dict[tuple[str, ...], str] = {}
        self.heads: set[str] = set()
        for entry in data.values():
            self.heads.update(entry.get("heads") or [])
            self.letters.update(entry.get("letters") or {})
            self.prefixes.update(normalize(p) for p in entry.get("prefixes") or [])
            self.articles.update(normalize(p) for p in entry.get("articles") or [])
            self.suffixes.update(entry.get("suffixes") or [])
            self.sounds += [tuple(pair) for pair in entry.get("sounds") or []]
            self.words.update(self._split(w) for w in entry.get("words") or [])
            self.translations.update({self._split(k): v for k, v in (entry.get("translations") or {}).items()})
        self.longest = max(len(k) for k in [*self.words, *self.translations])

    @staticmethod
    def _split(phrase: str) -> tuple[str, ...]:
        return tuple(m.group() for m in _WORD.finditer(normalize(str(phrase))))

    def latin(self, word: str) -> str:
        for letter, spelled in self.letters.items():
            word = word.replace(letter, spelled)
        return re.sub(r"[^a-z]", "", anyascii(word).lower())

    def words_of(self, text: str, skip_words: bool = True) -> list[_Word]:
        found = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        out: list[_Word] = []
        i = 0
        while i < len(found):
            for size in range(min(self.longest, len(found) - i), 0, -1):
                key = tuple(w for _, _, w in found[i:i + size])
                translated = key if size > 1 else (self._unprefixed(key[0]),)  # "بجزيرة": "in" + "island"
                if key in self.translations or translated in self.translations:
                    latin = re.sub(r"[^a-z]", "", self.translations.get(key, self.translations.get(translated, "")).lower())
                    part = size == 1  # one place word ("上", "parque", "جزيرة") names no place alone
                    out.append(_Word(found[i][0], found[i + size - 1][1], (latin,), part=part, translated=True,
                                     head=latin in self.heads and not _SPACELESS.match(key[0])))
                    break
                if skip_words and key in self.words:
                    out.append(_Word(found[i][0], found[i + size - 1][1], ("",), skip=True))
                    break
            else:
                size = 1
                forms = self._forms(found[i][2])  # empty: nothing to spell in Latin (a digit)
                out.append(_Word(found[i][0], found[i][1], forms or ("",), skip=not forms,
                                 written_in_latin=found[i][2].isascii(),
                                 pinyin=bool(_SPACELESS.fullmatch(found[i][2]))))
            i += size
        return out

    def _unprefixed(self, word: str) -> str:
        for start in [*self.articles, *self.prefixes]:
            if word.startswith(start) and len(word) > len(start) + 1:
                return word[len(start):]
        return word

    def _forms(self, word: str) -> tuple[str, ...]:
        for article in self.articles:  # always an article, never the start of a name
            if word.startswith(article) and len(word) > len(article) + 1:
                word = word[len(article):]
                break
        forms = [self.latin(word)]
        for prefix in self.prefixes:
            if word.startswith(prefix) and len(word) > len(prefix) + 1:
                forms.append(self.latin(word[len(prefix):]))
        for suffix in self.suffixes:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                forms.append(self.latin(word[:-len(suffix)]))
        respelled = word
        for spelled, sound in self.sounds:
            if _sounded(word, spelled):
                forms.append(self.latin(_sound(word, spelled, sound)))
                respelled = _sound(respelled, spelled, sound)
        forms.append(self.latin(respelled))  # every sound at once ("Sonisaid": ai as i, and the others)
        return tuple(dict.fromkeys(f for f in forms if f))


def _sounded(word: str, spelled: str) -> bool:
    """Whether the word has the spelling; "^y" only at its start, "in$" only at its end."""
    if spelled.startswith("^"):
        return word.startswith(spelled[1:])
    if spelled.endswith("$"):
        return word.endswith(spelled[:-1])
    return spelled in word


def _sound(word: str, spelled: str, sound: str) -> str:
    if spelled.startswith("^"):
        return sound + word[len(spelled) - 1:] if word.startswith(spelled[1:]) else word
    if spelled.endswith("$"):
        return word[:1 - len(spelled)] + sound if word.endswith(spelled[:-1]) else word
    return word.replace(spelled, sound)


@lru_cache
def ordinary_words() -> frozenset[str]:
    """Words used in at least ORDINARY_MIN_EXAMPLES examples of intents that name no place, in any
    launch language (Chinese characters aside: Chinese names are matched exactly, never by sound)."""
    words: set[str] = set()
    for path in sorted(NLU_DATA.glob("*.yml")):
        counts: dict[str, int] = {}
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent") not in NO_PLACE_INTENTS:
                continue
            for line in (block.get("examples") or "").splitlines():
                example = line.strip().removeprefix("- ")
                if not example or "](" in example:  # an annotated entity may be a place
                    continue
                for word in {m.group() for m in _WORD.finditer(normalize(example))}:
                    counts[word] = counts.get(word, 0) + 1
        words.update(w for w, n in counts.items() if n >= ORDINARY_MIN_EXAMPLES and not _SPACELESS.match(w))
    return frozenset(words)


@lru_cache
def lexicon() -> Lexicon:
    return Lexicon(yaml.safe_load(LEXICON.read_text(encoding="utf-8")))


def consonant_key(letters: str) -> str:
    """Metaphone without vowels and glides, sounds that scripts spell alike merged (Arabic
    writes P as B; Bengali and Hindi write SH as S): "astoria" and "stwrya" are both STR.
    The leading vowel keeps Metaphone's silent-initial rules ("kn", "wr") off: a transliteration
    has no silent letters."""
    key = jellyfish.metaphone("a" + letters).translate(str.maketrans({"X": "S", "0": "T", "P": "B", "J": "K"}))
    key = re.sub(r"[AEIOUWYH]", "", key)
    return re.sub(r"(.)\1+", r"\1", key)


_SPELLED_ALIKE = [("dg", "j"), ("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("x", "ks"), ("z", "s"),
                  ("g", "j"), ("p", "b"), ("v", "f")]


def _bare(letters: str) -> str:
    """The letters without vowels (Arabic and Urdu do not write short ones), English spellings
    of one sound made one ("ridge"/"rij", "Jamaica"/"Jamaïque")."""
    for spelled, sound in _SPELLED_ALIKE:
        letters = letters.replace(spelled, sound)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouwyh]", "", letters))


# Aliases of these kinds are landmarks ("station: Church Av (B Q)"), read by campaign/landmarks.py
LANDMARK_KINDS = ("station", "street", "landmark")


def is_landmark(alias: str) -> bool:
    return ":" in alias and alias.split(":", 1)[0] in LANDMARK_KINDS


class Locator:
    def __init__(self, names: list[tuple[str, int, bool]], boroughs: dict[int, int] | None = None, landmarks=None):
        """names: (name or alias, target id, is the primary name); boroughs have negative ids.
        Landmark aliases are read by `landmarks` (campaign/landmarks.py, given by campaign/turf.py:
        it builds a Locator of its own); boroughs: each neighborhood's borough id, which they use."""
        marks = [(name, target) for name, target, _ in names if is_landmark(name)]
        names = [entry for entry in names if not is_landmark(entry[0])]
        self.landmarks = (landmarks(marks, boroughs or {}, {t: n for n, t, _ in names if t < 0})
                          if marks and landmarks is not None else None)
        self.nlp = spacy.blank("xx")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.spaceless: list[tuple[str, int]] = []
        patterns: dict[int, list] = {}
        for name, target, _ in names:
            key = normalize(name)
            if _SPACELESS.search(key):
                self.spaceless.append((key, target))
            else:
                patterns.setdefault(target, []).append(self.nlp.make_doc(key))
        for target, docs in patterns.items():
            self.matcher.add(str(target), docs)
        self.spaceless.sort(key=lambda item: -len(item[0]))
        # Every name and alias, in any script, as Latin letters and as a consonant key.
        lex = lexicon()
        self.targets: list[int] = []
        self.letters: list[str] = []
        self.keys: list[str] = []
        self.bare: list[str] = []
        self.primary: list[bool] = []
        # a word of some place's name is never ordinary ("park", "জ্যাকসন")
        self.ordinary = ordinary_words() - {m.group() for name, _, _ in names for m in _WORD.finditer(normalize(name))}
        for name, target, primary in names:
            words = lex.words_of(normalize(name), skip_words=False)
            letters = "".join(w.forms[0] for w in words)
            # Short aliases ("LIC", "SoBro") are matched exactly only: loosely they match too
            # much. So are Chinese ones: they are translations, their pinyin is not the name.
            if len(letters) >= (MIN_KEY if primary else MIN_TARGET) and not _SPACELESS.search(name):
                self.targets.append(target)
                self.primary.append(primary)
                self.letters.append(letters)
                self.bare.append(_bare(letters))
                self.keys.append("".join(consonant_key(w.forms[0]) for w in words))

    def find(self, text: str) -> tuple[int, str] | None:
        """The mention in the text, as (target id, matched words). A neighborhood wins over a
        borough (boroughs are negative ids), unless the borough is the better reading of the
        same words ("کوئنز" is Queens, not "Coney") or covers them ("স্টেটেন আইল্যান্ড" is
        Staten Island, not "East NY"). A landmark, station or cross street decides unless a
        neighborhood is named outside it; a street named after another place is not that place
        ("Flushing Av" is in Bushwick)."""
        key = normalize(text)
        hits = self._exact(key)
        readings: dict = {}

        def loose() -> dict[bool, tuple[float, int, int, int]]:
            if "loose" not in readings:
                readings["loose"] = self._loose(key)
            return readings["loose"]
        streets: list[tuple[int, int, set[int]]] = []
        if self.landmarks is not None:
            decided, streets = self.landmarks.read(text, key, hits, loose, self.alike)
            if decided is not None:
                return decided
        exact: dict[bool, tuple[int, int, int]] = {}  # borough? -> (target, start, end)
        for target, start, end in hits:
            kind = target < 0
            if not kind and _renamed(streets, target, start, end):
                continue
            if kind not in exact or end - start > exact[kind][2] - exact[kind][1]:
                exact[kind] = (target, start, end)
        if False in exact:
            target, start, end = exact[False]
            return target, key[start:end]
        hood, borough = loose().get(False), loose().get(True)
        if hood and _renamed(streets, *hood[1:]):
            hood = None
        if True in exact:
            borough = (101.0, *exact[True])
        if hood and borough and _overlap(hood, borough) and (borough[0] > hood[0] or _covers(borough, hood)):
            hood = None
        chosen = hood or borough
        return (chosen[1], key[chosen[2]:chosen[3]]) if chosen else None

    def _exact(self, key: str) -> list[tuple[int, int, int]]:
        """Every name or alias written as it is, as (target, start, end)."""
        doc = self.nlp.make_doc(key)
        hits = [(int(self.nlp.vocab.strings[m]), doc[a].idx, doc[b - 1].idx + len(doc[b - 1])) for m, a, b in self.matcher(doc)]
        return hits + [(target, key.index(alias), key.index(alias) + len(alias))
                       for alias, target in self.spaceless if alias in key]

    def alike(self, text: str, target: int) -> float:
        """How alike the text's letters are to the target's closest name (rapidfuzz ratio)."""
        letters = lexicon().latin(text)
        return max((fuzz.ratio(letters, name) for name, t in zip(self.letters, self.targets) if t == target), default=0.0)

    def mentions(self, key: str) -> list[tuple[float, int, int, int]]:
        """Every reading of the text as a name, exact ones first: (score, target, start, end)."""
        return [(200.0 + end - start, target, start, end) for target, start, end in self._exact(key)] + self._candidates(key)

    def _loose(self, key: str) -> dict[bool, tuple[float, int, int, int]]:
        """The best loose neighborhood and borough readings: borough? -> (score, target, start, end)."""
        best: dict[bool, tuple[float, int, int, int]] = {}
        for found in self._candidates(key):
            kind = found[1] < 0
            if kind not in best or found[0] > best[kind][0]:
                best[kind] = found
        return best

    def _candidates(self, key: str) -> list[tuple[float, int, int, int]]:
        """Every loose reading of a run of words as a name: (score, target, start, end)."""
        words = [w for w in lexicon().words_of(key) if not w.skip]
        found_all: list[tuple[float, int, int, int]] = []
        for first in range(len(words)):
            han = bool(_SPACELESS.match(key[words[first].start]))
            for size in range(1, (MAX_HAN if han else MAX_WORDS) + 1):
                window = words[first:first + size]
                if len(window) < size:
                    break
                if size > 1 and _PUNCTUATION.search(key[window[-2].end:window[-1].start]):
                    break  # a place name never runs across a comma or a full stop
                if size == 1 and window[0].part:
                    continue
                if not _names_enough(window):
                    continue
                if any(not w.translated and key[w.start:w.end] in self.ordinary for w in window):
                    continue
                latin = all(w.written_in_latin for w in window)
                min_key = NO_KEY if any(w.pinyin for w in window) else MIN_HAN_KEY if han else MIN_KEY
                for spelling in _spellings(window):
                    for found in self._score(spelling, latin, min_key, 1 if han else size):
                        # on a near tie the longer run of words wins ("Green Point" over "Green")
                        found_all.append((found[0] + WORD_BONUS * size, found[1], window[0].start, window[-1].end))
        return found_all

    def _score(self, spelling: tuple[str, str], latin: bool, min_key: int, words: int) -> list[tuple[float, int]]:
        """Every name close enough to these letters, as (score, target)."""
        letters, key = spelling
        found: list[tuple[float, int]] = []
        if len(letters) >= MIN_LETTERS:
            for _, score, index in process.extract(letters, self.letters, scorer=fuzz.ratio, limit=8,
                                                   score_cutoff=LETTERS_CUTOFF):
                found.append((score + PRIMARY_BONUS * self.primary[index], self.targets[index]))
        if len(key) == TWO_CONSONANTS and min_key <= MIN_KEY and not latin and words == 1 and len(letters) >= MIN_TWO_LETTERS:
            # a name of two consonants ("Midwood": MT) is too short for a loose key; written in
            # another script as one word, its key and its bare letters must both agree exactly,
            # and the letters still look alike
            bare = _bare(letters)
            for index, found_key in enumerate(self.keys):
                if (found_key == key and self.primary[index] and self.bare[index] == bare
                        and fuzz.ratio(letters, self.letters[index]) >= BARE_FLOOR):  # "محمد" is not Midwood
                    found.append((100 - 1 + PRIMARY_BONUS, self.targets[index]))
        if len(key) >= min_key:
            bare = _bare(letters)
            for found_key, score, index in process.extract(key, self.keys, scorer=fuzz.ratio, limit=8,
                                                           score_cutoff=KEY_CUTOFF):
                short = min(len(found_key), len(key)) <= KEY_EXACT_MAX
                if short and (score < 100 or words > 2):  # a few consonants from many words is chance
                    continue
                alike = fuzz.ratio(bare, self.bare[index])
                if alike < (SHORT_BARE_FLOOR if short else BARE_FLOOR):
                    continue
                # Latin writing spells its vowels: the letters must look alike too.
                if latin and fuzz.ratio(letters, self.letters[index]) < LATIN_FLOOR:
                    continue
                # Sounding alike ranks below being spelled alike ("Upper East" and "Upper West"
                # sound alike without vowels); as alike, a name beats an alias ("Queens" over
                # the abbreviation "Coney Is").
                found.append(((score + alike) / 2 - 1 + PRIMARY_BONUS * self.primary[index], self.targets[index]))
        return found


def _names_enough(window: list[_Word]) -> bool:
    """A place word with a short word beside it is no name ("una isla" is not Coney Island): the
    untranslated words must carry a few consonants of their own."""
    own = [w.forms[0] for w in window if not w.translated]
    if len(own) == len(window) or not own:
        return True
    return len("".join(consonant_key(f) for f in own)) >= MIN_OWN_KEY


def _overlap(a: tuple, b: tuple) -> bool:
    return a[2] < b[3] and b[2] < a[3]


def _covers(a: tuple, b: tuple) -> bool:
    """Reading a spans more of the text than b and all of it."""
    return a[2] <= b[2] and b[3] <= a[3] and a[3] - a[2] > b[3] - b[2]


def _renamed(streets: list[tuple[int, int, set[int]]], target: int, start: int, end: int) -> bool:
    """The name is part of a street that does not run through that neighborhood."""
    return any(s <= start and end <= e and target not in owners for s, e, owners in streets)


def _spellings(window: list[_Word]) -> list[tuple[str, str]]:
    """The window's Latin letters and consonant key, with and without the first word's prefix
    and the last word's ending (endings attach to the end of a name, prefixes to its start)."""
    def spelled(forms: list[str]) -> tuple[str, str]:
        return "".join(forms), "".join(consonant_key(f) for f in forms)

    middle = [w.forms[0] for w in window[1:-1]]
    if len(window) == 1:
        return [spelled([f]) for f in window[0].forms]
    found = [spelled([a, *middle, b]) for a in window[0].forms for b in window[-1].forms]
    if window[0].head:  # "isla roosevelt" is also read "roosevelt island"
        found += [spelled([*middle, b, window[0].forms[0]]) for b in window[-1].forms]
    return found
