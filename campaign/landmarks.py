"""Landmarks, subway stations and cross streets: the places people give instead of their
neighborhood ("the Church Av stop on the Q", "la 181 con St. Nicholas", "Queens Center Mall").

Data, not phrases. Every neighborhood of the turf lists its subway stations with their lines, the
streets and avenues that run through it (numbered ones as ranges: "W 155-193 St", "3-8 Av",
"Av H-P") and its landmarks. They are stored as aliases with their kind, which the turf's tables
already hold: "station: Church Av (B Q)", "street: Church Av @ Flatbush" (the neighborhood after
@ keeps a street that crosses several neighborhoods one alias each), "landmark: Brooklyn College".
campaign/demo/load.py writes them from the campaign file (`aliases`). The words around them
(street, avenue, station, train, and, corner, in every launch language) are in
campaign/lexicon/places.yml and read by campaign/landmark_words.py. Names are found the way
campaign/place_names.py finds neighborhoods: exactly, then by letters and consonants in any
script, with the language's endings taken off.

What decides: a landmark or a station counts 2 for its neighborhood; a street 1 when written with
its street word ("Steinway St"; 2 if it runs through that neighborhood only), or when it crosses
another place named beside it ("tompkins and gates", "la 149 y la 3ra"); a borough said apart
counts 1 for its neighborhoods and rules out the others. A line said beside a station keeps the
stations of that name that run it (one that none runs rules the station out). The place is the
neighborhood with the most, at least 2, and no tie. A name read loosely from a few consonants
counts only if the words beside it agree, and never over a neighborhood or borough read from the
same words.
"""
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from campaign.landmark_words import DIRECTIONS, TYPES, Token, lines_said, read, vocabulary
from campaign.place_names import LANDMARK_KINDS as KINDS, PRIMARY_BONUS, Locator, consonant_key, is_landmark, lexicon, normalize  # noqa: F401
STRONG, STREET, BOROUGH = 2, 1, 1  # what a landmark or station, a street, a borough said count
DECIDES = 2
NEAR = 4  # tokens between a station and the line or station word that goes with it (as landmark_words)
CROSSING = 4  # tokens between two streets that cross (and, con, &, corner of...)
CAPITALS = 3  # a name this short ("Met", "Hub") is a name only written with its capital
MAX_STREET = 299
EXACT = 200  # Locator.mentions scores exact readings from 200
SHORT_KEY = 4  # consonants: a loose reading this short is chance unless the words beside it agree
_NUMBERED = re.compile(r"^(?:([nsew])\.?\s+)?(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?(?:st|nd|rd|th)?\s+(\S+)$", re.I)
_LETTERED = re.compile(r"^(\S+)\s+([a-z])(?:\s*[-–]\s*([a-z]))?$", re.I)
_ALIAS = re.compile(r"^(station|street|landmark):\s*(.+?)\s*(?:\(([^()]*)\)|@\s*.+)?$")


def aliases(turf: dict) -> list[str]:
    """A campaign file's neighborhood (campaign/demo/nyc.yml) as landmark aliases: `stations`
    ("Church Av (B Q)"), `streets`, `landmarks`; "|" separates other names of the same place."""
    out: list[str] = []
    for spec in turf.get("stations") or []:
        names, _, lines = str(spec).rpartition("(") if str(spec).rstrip().endswith(")") else (str(spec), "", "")
        out += [f"station: {name.strip()} ({lines.rstrip(') ').strip()})" for name in names.split("|")]
    for spec in turf.get("streets") or []:
        out += [f"street: {name.strip()} @ {turf['neighborhood']}" for name in str(spec).split("|")]
    for spec in turf.get("landmarks") or []:
        out += [f"landmark: {name.strip()}" for name in str(spec).split("|")]
    return out


@dataclass(frozen=True)
class Entry:
    kind: str
    hood: int
    typ: str | None = None  # st, av... (streets and stations)
    lines: frozenset = frozenset()
    lo: int | None = None  # numbered (181 St, W 155-193 St) or lettered (Av H-P, as ord)
    hi: int | None = None
    side: str | None = None
    letter: bool = False
    borough: int | None = None  # counts only when this borough is said ("[Staten Island] Borough Hall")


@dataclass
class Mention:
    start: int
    end: int
    first: int  # tokens
    last: int
    entries: list
    named: bool = True
    typed: bool = False
    typ: str | None = None
    head: bool = False  # its street word comes first ("calle 181")
    letter: str | None = None  # a lettered avenue's letter
    score: float = 0.0  # how the name was read: 200 and more exactly, less loosely
    corroborated: bool = False  # a street word, a station or line, a crossing or its borough said agrees
    weak: bool = False  # read loosely from a few consonants: counts only with what is said beside it
    weights: dict = field(default_factory=dict)  # neighborhood -> what the mention counts for it
    bare: set = field(default_factory=set)  # neighborhoods of its streets, written without their street word
    owners: set = field(default_factory=set)  # every neighborhood it can be in


