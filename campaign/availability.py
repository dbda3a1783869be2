"""Free-text availability → weekly slots such as "sat:morning".

The words live in lexicon/availability.yml, one block per language, so a new language is data.
Reading a text takes four steps:

1. Tokens (campaign/availability_tokens.py): the lexicon's phrases (days, parts of day,
   connectors, hour markers) and the numbers, found longest first, typos of a day or a part of
   day read as that word.
2. Clock times: a number becomes a time only next to something that makes it one ("after 6",
   "de 1 a 4", "६ बजे के बाद", "3pm", "下午3点"); its span of hours covers parts of the day. Noon
   said with before/after is the morning/afternoon ("दोपहर से पहले"), an early-morning word makes
   bare hours am ("খুব ভোরে, ৬টা থেকে ৮টা"), and a day named by its number ranges to a bare
   number ("星期一至五").
3. Scope: each day takes the part of day said next to it ("Friday evening or Saturday morning"
   is fri:evening + sat:morning, not the cross product); a part said after a list of days
   belongs to each day of the list; a day alone is the whole day, a part alone is every day's.
4. Taken out: what an except word ("except Friday", "শুক্রবার ছাড়া", "禮拜日唔得") or a busy word
   ("weekdays I work", "عندي شغل") is said with is subtracted from what the rest gives, and an
   except word with nothing else said takes it out of every day ("not weekends").
"""
import regex

from campaign.availability_tokens import (DAYS, EXCEPTING, MARKERS, PARTS, Token, normalize, numbered_days, respelled,
                                          tokens_of)

# The one place where the parts of the day begin (hours, 24h clock); evening runs to midnight.
PART_STARTS = {"morning": 0, "afternoon": 12, "evening": 17}
# An hour said without am/pm: below this it is read as pm ("after 6" is 18:00), because
# volunteer shifts run in the day and the evening; 8 to 11 stay morning.
BARE_PM_BELOW = 8


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
# where a clause ends for except and busy words, and a sentence for early-morning words
_CLAUSE_BREAK = regex.compile(r"[,.;!?\n。！？；؛؟।۔]")
# how far apart an except or busy word and what it takes may stand ("শনিবার আসতে পারবো না"), or
# two things it takes; further is another clause ("بشتغل بالنهار فبقدر بالليل")
_REACH = regex.compile(r"[^,.;!?\n]{0,12}")
_SENTENCE_BREAK = regex.compile(r"[.;!?\n。！？；؛؟।۔]")


def _near(key: str, first: Token, second: Token) -> bool:
    return _NEAR.fullmatch(key[first.end:second.start]) is not None


def _numbered_ranges(tokens: list[Token], key: str) -> list[Token]:
    """"星期一至五", "周一到五": after a range, a bare number ends a range of days named by their
    number (the lexicon's `numbered_days`); "星期一到三点" stays a time."""
    prefixes = numbered_days()
    out = list(tokens)
    for i in range(len(out) - 2):
        day, link, num = out[i:i + 3]
        after = out[i + 3] if i + 3 < len(out) else None
        if (prefixes and day.kind == "day" and not day.group and key[day.start:day.end].startswith(prefixes)
                and link.kind in ("range", "until") and num.kind == "num" and num.value in range(1, 8)
                and not key[day.end:link.start].strip() and not key[link.end:num.start].strip()
                and not (after is not None and after.kind in MARKERS and not key[num.end:after.start].strip())):
            out[i + 2] = Token(num.start, num.end, "day", (DAYS[int(num.value) - 1],))
    return out


