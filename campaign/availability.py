"""Free-text availability → weekly slots such as "sat:morning".

The words live in lexicon/availability.yml, one block per language, so a new language is data.
Reading a text takes three steps:

1. Tokens: the lexicon's phrases (days, parts of day, connectors such as "to"/"a"/"إلى"/"से",
   "after"/"before", hour markers) and the numbers, found longest first. Digits of every script
   are read as ASCII digits first (campaign/digits.py). A Latin-script word typed a letter
   off a day or a part of day ("mornin", "samdi", "aftrnoon") is read as that word first.
2. Clock times: a number becomes a time only next to something that makes it one ("after 6",
   "de 1 a 4", "६ बजे के बाद", "3pm", "下午3点"); its span of hours covers parts of the day.
3. Scope: each day takes the part of day said next to it ("Friday evening or Saturday morning"
   is fri:evening + sat:morning, not the cross product); a part said after a list of days
   belongs to each day of the list; a day alone is the whole day, a part alone is every day's.
"""
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex
import yaml
from rapidfuzz.distance import OSA

from campaign.digits import fold_digits

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("morning", "afternoon", "evening")
GROUPS = {"weekdays": DAYS[:5], "weekend": DAYS[5:], "any": DAYS}
# The one place where the parts of the day begin (hours, 24h clock); evening runs to midnight.
PART_STARTS = {"morning": 0, "afternoon": 12, "evening": 17}
# An hour said without am/pm: below this it is read as pm ("after 6" is 18:00), because
# volunteer shifts run in the day and the evening; 8 to 11 stay morning.
BARE_PM_BELOW = 8
LEXICON = Path(__file__).resolve().parent / "lexicon" / "availability.yml"

# Which lexicon lists make which tokens. Connectors and markers only mean something next to a
# day or a number; alone they are ignored.
_TOKEN_KINDS = {"and": "and", "range": "range", "until": "until", "after": "after", "before": "before",
                "between": "between", "hour": "hour", "am": "am", "pm": "pm", "count": "count", "not_time": "not_time",
                "on_day": "on"}
_MARKERS = {"hour", "am", "pm"}          # stick to a number: "18h", "9am", "৬টার", "6点"
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
class _Token:
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
                                               entry.short, entry.spelled))

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
        elif entry.kind in _MARKERS:
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


def _tokens(key: str) -> list[_Token]:
    found: list[_Token] = []
    for match in _NUMBER.finditer(_DATE.sub(lambda m: " " * len(m.group()), key)):
        hour, minutes = int(match.group(1)), int(match.group(2) or 0)
        if hour <= 24 and minutes < 60:
            # "18h30", "5:30" are times by their form
            found.append(_Token(match.start(), match.end(), "num", hour + minutes / 60, timed=match.group(2) is not None))
    # numbers are blanked (same length, so places keep) before the words are read
    blank = list(key)
    for token in found:
        blank[token.start:token.end] = " " * (token.end - token.start)
    pattern, entries = _lexicon()
    for match in pattern.finditer("".join(blank)):
        entry = entries[match.group()]
        if entry.kind == "slot":
            days, parts = entry.value
            found.append(_Token(match.start(), match.end(), "day", days, entry.group, joined=entry.joined, parts=parts))
        else:
            found.append(_Token(match.start(), match.end(), entry.kind, entry.value, entry.group, entry.timed, entry.joined,
                                short=entry.short, spelled=entry.spelled))
    found.sort(key=lambda t: (t.start, t.end))
    return [t for i, t in enumerate(found) if not t.short or _among_time_words(found, i, key)]


# Typos and clipped words in chat ("sat mornin", "samdi matin"): a Latin-script word the lexicon
# does not know, of RESPELL_MIN letters or more, is read as the one day or part-of-day word an
# edit away (adjacent letters swapped count as one; two edits from RESPELL_TWO_FROM letters) with
# the same first letter. Short words stay as typed ("even" is no "eve"), as do words that begin
# differently ("might" is no "night") and numbers and connectors (a typo there changes little).
RESPELL_MIN = 5
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
        if entry.kind in _RESPELL_KINDS and not entry.short and regex.fullmatch(r"\p{Latin}{4,}", phrase):
            by_first.setdefault(phrase[0], []).append(phrase)
    return by_first, frozenset(known)


def _respelled(key: str) -> str:
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


_TIME_WORDS = {"day", "part", "range", "until", "num", "and", "am", "pm", "on"}
_TOUCHING = regex.compile(r"[\s,/&+\-.]*")


def _among_time_words(tokens: list[_Token], i: int, key: str) -> bool:
    """"mon-wed", "sat 9am", "dim soir", "free on sat": an abbreviation next to other time
    words is a day; "après mon travail" (French "my") and "I'm Sam" are not."""
    for j in (i - 1, i + 1):
        # "on sat", "le dim", but not "ven el domingo" (Spanish "come on Sunday")
        if 0 <= j < len(tokens) and tokens[j].kind in _TIME_WORDS and (j < i or tokens[j].kind != "on"):
            first, second = sorted((tokens[i], tokens[j]), key=lambda t: t.start)
            if _TOUCHING.fullmatch(key[first.end:second.start]):
                return True
    return False