def _type_of(word: str) -> str | None:
    roles = vocabulary().of(normalize(word).rstrip("."))
    return next((r for r in roles if r in TYPES), None)


def _core(name: str) -> str:
    """The name's words the matcher compares: without "the", "of"... ("The Hub": "hub")."""
    key = normalize(name)
    if _spaceless(key):
        return key
    words = [key[w.start:w.end] for w in lexicon().words_of(key) if not w.skip]
    return " ".join(words) or key


class Landmarks:
    def __init__(self, marks: list[tuple[str, int]], boroughs: dict[int, int], borough_names: dict[int, str]):
        """marks: (landmark alias, neighborhood id); boroughs: neighborhood -> borough id."""
        self.boroughs = boroughs
        self.cores: list[str] = []
        self.core_ids: dict[str, int] = {}
        self.named: list[list[Entry]] = []
        self.numbered: list[Entry] = []
        self.exact_only: set[int] = set()
        for alias, hood in marks:
            parsed = _ALIAS.match(alias.strip())
            if not parsed:
                continue
            kind, name, lines = parsed.group(1), parsed.group(2), parsed.group(3) or ""
            symbols = frozenset(normalize(s) for s in lines.split()) if kind == "station" else frozenset()
            self._add(kind, name, hood, symbols, None)
            for borough, borough_name in borough_names.items():  # "Staten Island Borough Hall": also
                rest = name[len(borough_name):].split()  # "Borough Hall" where Staten Island is said
                if kind == "landmark" and normalize(name).startswith(normalize(borough_name) + " ") and len(rest) > 1:
                    self._add(kind, " ".join(rest), hood, symbols, borough)
        self.index = Locator([(core, i, True) for i, core in enumerate(self.cores)]) if self.cores else None
        self.keys = [len("".join(consonant_key(lexicon().latin(w)) for w in core.split())) for core in self.cores]

    def _add(self, kind: str, name: str, hood: int, lines: frozenset, borough: int | None) -> None:
        if kind != "landmark":
            numbered, lettered = _NUMBERED.match(name), _LETTERED.match(name)
            if numbered and _type_of(numbered.group(4)):
                lo = int(numbered.group(2))
                self.numbered.append(Entry(kind, hood, _type_of(numbered.group(4)), lines, lo,
                                           int(numbered.group(3) or lo), (numbered.group(1) or "").lower() or None))
                return
            if lettered and _type_of(lettered.group(1)) == "av":
                lo = ord(lettered.group(2).lower())
                hi = ord((lettered.group(3) or lettered.group(2)).lower())
                self.numbered.append(Entry(kind, hood, "av", lines, lo, hi, letter=True))
                return
        words, typ = name.split(), None
        if kind != "landmark" and len(words) > 1 and _type_of(words[-1]):
            typ, name = _type_of(words[-1]), " ".join(words[:-1])
        core = _core(name)
        if core not in self.core_ids:
            self.core_ids[core] = len(self.cores)
            self.cores.append(core)
            self.named.append([])
        if re.search(r"\b[A-Z][A-Z0-9]+\b", name):  # an abbreviation (MCU, PS1, GWB) is read exactly only
            self.exact_only.add(self.core_ids[core])
        self.named[self.core_ids[core]].append(Entry(kind, hood, typ, lines, borough=borough))

    def read(self, text: str, key: str, hits: list[tuple[int, int, int]], loose, alike) -> tuple[tuple[int, str] | None, list]:
        """The neighborhood the landmarks in the text decide, as (id, words), and the streets
        written with their street word, as (start, end, neighborhoods they run through).
        hits: the exact neighborhood and borough names (target, start, end); loose(): the best
        loose readings of the text as a neighborhood and as a borough; alike(words, target): how
        alike the words are to that neighborhood's or borough's closest name."""
        self.alike_name = alike
        tokens = read(key)
        excluded: set[tuple[int, int]] = set()
        while True:  # once more without a loose reading that was really a neighborhood or a borough
            decided, streets, dropped = self._decide(text, key, tokens, hits, loose, excluded)
            if not dropped - excluded:
                return decided, streets
            excluded |= dropped

    def _decide(self, text: str, key: str, tokens: list[Token], hits: list, loose, excluded: set) -> tuple:
        named = self._named(text, key, tokens, hits, loose, excluded)
        mentions = sorted(named + _numbers(tokens, named), key=lambda m: m.first)
        used: set[int] = set()
        for mention in mentions:  # in the text's order: "X Av Y" is X Avenue and Y
            _attach_type(mention, tokens, used)
        mentions = [m for m in mentions if self._entries(m, tokens)]
        if not mentions:
            return None, [], set()
        lines = _lines(text, len(text) == len(key), tokens, mentions)
        said = _boroughs_said(hits, mentions, loose)
        for mention in mentions:
            self._weigh(mention, tokens, lines, said)
        crossings = _crossings(mentions, tokens)
        if any(m.named and m.score < EXACT for m in mentions):
            kept = _not_a_name(mentions, crossings, [loose().get(False), loose().get(True)])
            dropped = {(m.start, m.end) for m in mentions if m not in kept}
            if dropped:
                return None, [], dropped
        _cross(mentions, crossings)
        # a neighborhood's name inside a street or a landmark elsewhere is not that neighborhood
        # ("Flushing Av" is in Bushwick, "Borough Hall" is no Borough Park)
        streets = [(m.start, m.end, m.owners) for m in mentions if m.named and (
            m.typed or m.score >= EXACT and any(e.kind == "landmark" for e in m.entries))]
        if any(t >= 0 and not any(m.start <= s and e <= m.end for m in mentions) for t, s, e in hits):
            return None, streets, set()  # a neighborhood named as it is wins
        scores: dict[int, float] = {}
        for mention in mentions:
            for hood, weight in mention.weights.items():
                scores[hood] = scores.get(hood, 0) + weight
        if said:
            scores = {h: s + BOROUGH for h, s in scores.items() if self.boroughs.get(h) in said}
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if not ranked or ranked[0][1] < DECIDES or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
            return None, streets, set()
        hood = ranked[0][0]
        used_mentions = [m for m in mentions if m.weights.get(hood)]
        return (hood, key[min(m.start for m in used_mentions):max(m.end for m in used_mentions)]), streets, set()

    def _in(self, core: int, boroughs: set[int]) -> bool:
        return any(e.borough in boroughs or self.boroughs.get(e.hood) in boroughs for e in self.named[core])

    def _named(self, text: str, key: str, tokens: list[Token], hits: list, loose, excluded: set) -> list[Mention]:
        """The landmarks' names in the text, the longest and best reading first, none overlapping."""
        if self.index is None:
            return []
        # exact readings first, then those in a borough the text names ("اسٹیٹن آئی لینڈ، بورو ہال" is
        # Borough Hall, not the Bowery), the best, the longer, the one spelled closer ("ब्रुक": Brook, not Park)
        readings = [loose().get(False), loose().get(True)]
        said = {t for t, _, _ in hits if t < 0} | {r[1] for r in readings[1:] if r}
        found = sorted(self.index.mentions(key), key=lambda m: (m[0] < EXACT, not self._in(m[1], said), -m[0], m[2] - m[3],
                                                                -self._alike(key[m[2]:m[3]], m[1])))
        taken: list[Mention] = []
        cased = len(text) == len(key)
        for score, core, start, end in found:
            if any(start < m.end and m.start < end for m in taken) or score < EXACT and (
                    core in self.exact_only or (start, end) in excluded):
                continue
            name = self.cores[core]
            if len(name) <= CAPITALS and name.isascii() and cased and not text[start:start + 1].isupper():
                continue  # "met" is no museum, "the Met" is
            inside = [i for i, t in enumerate(tokens) if start <= t.start and t.end <= end]
            if not inside:
                continue
            first, last = inside[0], inside[-1]
            if score < EXACT and any(_vocabulary(tokens[i]) for i in (first, last)) or all(
                    _vocabulary(tokens[i]) for i in range(first, last + 1)):
                continue  # "وشارع" is a street word, not Shore Rd; "east" no East Rd
            typed = any(0 <= i < len(tokens) and tokens[i].type for i in (first - 1, last + 1))
            if any(s <= start and end <= e and (not typed or (s, e) != (start, end)) for _, s, e in hits):
                continue  # a neighborhood's or a borough's name, or part of it ("Sunset Park" is no "Park Av")
            if not typed and any(r and self._part_of(key[start:end], core, (start, end), r, score >= EXACT) for r in readings):
                continue  # so read loosely ("Flatbusj" is Flatbush, not Flatbush Av; "Bedford-Stuivesant")
            taken.append(Mention(start, end, first, last, [core], typed=_spaceless(name), score=score,
                                 weak=score < EXACT and self.keys[core] <= SHORT_KEY))
        return taken

    def _part_of(self, words: str, core: int, span: tuple[int, int], reading: tuple, exact: bool) -> bool:
        """The words are (part of) a neighborhood or a borough read loosely, as much as they are the
        landmark: inside a longer reading, or (read loosely) the same words spelled no closer to it."""
        _, target, start, end = reading
        if not (start <= span[0] and span[1] <= end):
            return False
        return span != (start, end) or not exact and self._alike(words, core) <= self.alike_name(words, target)

    def _alike(self, text: str, core: int) -> float:
        return fuzz.ratio(lexicon().latin(text), lexicon().latin(self.cores[core]))

    def _entries(self, mention: Mention, tokens: list[Token]) -> list[Entry]:
        """The places the mention can be, by its name or number and its street word."""
        if mention.named:
            entries = self.named[mention.entries[0]] if isinstance(mention.entries[0], int) else mention.entries
            if mention.typ:  # "Fort Hamilton Pkwy" is no fort; "Steinway St" no "Steinway Av"
                entries = [e for e in entries if e.kind != "landmark" and e.typ in (None, mention.typ)]
        elif mention.letter:
            value = ord(mention.letter)
            entries = [e for e in self.numbered if e.letter and e.lo <= value <= e.hi]
        else:
            token = tokens[mention.first if not mention.head else mention.first + 1]
            number = token.roles["num"]
            line_next = mention.last + 1 < len(tokens) and tokens[mention.last + 1].has("line")
            if token.has("spelled") and not mention.typed and not line_next:
                return []  # 十点 is a time, "first" a word: spelled numbers are streets only with 街, "Av"
            before = tokens[mention.first - 1] if mention.first else None
            side = next((r for r in (before.roles if before else {}) if r in DIRECTIONS), None)
            entries = [e for e in self.numbered if not e.letter and e.lo <= number <= e.hi
                       and (mention.typ is None or e.typ == mention.typ) and (side is None or e.side in (None, side))]
        mention.entries = list(entries)
        return mention.entries

    def _weigh(self, mention: Mention, tokens: list[Token], lines: dict[int, str], said: set[int]) -> None:
        """What the mention counts for each neighborhood, by what is said beside it."""
        entries = [e for e in mention.entries if e.borough is None or e.borough in said]
        near = range(max(0, mention.first - NEAR), min(len(tokens), mention.last + NEAR + 1))
        lines_said = {lines[i] for i in near if i in lines}
        context = bool(lines_said) or any(tokens[i].has("station") for i in near)
        stations = [e for e in entries if e.kind == "station"]
        served = [e for e in stations if e.lines & lines_said] if lines_said else stations
        if context and served:  # a station, and of the line said beside it
            entries = served
        elif any(e.kind != "station" for e in entries) or lines_said:
            entries = [e for e in entries if e.kind != "station"]  # "Church Av on the 7" is no Church Av station
        station = context and bool(served)
        mention.owners = {e.hood for e in entries}
        mention.corroborated = mention.typed or station or any(e.borough is not None for e in entries)
        alone = mention.named and len({e.hood for e in entries}) == 1  # "Steinway St", "包厘街": one neighborhood's
        for entry in entries:
            if entry.kind == "street" and not mention.typed or mention.weak and not mention.corroborated:
                mention.bare.add(entry.hood)  # counted only where it crosses (_cross)
                continue
            weight = STREET if entry.kind == "street" and not alone else STRONG
            mention.weights[entry.hood] = max(mention.weights.get(entry.hood, weight), weight)