def _noon(tokens: list[Token], key: str) -> list[Token]:
    """Noon by its words: "before noon" / "दोपहर से पहले" / "中午之前" is the morning, "after noon"
    / "দুপুরের পরে" the afternoon; at the end of a range it is 12:00 ("9 till noon", "للظهر"),
    starting one it is 12 ("noon to 4"), next to a number it says pm ("दोपहर 2 बजे"), alone it
    is the afternoon."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind != "noon":
            out.append(token)
            i += 1
            continue
        prev = tokens[i - 1] if i > 0 and _near(key, tokens[i - 1], token) else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) and _near(key, token, tokens[i + 1]) else None
        after_nxt = tokens[i + 2] if i + 2 < len(tokens) else None
        part = Token(token.start, token.end, "part", ("afternoon",), joined=token.joined)
        ends_range = token.joined == "to" or (prev is not None and prev.kind in ("range", "until") and i >= 2
                                              and tokens[i - 2].kind in MARKERS | {"num"})
        if ends_range or (nxt is not None and nxt.kind == "num") or (prev is not None and prev.kind in MARKERS | {"num"}):
            out.append(part)
        elif prev is not None and prev.kind in ("before", "until", "after") and out and out[-1] is prev:
            out[-1] = Token(prev.start, token.end, "part", ("afternoon",) if prev.kind == "after" else ("morning",),
                            joined=prev.joined)
        elif nxt is not None and nxt.kind in ("before", "until", "after") and not (after_nxt and after_nxt.kind == "num"):
            out.append(Token(token.start, nxt.end, "part", ("afternoon",) if nxt.kind == "after" else ("morning",),
                             joined=token.joined))
            i += 1
        elif nxt is not None and nxt.kind in ("range", "until") and after_nxt is not None and after_nxt.kind == "num":
            out.append(Token(token.start, token.end, "num", 12.0, timed=True, joined=token.joined))
        else:
            out.append(part)
        i += 1
    return out


def _early(tokens: list[Token], key: str) -> list[Token]:
    """"early evening": an early-morning word before another part of day only qualifies it."""
    return [t for i, t in enumerate(tokens)
            if not (t.early and i + 1 < len(tokens) and tokens[i + 1].kind == "part" and "morning" not in tokens[i + 1].value
                    and _near(key, t, tokens[i + 1]))]


def _clocks(tokens: list[Token], key: str) -> list[Token]:
    """Numbers with what makes them times become `part` tokens; their helpers are used up."""
    used: set[int] = set()
    out: dict[int, Token] = {}

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
            if tokens[j].kind in skip or (j in used and tokens[j].kind in MARKERS | {"part"}):
                j += step
                continue
            return None
        return None

    def early(i: int) -> bool:
        """An early-morning word in the same sentence, with no and/or between ("খুব ভোরে, ৬টা থেকে ৮টা")."""
        for e, token in enumerate(tokens):
            if token.early:
                low, high = sorted((e, i))
                if not _SENTENCE_BREAK.search(key[tokens[low].end:tokens[high].start]) \
                        and not any(tokens[k].kind == "and" for k in range(low + 1, high)):
                    return True
        return False

    def marker(i: int) -> tuple[str | None, bool]:
        """am/pm of number i, from "pm" after it or a part of day next to it; and whether
        anything at all (hour word, am/pm, part) marks it as a time."""
        found, timed = None, False
        j = i + 1
        while j < len(tokens) and j not in used and tokens[j].kind in MARKERS and near(j - 1, j):
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
            side = neighbour(i, +1, {"part"}, MARKERS) or neighbour(i, -1, {"part"}, {"hour", "after", "before", "until", "between"})
            if side is not None and len(tokens[side].value) == 1:
                used.add(side)
                found, timed = ("am" if tokens[side].value[0] == "morning" else "pm"), True
        if found is None and early(i):
            found = "am"        # says am, but does not make a number a time
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
        link = neighbour(i, +1, {"range", "until", "and"}, MARKERS)
        # the end may have its own part before it: "9点到中午12点"
        end = neighbour(link, +1, {"num"}, {"part", "hour"}) if link is not None else None
        # or be a part of the day: "من ٩ الصبح للظهر", "from 9 until the evening"
        limit = neighbour(link, +1, {"part"}) if link is not None and end is None and tokens[link].kind != "and" else None
        if limit is None and link is None and end is None:
            limit = neighbour(i, +1, {"part"}, MARKERS)
            limit = limit if limit is not None and tokens[limit].joined == "to" else None
        if limit is not None and len(tokens[limit].value) == 1:
            used.add(limit)
            if link is not None:
                used.add(link)
            low = _hour(token.value, start_marker)
            high = PART_STARTS[tokens[limit].value[0]]
            out[i] = Token(token.start, tokens[limit].end, "part", _parts_of_span(low, high if high > low else 24))
            i = limit + 1
            continue
        if end is not None and tokens[link].kind == "and":
            between = neighbour(i, -1, {"between"}, {"hour"})
            if between is None:
                between = neighbour(end, +1, {"between"}, MARKERS)
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
            tail = neighbour(end, +1, {"until"}, MARKERS)   # "१ से ४ बजे तक"
            if tail is not None:
                used.add(tail)
            out[i] = Token(token.start, tokens[end].end, "part", _parts_of_span(low, high))
            i = end + 1
            continue
        before = neighbour(i, -1, {"after", "before", "until"}, {"hour"})
        if before is None:
            before = neighbour(i, +1, {"after", "before", "until"}, MARKERS)
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
        out[i] = Token(token.start, token.end, "part", _parts_of_span(*span))
        i += 1
    result = []
    for index, token in enumerate(tokens):
        if index in out:
            result.append(out[index])
        elif index not in used and token.kind != "num":
            result.append(token)
    return result


def _day_ranges(tokens: list[Token]) -> list[Token]:
    """"Monday to Friday", "lun-vie", "من الاثنين إلى الجمعة", "সোম থেকে শুক্র পর্যন্ত"."""
    out: list[Token] = []
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
                out.append(Token(token.start, tokens[end].end, "day", span, group=True, joined=token.joined))
                i = end + 1
                if i < len(tokens) and tokens[i].kind == "until":
                    i += 1      # "से शुक्रवार तक": the closing word of the range
                continue
        out.append(token)
        i += 1
    return out


def _pair(tokens: list[Token]) -> set[tuple[str, str]]:
    """Each run of days with the run of parts next to it (nearest scope)."""
    runs: list[dict] = []
    pending_and = cut = False
    for token in tokens:
        if token.kind == "and":
            pending_and = True
            continue
        if token.kind == "sep":
            cut = True          # where what was taken out stood: the runs on each side stay apart
            continue
        if token.kind not in ("day", "part"):
            continue
        joined_and = pending_and or token.joined == "and"
        pending_and = False
        if runs and runs[-1]["kind"] == token.kind and not cut:
            runs[-1]["items"].append(token)
        else:
            runs.append({"kind": token.kind, "items": [token], "and_before": joined_and})
        cut = False
    slots: set[tuple[str, str]] = set()

    def whole(day_run: dict, parts: tuple[str, ...], adjacent: Token | None) -> None:
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


# between the days and parts an except or busy word takes: connectors, and markers no number used
_PASSED = {"and", "on", "range", "until", "after", "before", "between"} | MARKERS


def _reach(tokens: list[Token], key: str, n: int, step: int) -> list[int]:
    """The days and parts that token n takes, on one side, within its clause: the run of days
    or parts next to it, and the run of the other kind said right with that one ("except Friday
    evening", "शनिवार सुबह नहीं"); the indices from the first to the last of them."""
    taken: list[int] = []
    runs: list[str] = []
    j = n + step
    while 0 <= j < len(tokens):
        first, second = sorted((j - step, j))
        if tokens[j].kind == "break" or not _REACH.fullmatch(key[tokens[first].end:tokens[second].start]) \
                or _CLAUSE_BREAK.search(key[tokens[first].end:tokens[second].start]):
            break
        kind = tokens[j].kind
        if kind in ("day", "part"):
            if not runs or runs[-1] != kind:
                if len(runs) == 2 or (runs and not _near(key, *sorted((tokens[taken[-1]], tokens[j]), key=lambda t: t.start))):
                    break
                runs.append(kind)
            taken.append(j)
        elif kind not in _PASSED:
            break
        j += step
    return list(range(min(taken), max(taken) + 1)) if taken else []


def _busy_words(tokens: list[Token], key: str) -> list[Token]:
    """A busy word with an after/before word is a part of day ("after my job", "ऑफ़िस के बाद"
    = evening, "antes del trabajo" = morning); next to a not word it says the opposite ("no
    trabajo los sábados", "je ne travaille pas") and both go."""
    out = list(tokens)
    for i, token in enumerate(out):
        if token is None or token.kind != "busy":
            continue
        for j in (i - 1, i + 1):
            other = out[j] if 0 <= j < len(out) else None
            if other is None or not _near(key, *sorted((token, other), key=lambda t: t.start)):
                continue
            if other.kind in ("after", "before"):
                start, end = min(token.start, other.start), max(token.end, other.end)
                out[i], out[j] = Token(start, end, "part", ("evening",) if other.kind == "after" else ("morning",)), None
                break
            if other.kind in ("except", "except_after"):
                out[i] = out[j] = None
                break
    return [t for t in out if t is not None]


def _taken_out(tokens: list[Token], key: str) -> set[tuple[str, str]]:
    """What the rest of the text gives, less what except and busy words take out of it."""
    tokens = _busy_words(tokens, key)
    takers: list[tuple[Token, list[int]]] = []
    for n, token in enumerate(tokens):
        if token.kind in EXCEPTING:
            # "except Friday" takes what follows, "শুক্রবার ছাড়া" and "weekdays I work" what comes
            # before; when that side has nothing, the other side ("no weekends", "I work weekdays")
            side = +1 if token.kind == "except" else -1
            takers.append((token, _reach(tokens, key, n, side) or _reach(tokens, key, n, -side)))
    removed = {n for n, token in enumerate(tokens) if token.kind in EXCEPTING} | {k for _, taken in takers for k in taken}
    # a day named by itself in the rest stays when a group of days is taken out: "weekdays I
    # work, Friday evening is fine" keeps Friday evening
    alone = {d for n, t in enumerate(tokens) if n not in removed and t.kind == "day" and not t.group for d in t.value}
    minus: set[tuple[str, str]] = set()
    for token, taken in takers:
        said = _pair([tokens[k] for k in taken])
        if any(tokens[k].kind == "day" and tokens[k].group for k in taken):
            said = {(d, p) for d, p in said if d not in alone}
        minus |= said
    excepted = any(taken and token.kind != "busy" for token, taken in takers)
    rest: list[Token] = []
    for n, token in enumerate(tokens):
        if n not in removed:
            rest.append(token)
        elif not rest or rest[-1].kind != "sep":
            rest.append(Token(token.start, token.end, "sep"))
    slots = _pair(rest)
    if not slots and excepted:
        slots = {(d, p) for d in DAYS for p in PARTS}     # "except Friday", "not weekends": every other day
    return slots - minus


def parse(text: str) -> list[str]:
    """Slots named by the text, sorted by day then part; [] when it names no time at all."""
    key = respelled(normalize(text))
    tokens = tokens_of(key)
    tokens = [t for t in tokens if t.kind != "not_time"]   # "ہفتے میں دو دن": a week, not Saturday
    tokens = _early(_noon(_numbered_ranges(tokens, key), key), key)
    slots = _taken_out(_day_ranges(_clocks(tokens, key)), key)
    return [f"{d}:{p}" for d in DAYS for p in PARTS if (d, p) in slots]


def part_of_day(hour: int) -> str:
    """The part of the day a clock hour falls in (PART_STARTS)."""
    return [part for part, start in PART_STARTS.items() if hour >= start][-1]