def _hour(value: float, marker: str | None) -> float:
    if marker == "pm" and value < 12:
        return value + 12
    if marker is None and 1 <= value < BARE_PM_BELOW:
        return value + 12
    return value


def _parts_of_span(start: float, end: float) -> tuple[str, ...]:
    """Every part of the day that the span of hours overlaps."""
    bounds = list(PART_STARTS.values()) + [24]
    return tuple(part for part, (low, high) in zip(PART_STARTS, zip(bounds, bounds[1:]))
                 if min(end, high) - max(start, low) > 0)


# what may stand between a number and the words that make it a time ("6 in the evening",
# "6 de la tarde"): a few short words, no punctuation
_NEAR = regex.compile(r"[^,.;!?\n]{0,10}")


def _clocks(tokens: list[_Token], key: str) -> list[_Token]:
    """Numbers with what makes them times become `part` tokens; their helpers are used up."""
    used: set[int] = set()
    out: dict[int, _Token] = {}

    def near(a: int, b: int) -> bool:
        first, second = (tokens[a], tokens[b]) if a < b else (tokens[b], tokens[a])
        return _NEAR.fullmatch(key[first.end:second.start]) is not None

    def neighbour(i: int, step: int, kinds: set[str], skip: set[str] = frozenset()) -> int | None:
        """The next token of `kinds` from i, looking past `skip` and what is already used up
        of markers and parts ("10 الصبح لحد 2": past the used الصبح to لحد)."""
        j = i + step
        while 0 <= j < len(tokens) and near(j - step, j):
            if tokens[j].kind in kinds and j not in used:
                return j
            if tokens[j].kind in skip or (j in used and tokens[j].kind in _MARKERS | {"part"}):
                j += step
                continue
            return None
        return None

    def marker(i: int) -> tuple[str | None, bool]:
        """am/pm of number i, from "pm" after it or a part of day next to it; and whether
        anything at all (hour word, am/pm, part) marks it as a time."""
        found, timed = None, False
        j = i + 1
        while j < len(tokens) and j not in used and tokens[j].kind in _MARKERS and near(j - 1, j):
            used.add(j)
            timed = True
            if tokens[j].kind in ("am", "pm"):
                found = tokens[j].kind
            j += 1
        j = i - 1
        while j >= 0 and j not in used and tokens[j].kind == "hour" and near(j, j + 1):
            used.add(j)
            timed = True
            j -= 1
        if found is None:
            # "6 de la tarde", "10 الصبح" (after), "शाम 6 बजे", "下午3点" (before)
            side = neighbour(i, +1, {"part"}, _MARKERS) or neighbour(i, -1, {"part"}, {"hour", "after", "before", "until", "between"})
            if side is not None and len(tokens[side].value) == 1:
                used.add(side)
                found, timed = ("am" if tokens[side].value[0] == "morning" else "pm"), True
        return found, timed

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind != "num" or i in used:
            i += 1
            continue
        # a count, not a time: "2-3 days a week", "two times"
        follower = next((j for j in range(i + 1, min(i + 4, len(tokens))) if tokens[j].kind not in ("range", "and", "num")), None)
        if follower is not None and tokens[follower].kind == "count":
            used.update(range(i, follower + 1))
            i = follower + 1
            continue
        used.add(i)
        start_marker, start_timed = marker(i)
        start_timed = start_timed or token.timed
        # a range: N to M, N - M, N से M तक, between N and M
        link = neighbour(i, +1, {"range", "until", "and"}, _MARKERS)
        # the end may have its own part before it: "9点到中午12点"
        end = neighbour(link, +1, {"num"}, {"part", "hour"}) if link is not None else None
        # or be a part of the day: "من ٩ الصبح للظهر", "from 9 until the evening"
        limit = neighbour(link, +1, {"part"}) if link is not None and end is None and tokens[link].kind != "and" else None
        if limit is None and link is None and end is None:
            limit = neighbour(i, +1, {"part"}, _MARKERS)
            limit = limit if limit is not None and tokens[limit].joined == "to" else None
        if limit is not None and len(tokens[limit].value) == 1:
            used.add(limit)
            if link is not None:
                used.add(link)
            low = _hour(token.value, start_marker)
            high = PART_STARTS[tokens[limit].value[0]]
            out[i] = _Token(token.start, tokens[limit].end, "part", _parts_of_span(low, high if high > low else 24))
            i = limit + 1
            continue
        if end is not None and tokens[link].kind == "and":
            between = neighbour(i, -1, {"between"}, {"hour"})
            if between is None:
                between = neighbour(end, +1, {"between"}, _MARKERS)
            end = end if between is not None else None
            if between is not None:
                used.add(between)
        if end is not None:
            used.update({link, end})
            end_marker, _ = marker(end)
            low = _hour(token.value, start_marker)
            high = _hour(tokens[end].value, end_marker)
            if end_marker is None and high <= low and high + 12 <= 24:
                high += 12          # "10 to 2"
            elif start_marker is None and low >= high and low >= 12:
                low -= 12           # "7-9am"
            tail = neighbour(end, +1, {"until"}, _MARKERS)   # "१ से ४ बजे तक"
            if tail is not None:
                used.add(tail)
            out[i] = _Token(token.start, tokens[end].end, "part", _parts_of_span(low, high))
            i = end + 1
            continue
        before = neighbour(i, -1, {"after", "before", "until"}, {"hour"})
        if before is None:
            before = neighbour(i, +1, {"after", "before", "until"}, _MARKERS)
        if token.spelled and start_marker is None:
            start_timed = False     # "一点" is "a little", "晚上七点" and "七点以后" are times
        if before is None and not start_timed:
            i += 1          # a number with nothing that makes it a time ("2 kids")
            continue
        hour = _hour(token.value, start_marker)
        if before is not None:
            used.add(before)
            span = (hour, 24.0) if tokens[before].kind == "after" else (0.0, hour)
        else:
            span = (hour, hour + 1)
        out[i] = _Token(token.start, token.end, "part", _parts_of_span(*span))
        i += 1
    result = []
    for index, token in enumerate(tokens):
        if index in out:
            result.append(out[index])
        elif index not in used and token.kind != "num":
            result.append(token)
    return result