def _not_a_name(mentions: list[Mention], crossings: dict, readings: list) -> list[Mention]:
    """A landmark read loosely, with nothing beside it that agrees, is no landmark where a
    neighborhood or a borough is read from the same words as well or better ("بورو بارك" is
    Borough Park, not Brower Park), unless it holds that reading and more."""
    kept = []
    for m in mentions:
        if _doubtful(m) and id(m) not in crossings and any(
                r is not None and m.start < r[3] and r[2] < m.end and not _holds(m, r) for r in readings):
            continue
        kept.append(m)
    return kept


def _doubtful(m: Mention) -> bool:
    return m.named and m.score < EXACT and not m.corroborated


def _holds(m: Mention, reading: tuple) -> bool:
    score, _, start, end = reading
    if not (m.start <= start and end <= m.end):
        return False
    return (m.start, m.end) != (start, end) or m.score - PRIMARY_BONUS > score  # every core is "primary"


def _boroughs_said(hits: list, mentions: list[Mention], loose) -> set[int]:
    """The boroughs named apart from any landmark ("Queens Center" does not say Queens)."""
    said = {t for t, s, e in hits if t < 0 and not any(m.start <= s and e <= m.end for m in mentions)}
    if not said:
        borough = loose().get(True)
        if borough and not any(m.start <= borough[2] and borough[3] <= m.end for m in mentions):
            said.add(borough[1])
    return said


