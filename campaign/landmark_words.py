"""The words around a landmark, read in every launch language: "street", "avenue", "station",
"train", "and", "corner", a line's letter, a street's number. campaign/landmarks.py decides with
them; the words themselves are data, in campaign/lexicon/places.yml (`landmarks`, per language).

A text becomes tokens, each with what it can be:
  num     a number in any script's digits, with an ordinal ending ("181st", "116e", "3ra") or
          spelled out before a street word (八大道, "Fifth Av", "Quinta Avenida": 8 Av, 5 Av)
  type    a street word, as the abbreviation the turf's names use (st, av, blvd, rd...)
  station, line, and, corner
  dir     w, e, n, s before a number ("W 181 St")
  letter  one Latin letter, or a letter's name in another script (এফ, ایچ): a subway line or a
          lettered avenue, as the words beside it say
  skip    a word the place lexicon skips (prepositions, "I live")
  break   punctuation between clauses
and the subway lines a text says (`lines_said`).
"""
import re
from dataclasses import dataclass, field
from functools import lru_cache

import regex
import yaml

from campaign.digits import fold_digits
from campaign.place_names import LEXICON, lexicon, normalize

_TOKEN = regex.compile(r"\p{Han}|[[\p{L}\p{M}\p{N}]--\p{Han}]+(?:['][[\p{L}\p{M}]--\p{Han}]+)*|[&/+]|[,;:!?，。！？、；：]",
                       regex.V1)
_BREAK = re.compile(r"[,;:!?，。！？、；：]")
# a number and its ordinal ending: English, French (116e, 1er), Spanish (3ra, 5to, 2do), º/ª
_NUMBER = re.compile(r"(\d{1,3})(?:st|nd|rd|th|e|er|re|eme|ere|ieme|a|o|ra|ro|da|do|ta|to|va|vo|na|no|ma|mo)?")
_HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
               "八": 8, "九": 9}
_HAN_UNITS = {"十": 10, "百": 100}
ROLES = ("st", "av", "blvd", "rd", "pl", "pkwy", "ln", "dr", "ter", "loop", "hwy",  # street words
         "station", "line", "and", "corner", "w", "e", "n", "s")
TYPES = frozenset(ROLES[:11])
DIRECTIONS = frozenset("wens")
HAN_LONGEST = 4
NEAR = 4  # words between a station and the line said with it
LINES = set("abcdefgjlmnqrswz1234567")  # the subway's lines (and S, the shuttles)
_WORDS_TOO = {"a", "e", "i", "o", "u", "y"}  # line letters that are words too: lines only in capitals


@dataclass
class Token:
    start: int
    end: int
    text: str
    roles: dict = field(default_factory=dict)  # role -> value (True, a number, a letter)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def type(self) -> str | None:
        return next((role for role in self.roles if role in TYPES), None)


@dataclass(frozen=True)
class Vocabulary:
    roles: dict[str, dict[str, object]]  # word -> {role: value}
    han_longest: int

    def of(self, word: str) -> dict[str, object]:
        """The roles of a word, with the lexicon's prefixes and endings taken off ("وشارع" is
        "and" + "street", "স্টেশনের" is "station")."""
        if word in self.roles:
            return dict(self.roles[word])
        lex = lexicon()
        for prefix in sorted([*lex.articles, *lex.prefixes], key=len, reverse=True):
            if word.startswith(prefix) and len(word) > len(prefix) + 1 and word[len(prefix):] in self.roles:
                found = dict(self.roles[word[len(prefix):]])
                if "and" in self.roles.get(prefix, {}):
                    found["and_before"] = True
                return found
        for suffix in sorted(lex.suffixes, key=len, reverse=True):
            if word.endswith(suffix) and len(word) > len(suffix) + 1 and word[:-len(suffix)] in self.roles:
                return dict(self.roles[word[:-len(suffix)]])
        return {}


@lru_cache
def vocabulary() -> Vocabulary:
    roles: dict[str, dict[str, object]] = {}
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    for entry in data.values():
        words = entry.get("landmarks") or {}
        for role in ROLES:
            for word in words.get(role) or []:
                roles.setdefault(normalize(str(word)), {})[role] = True
        for word, letter in (words.get("letter") or {}).items():
            roles.setdefault(normalize(str(word)), {})["letter"] = str(letter).lower()
        for word, number in (words.get("number") or {}).items():  # "Fifth Av", "Quinta Avenida"
            roles.setdefault(normalize(str(word)), {}).update(num=int(number), ordinal=True, spelled=True)
    longest = max((len(w) for w in roles if _han(w)), default=1)
    return Vocabulary(roles, min(longest, HAN_LONGEST))


def _han(text: str) -> bool:
    return bool(regex.fullmatch(r"\p{Han}+", text))