def _day_ranges(tokens: list[_Token]) -> list[_Token]:
    """"Monday to Friday", "lun-vie", "من الاثنين إلى الجمعة", "সোম থেকে শুক্র পর্যন্ত"."""
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "day" and not token.group and nxt is not None:
            end = None
            if nxt.kind in ("range", "until") and i + 2 < len(tokens) and tokens[i + 2].kind == "day" and not tokens[i + 2].group:
                end = i + 2
            elif nxt.kind == "day" and not nxt.group and nxt.joined == "to":
                end = i + 1
            if end is not None:
                first, last = DAYS.index(token.value[0]), DAYS.index(tokens[end].value[0])
                span = tuple(DAYS[(first + k) % 7] for k in range((last - first) % 7 + 1))
                out.append(_Token(token.start, tokens[end].end, "day", span, group=True, joined=token.joined))
                i = end + 1
                if i < len(tokens) and tokens[i].kind == "until":
                    i += 1      # "से शुक्रवार तक": the closing word of the range
                continue
        out.append(token)
        i += 1
    return out


def _pair(tokens: list[_Token]) -> set[tuple[str, str]]:
    """Each run of days with the run of parts next to it (nearest scope)."""
    runs: list[dict] = []
    pending_and = False
    for token in tokens:
        if token.kind == "and":
            pending_and = True
            continue
        if token.kind not in ("day", "part"):
            continue
        joined_and = pending_and or token.joined == "and"
        pending_and = False
        if runs and runs[-1]["kind"] == token.kind:
            runs[-1]["items"].append(token)
        else:
            runs.append({"kind": token.kind, "items": [token], "and_before": joined_and})
    slots: set[tuple[str, str]] = set()

    def whole(day_run: dict, parts: tuple[str, ...], adjacent: _Token | None) -> None:
        items = day_run["items"]
        if any(item.value != DAYS for item in items):
            # "Friday, whenever": the day is what was meant, "whenever" says the time
            items = [item for item in items if item.value != DAYS]
        for item in items:
            # "Saturday and Sunday mornings": the part belongs to every day of the list, but
            # "weekends and weekday evenings", "le soir en semaine et le samedi": only to the
            # group of days it is said with
            shared = adjacent is None or item is adjacent or not (item.group or adjacent.group)
            said = parts if shared else PARTS
            if item.parts:
                said = tuple(p for p in said if p in item.parts) or item.parts if shared else item.parts
            slots.update((d, p) for d in item.value for p in said)

    i = 0
    while i < len(runs):
        run = runs[i]
        nxt = runs[i + 1] if i + 1 < len(runs) else None
        if nxt is not None and nxt["kind"] != run["kind"] and not nxt["and_before"]:
            days, parts = (run, nxt) if run["kind"] == "day" else (nxt, run)
            said = tuple(p for p in PARTS if any(p in t.value for t in parts["items"]))
            adjacent = days["items"][-1] if run["kind"] == "day" else days["items"][0]
            whole(days, said, adjacent)
            i += 2
            continue
        if run["kind"] == "day":
            whole(run, PARTS, None)
        else:
            said = {p for t in run["items"] for p in t.value}
            slots.update((d, p) for d in DAYS for p in said)
        i += 1
    return slots


def parse(text: str) -> list[str]:
    """Slots named by the text, sorted by day then part; [] when it names no time at all."""
    key = _respelled(normalize(text))
    tokens = _tokens(key)
    tokens = [t for t in tokens if t.kind != "not_time"]   # "ہفتے میں دو دن": a week, not Saturday
    slots = _pair(_day_ranges(_clocks(tokens, key)))
    return [f"{d}:{p}" for d in DAYS for p in PARTS if (d, p) in slots]


def part_of_day(hour: int) -> str:
    """The part of the day a clock hour falls in (PART_STARTS)."""
    return [part for part, start in PART_STARTS.items() if hour >= start][-1]