def _numbers(tokens: list[Token], named: list[Mention]) -> list[Mention]:
    """Numbered streets ("181", "W 181 St", "la 3ra", "14大道") and lettered avenues ("Av H")."""
    inside = {i for m in named for i in range(m.first, m.last + 1)}
    out: list[Mention] = []
    for i, token in enumerate(tokens):
        if i in inside:
            continue
        number, letter = token.roles.get("num"), token.roles.get("letter")
        if number is not None and 0 < number <= MAX_STREET:
            out.append(Mention(token.start, token.end, i, i, [], named=False))
        elif letter and i and tokens[i - 1].type == "av" and not {i - 2, i - 1} & inside and not (
                i + 1 < len(tokens) and tokens[i + 1].has("line")):  # "Nostrand Av A train" is no Avenue A
            out.append(Mention(tokens[i - 1].start, token.end, i - 1, i, [], named=False, typed=True, typ="av", letter=letter))
    return out


def _spaceless(name: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", name))


def _attach_type(mention: Mention, tokens: list[Token], used: set[int]) -> None:
    """The street word after the name, or before it ("calle", "rue", "شارع", "Avenue H"; "وشارع",
    "and street", only before)."""
    if mention.typed:
        used.update(range(mention.first, mention.last + 1))
        return
    for i, head in ((mention.last + 1, False), (mention.first - 1, True)):
        if 0 <= i < len(tokens) and i not in used and tokens[i].type and (head or not tokens[i].has("and_before")):
            mention.typed, mention.typ, mention.head = True, tokens[i].type, head
            mention.first, mention.last = min(mention.first, i), max(mention.last, i)
            mention.start, mention.end = min(mention.start, tokens[i].start), max(mention.end, tokens[i].end)
            used.add(i)
            return


def _lines(text: str, cased: bool, tokens: list[Token], mentions: list[Mention]) -> dict[int, str]:
    spans = [(m.first, m.last, m.named or m.typed, {line for e in m.entries if e.kind == "station" for line in e.lines})
             for m in mentions]
    lines = lines_said(text, cased, tokens, spans)
    for mention in mentions:  # a number that is a line is no street ("la 103 del 7")
        if not mention.named and not mention.typed and mention.first in lines:
            mention.entries = []
    return lines


def _crossings(mentions: list[Mention], tokens: list[Token]) -> dict[int, Mention]:
    """Streets written without their street word that cross another place named in the same
    clause, a few words away ("Dyckman con Broadway", "Presbyterian de la 168"): id -> the other."""
    found: dict[int, Mention] = {}
    for mention in mentions:
        if not mention.bare and not mention.weak:
            continue
        for other in mentions:
            if other is mention or not other.weights and not other.bare:
                continue
            a, b = (mention, other) if mention.first < other.first else (other, mention)
            if b.first - a.last - 1 > CROSSING or any(t.has("break") for t in tokens[a.last + 1:b.first]):
                continue
            if not (other.named or other.typed or mention.named or mention.typed):
                continue  # two bare numbers ("10 and 2") cross nowhere
            joined = any(t.has("and") or t.has("corner") or t.has("and_before") for t in tokens[a.last + 1:b.first + 1])
            solid = other.typed or any(w == STRONG for w in other.weights.values())
            if not joined and (_doubtful(other) or not solid):
                continue  # two names side by side are no crossing ("कोरोना क्वींस"): "and", "y", "&"...
            if mention.weak and _bare_number(other) or other.weak and _bare_number(mention):
                continue  # a number does not make a name read from a few consonants a street ("করিম আর ৫")
            found[id(mention)] = other
            break
    return found


def _cross(mentions: list[Mention], crossings: dict[int, Mention]) -> None:
    """A street or a loosely read name that crosses another place still in the text counts."""
    alive = {id(m) for m in mentions}
    for mention in mentions:
        other = crossings.get(id(mention))
        if other is None or id(other) not in alive:
            continue
        mention.corroborated = True
        for hood in mention.bare or {e.hood for e in mention.entries}:
            mention.weights[hood] = max(mention.weights.get(hood, 0), STREET)


def _bare_number(m: Mention) -> bool:
    return not m.named and not m.typed


def _vocabulary(token: Token) -> bool:
    return any(r in token.roles for r in ("station", "line", "and", "corner", *DIRECTIONS)) or token.type is not None