def han_number(text: str) -> int | None:
    """八 8, 十八 18, 一百二十二 122; None when the characters are not a number."""
    if not text or any(ch not in _HAN_DIGITS and ch not in _HAN_UNITS for ch in text):
        return None
    total, digit = 0, None
    for ch in text:
        if ch in _HAN_DIGITS:
            digit = _HAN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _HAN_UNITS[ch]
            digit = None
    return total + (digit or 0)


def tokens(key: str) -> list[Token]:
    """The text (normalized, digits folded) as tokens with their possible roles."""
    vocab, skip_words = vocabulary(), lexicon().words
    raw = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(key)]
    out: list[Token] = []
    i = 0
    while i < len(raw):
        start, end, text = raw[i]
        if _han(text):  # Chinese: the longest word of the vocabulary, or a run of numerals
            size, roles = _han_word(raw, i, vocab)
            if size:
                out.append(Token(start, raw[i + size - 1][1], key[start:raw[i + size - 1][1]], roles))
                i += size
                continue
        out.append(Token(start, end, text, _roles(text, vocab, skip_words)))
        i += 1
    return out


def _han_word(raw: list, i: int, vocab: Vocabulary) -> tuple[int, dict]:
    for size in range(vocab.han_longest, 0, -1):
        chunk = raw[i:i + size]
        word = "".join(t for _, _, t in chunk)
        if len(chunk) == size and all(_han(t) for _, _, t in chunk) and word in vocab.roles:
            return size, dict(vocab.roles[word])
    size = 0
    while i + size < len(raw) and len(raw[i + size][2]) == 1 and han_number(raw[i + size][2]) is not None:
        size += 1
    if size:
        number = han_number("".join(t for _, _, t in raw[i:i + size]))
        if number is not None:
            return size, {"num": number, "spelled": True}
    return 0, {}


def _roles(text: str, vocab: Vocabulary, skip_words: set) -> dict:
    if _BREAK.fullmatch(text):
        return {"break": True}
    if text in "&+/":
        return {"and": True, "slash": text == "/"}
    roles = vocab.of(text)
    number = _NUMBER.fullmatch(text)
    if number:
        roles["num"] = int(number.group(1))
        roles["ordinal"] = number.end(1) < len(text)
    elif len(text) == 1 and "a" <= text <= "z":
        roles["letter"] = text
    if (text,) in skip_words:
        roles["skip"] = True
    return roles


def read(key: str) -> list[Token]:
    return tokens(fold_digits(key))


def lines_said(text: str, cased: bool, tokens: list[Token], spans: list[tuple[int, int, bool, set[str]]]) -> dict[int, str]:
    """The subway lines said, by token: a letter or a number from 1 to 7 beside a line word ("A
    train", "7号线", "خط R"), joined to another by "/" ("B/Q"), or a few words from a station that
    runs it ("on the G", "la 103 del 7"). spans: the names and numbers read as places, as (first
    token, last token, a name or a typed street?, the lines of their stations). cased: the text's
    letters are where the tokens say (its capitals can be read)."""
    taken = {i for first, last, solid, _ in spans if solid for i in range(first, last + 1)}
    lines: dict[int, str] = {}
    words = [j for j in range(len(tokens)) if not tokens[j].has("skip")]

    def symbol(i: int) -> str | None:
        token = tokens[i]
        if i in taken or token.roles.get("ordinal") or token.has("spelled"):
            return None
        value = token.roles.get("letter") or (str(token.roles["num"]) if "num" in token.roles else None)
        return value if value in LINES else None

    def beside(i: int, step: int) -> Token | None:
        j = i + step
        while 0 <= j < len(tokens) and tokens[j].has("skip"):
            j += step
        return tokens[j] if 0 <= j < len(tokens) else None

    def served(i: int, value: str) -> bool:  # a station a few words away runs this line
        at = words.index(i) if i in words else -1
        near = set(words[max(0, at - NEAR):at + NEAR + 1])
        station_word = any(tokens[j].has("station") for j in near)
        return any(first != i and set(range(first, last + 1)) & near and value in station_lines
                   and (solid or not value.isdigit() or station_word)  # "2 or 3 shifts" is no 3 Av on the 2
                   for first, last, solid, station_lines in spans)
    for i in range(len(tokens)):
        value = symbol(i)
        if value is None:
            continue
        if any(t is not None and t.has("line") for t in (beside(i, -1), beside(i, 1))):
            lines[i] = value
        elif len(tokens[i].text) == 1 and served(i, value) and (
                tokens[i].text not in _WORDS_TOO or cased and text[tokens[i].start:tokens[i].end].isupper()):
            lines[i] = value  # a letter's name in another script is a line only beside "train"
    for i in list(lines):  # "B/Q", "2/5": the other side of a slash is a line too
        for j in (i - 2, i + 2):
            if 0 <= j < len(tokens) and tokens[(i + j) // 2].has("slash") and symbol(j):
                lines[j] = symbol(j)
    return lines
