"""The onboarding form: name, then neighborhood or ZIP, then availability.

Every answer is read from whatever the supporter writes, whenever they write it ("I'm Ana from
Astoria, free on weekends" fills all three), and stored through the API as soon as it is known.
An answer to another question is kept for that question (availability given when the place was
asked), and after two answers that do not fit, the question comes as choices with a person to
talk to: never the same re-ask a third time.
"""
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import call, say, stamped, volunteer_id

# Intents that are about something else: their words are never taken as an answer. Any other
# message, when we asked where or when, is an attempt at one ("Narnia" gets "I couldn't find it").
REQUESTS = {"ask_human", "opt_out", "change_language", "help", "ask_what", "cancel", "reschedule", "goodbye", "thanks"}
# Requests that end the form (rules: "the form stops"): a place or a time mentioned in them ("can
# someone from the Astoria team call me?") is never taken as an answer, asked or not, or the form
# would carry on and the request would go unheard.
ENDS_THE_FORM = {"ask_human", "opt_out"}
# A name is more easily confused with small talk ("yes", "hi"), so those are not names either.
SMALL_TALK = {"greet", "affirm", "deny", "volunteer"}
NOT_A_NAME = REQUESTS | SMALL_TALK
# How people introduce themselves, in each language. The unambiguous ones ("my name is") are
# read wherever they stand ("Hola, me llamo Ana"); the others ("I'm", "میں") say a name only at
# the start of a self-introduction or an answer to "what's your name?" ("I'm free on Sundays").
STRONG_PREFIXES = (r"my name is|my name's|name's|call me|me llamo|mi nombre es|je m'appelle|mon nom c'est|mon nom est|"
                   r"mwen rele|mera naam|mera nam|मेरा नाम|میرا نام|amar nam|amar naam|আমার নাম|اسمي|اسمى|ana esmi|esmi|"
                   r"我叫|我名叫|我的名字是|我嘅名係")
WEAK_PREFIXES = (r"i am|i'm|im|it's|its|this is|soy|je suis|moi c'est|c'est|আমি|انا|أنا|میں|मैं|我是|我係")
_BOUNDARY = r"(?:^|(?<=[\s,.!?،؛。，！]))"
STRONG = re.compile(_BOUNDARY + rf"(?:{STRONG_PREFIXES})\s*", re.IGNORECASE)
# ...after a greeting too: one word, with or without a comma ("Hola soy Ramón", "مرحبا انا أحمد",
# "你好我是王芳", "Yo soy Lupe"), or up to three and a comma ("Good morning, I'm Dave", "السلام
# علیکم، میں زینب ہوں"). What follows the prefix is a name only up to the words that start a place
# or a time (NAME_STOPS: "Hi I'm in Astoria").
_GREETING = r"(?:(?:[^\s,.!?،]+\s+){0,2}[^\s,.!?،]+\s*[,.!?،]\s*|[^\s,.!?،]+\s+|[\u3400-\u9fff]{1,3}?)"
WEAK = re.compile(rf"^{_GREETING}?(?:{WEAK_PREFIXES})(?:\s+|(?=[\u3400-\u9fff]))", re.IGNORECASE)
NAME_PREFIXES = re.compile(rf"^(?:{STRONG_PREFIXES}|{WEAK_PREFIXES})\s*", re.IGNORECASE)
# ...what some languages put after the name ("mera naam Ravi hai", "میں عمران ہوں", "मैं राहुल हूँ")
NAME_SUFFIXES = re.compile(r"\s+(hai|he|hoon|hun|hu|है|हूँ|हूं|ہے|ہوں|হয়|বলে)$", re.IGNORECASE)
# Where a name ends when more follows: punctuation, and the words that start a place or a time.
NAME_END = re.compile(r"[,.;:!?،؛۔।。，、！？\n]| - ")
NAME_STOPS = {
    # en, es, fr
    "from", "in", "and", "free", "available", "living", "live", "near", "at", "on", "i", "i'm", "im", "here", "me",
    "de", "del", "y", "en", "vivo", "libre", "disponible", "puedo", "desde",
    "du", "des", "et", "à", "j'habite", "habite", "dispo", "je", "au",
    # ar, ur, hi, bn: the place's preposition, the conjunction, the verb of living or being free
    "من", "في", "أسكن", "اسكن", "متفرغ", "متفرغة", "متاح",
    "سے", "اور", "رہتا", "رہتی", "فارغ",
    "से", "में", "और", "रहता", "रहती", "फ्री",
    "থেকে", "আর", "থাকি", "ফ্রি",
}
# Chinese has no spaces: the name ends where living, coming from or being free begins.
ZH_NAME_END = re.compile(r"(住在|住|来自|在|从|周|星期|有空|，)")
# A Chinese name is a common surname and one or two given characters ("陈明", "李小龙"). The
# classifier has seen few of them and reads a given name's character as a word ("明" of "不明白",
# "帮" of "帮忙": help), so when we asked the name such an answer is a name unless the classifier
# is sure it is something else ("谢谢": thanks, though 谢 is a surname).
ZH_SURNAMES = ("王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾"
               "肖萧蕭田董袁潘于蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范範金石廖贾賈夏韦韋方白邹鄒"
               "孟熊秦邱江尹薛闫閆段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢严嚴覃武戴莫孔向汤湯关關欧歐伍麦麥")
ZH_NAME = re.compile(rf"[{ZH_SURNAMES}][\u4e00-\u9fff]{{1,2}}")
SURE = 0.9
MAX_NAME_WORDS = 4
INTRODUCED_NAME_WORDS = 3  # what follows a self-introduction's name is a place or a time
# After this many answers that do not fit, the question is asked as choices, with a person (the
# name: it is left for later).
MISSES_BEFORE_CHOICES = 2
# The name slot's value when the name was left for later: the form is done with it, nothing is
# stored, and nobody is called by it.
NAME_LATER = "\u2060"  # a word joiner: no one's name, and invisible if ever shown
# WhatsApp lists hold 10 rows: 8 places, "more" and "talk to a person".
PLACES_PER_PAGE = 8
PAGE = re.compile(r"^(.*?)\s*\((\d+)\)$")
PERSON = {"key": "choice_person", "payload": "/ask_human"}
AVAILABILITY_CHOICES = [{"key": "choice_weekday_evenings", "payload": "weekday evenings"},
                        {"key": "choice_weekends", "payload": "weekends"},
                        {"key": "choice_weekday_mornings", "payload": "weekday mornings"}]


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


NLU_DATA = Path(__file__).resolve().parents[1] / "data" / "nlu"
# The languages a change_language request can name (entity values, see data/nlu).
LANGUAGE_CODES = {"en", "es", "fr", "zh", "bn", "ar", "ur", "hi"}


def _is_answer(tracker: Tracker, not_answers: set[str] = REQUESTS, sure: float = 0.6) -> bool:
    name, confidence = _intent(tracker)
    if name == "change_language" and not set(tracker.get_latest_entity_values("language")) & LANGUAGE_CODES:
        return True  # "Carmen" is a name, not a language
    return name not in not_answers or confidence < sure


def _text(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("text") or "").strip()


@lru_cache
def _greeting_words() -> frozenset[str]:
    """Every one-word greeting of the NLU data, in every language ("hey", "hola", "salam", "آداب")."""
    words = set()
    for path in sorted(NLU_DATA.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent") != "greet":
                continue
            for line in str(block.get("examples") or "").splitlines():
                example = _bare(line.strip()[2:]) if line.strip().startswith("- ") else ""
                if example and len(example.split()) == 1:
                    words.add(example)
    return frozenset(words)


def _bare(text: str) -> str:
    return text.strip(" !?.,،。！").casefold()


def _greeting(text: str) -> bool:
    return _bare(text) in _greeting_words()


NAME_WORDS = Path(__file__).resolve().parent / "name_words.yml"


@lru_cache
def _titles() -> tuple[frozenset[str], tuple[str, ...]]:
    """Forms of address said before a name (words) and after it (words, or Chinese endings)."""
    data = yaml.safe_load(NAME_WORDS.read_text(encoding="utf-8"))
    before = frozenset(str(w).casefold() for words in data["before"].values() for w in words)
    after = tuple(sorted({str(w).casefold() for words in data["after"].values() for w in words}, key=len, reverse=True))
    return before, after


def _without_titles(text: str) -> str:
    """"Mme Awa Koné" is Awa Koné, "王先生" is 王, "Asif bhai" is Asif: the form of address goes
    when a name remains."""
    before, after = _titles()
    words = text.split()
    while len(words) > 1 and words[0].casefold().rstrip(".") in before:
        words = words[1:]
    while len(words) > 1 and words[-1].casefold() in after:
        words = words[:-1]
    text = " ".join(words)
    for ending in after:  # written without a space, as Chinese does
        if len(text) > len(ending) and text.casefold().endswith(ending) and not text[-len(ending) - 1].isspace():
            if re.match(r"[\u3400-\u9fff]", ending):
                return text[:-len(ending)]
    return text


def clean_name(text: str) -> str | None:
    text = NAME_SUFFIXES.sub("", NAME_PREFIXES.sub("", text.strip()).strip(" .!,;:。，！")).strip(" .!,;:。，！")
    text = _without_titles(text)
    if not text or any(ch.isdigit() for ch in text) or len(text.split()) > MAX_NAME_WORDS:
        return None
    return text.title() if text.islower() else text


def _name_words(rest: str) -> str:
    """The name at the start of `rest`, cut before what follows it (a place, a time)."""
    rest = NAME_END.split(rest, maxsplit=1)[0].strip()
    if re.match(r"[\u3400-\u9fff]", rest):
        return ZH_NAME_END.split(rest, maxsplit=1)[0]
    words: list[str] = []
    for word in rest.split():
        folded = word.casefold()
        # Arabic joins "and" to the next word ("فاطمة وأسكن"): a second word starting with و ends the name
        if folded in NAME_STOPS or (words and word.startswith("و") and len(word) > 3):
            break
        words.append(word)
    return " ".join(words[:INTRODUCED_NAME_WORDS])


def introduced_name(text: str, weak_too: bool) -> str | None:
    """The name in a self-introduction ("I'm Dave from St. George", "আমি রহিম, ... থাকি")."""
    found = STRONG.search(text) or (WEAK.search(text) if weak_too else None)
    if found is None:
        return None
    return clean_name(_name_words(text[found.end():]))


# Slots the extractors keep beside the form's own (rasa_sdk only returns the form's slots).
BOOKKEEPING_SLOTS = ("name_misses", "neighborhood_misses", "availability_misses", "picked_borough")


class ValidateOnboardingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_onboarding_form"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        before = {slot: tracker.get_slot(slot) for slot in BOOKKEEPING_SLOTS}
        events = await super().run(dispatcher, tracker, domain)
        return events + [SlotSet(slot, tracker.slots.get(slot)) for slot in BOOKKEEPING_SLOTS
                         if tracker.slots.get(slot) != before[slot]]

    async def extract_volunteer_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("volunteer_name"):
            return {}
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "volunteer_name"
        intent, _ = _intent(tracker)
        # "I'm Dave from…" as a self-introduction or the answer to our question, but not a
        # request that starts the same way ("আমি একজন মানুষের সাথে কথা বলতে চাই": I want a person)
        answers = asked and (_is_answer(tracker, NOT_A_NAME)
                             or (ZH_NAME.fullmatch(text) is not None and _is_answer(tracker, NOT_A_NAME, sure=SURE)))
        introducing = intent == "inform" or answers
        name = introduced_name(text, weak_too=introducing) if not text.startswith("/") else None
        if name is None:
            # the model may tag the greeting too ("Hey! Jess here": "Hey" and "Jess")
            entity = next((e for e in tracker.get_latest_entity_values("name") if not _greeting(e)), None)
            if entity and introducing:
                name = clean_name(entity)
            elif answers:
                name = clean_name(text)
                # a place or a time given when the name was asked is that (their extractors keep it)
                if name and await _place_or_time(tracker, text):
                    name = None
        if name is None:
            if not asked or text.startswith("/") or not (intent in SMALL_TALK or answers):
                return {}
            # "yes", "hi", a place or a time when we asked the name: no name, but an answer, so the
            # form asks again instead of the fallback's "I didn't understand" -- twice at most: a
            # third time the name is left for later and the form goes on (never a loop)
            misses = int(tracker.get_slot("name_misses") or 0) + 1
            if misses >= MISSES_BEFORE_CHOICES:
                say(dispatcher, "name_later")
                return {"volunteer_name": NAME_LATER, "name_misses": misses}
            return {"volunteer_name": None, "name_misses": misses}
        await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}", json={"name": name})
        return {"volunteer_name": name}

    async def extract_neighborhood(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "neighborhood"
        given = tracker.get_slot("neighborhood")
        if not text or text.startswith("/") or not _is_answer(tracker, ENDS_THE_FORM):
            return {}
        found = await _locate(tracker, text)
        place = found.get("match")
        if given and not asked:
            # the place was given: another one named when we ask the time is a correction ("sorry,
            # I meant Astoria"), said back so the person sees it was heard. (When the name is asked,
            # "Chelsea" is a name or nothing: extract_volunteer_name decides.)
            if tracker.get_slot("requested_slot") != "availability" or place is None or place["neighborhood"] == given:
                return {}
            say(dispatcher, "place_changed", place=place["neighborhood"])
        if place is not None:
            await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}",
                       json={"neighborhood_id": place["neighborhood_id"], "zip_code": place["zip_code"]})
            return {"neighborhood": place["neighborhood"], "neighborhood_misses": 0, "picked_borough": None}
        if not asked or not _is_answer(tracker):
            return {}
        borough = await _borough(text)
        if borough is not None:  # the ask shows that borough's neighborhoods
            return {"neighborhood": None, "picked_borough": borough}
        if await _slots(tracker, text):
            return {}  # an answer to the next question: extract_availability keeps it
        misses = int(tracker.get_slot("neighborhood_misses") or 0) + 1
        if misses < MISSES_BEFORE_CHOICES:
            say(dispatcher, "place_not_found", text=found.get("unknown_zip") or text[:60])
        return {"neighborhood": None, "neighborhood_misses": misses}

    async def extract_availability(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        text = _text(tracker)
        asked = tracker.get_slot("requested_slot") == "availability"
        given = tracker.get_slot("availability")
        # every slot filled and nothing asked: the form runs again on a later message, and times in
        # it are new times ("لا آسف، الخميس مساء" after the offers): kept, and the shifts offered again
        again = bool(given) and tracker.get_slot("requested_slot") is None and bool(tracker.get_slot("neighborhood"))
        if not text or text.startswith("/") or not (asked or not given or again):
            return {}
        if not _is_answer(tracker, ENDS_THE_FORM):
            return {}
        slots = await _slots(tracker, text)
        if again and (not slots or sorted(slots) == sorted(given)):
            return {}
        if not slots:
            # a place named instead is an answer to the place question (extract_neighborhood keeps it)
            if asked and _is_answer(tracker) and not (await _locate(tracker, text)).get("match"):
                misses = int(tracker.get_slot("availability_misses") or 0) + 1
                if misses < MISSES_BEFORE_CHOICES:
                    say(dispatcher, "availability_not_understood")
                return {"availability": None, "availability_misses": misses}
            return {}
        await call("PATCH", f"/v1/volunteers/{volunteer_id(tracker)}", json={"availability": slots})
        return {"availability": slots, "availability_misses": 0}


async def _place_or_time(tracker: Tracker, text: str) -> bool:
    return bool((await _locate(tracker, text)).get("match") or await _slots(tracker, text))


# The app reads each message's place and times before Rasa does (bot/pipeline/reading.py) and
# sends them in the stamped metadata; the API is asked only for a message that came another way.
READ_FIELD = "read"


def _reading(tracker: Tracker) -> dict | None:
    return (stamped(tracker) or {}).get(READ_FIELD) or None


async def _locate(tracker: Tracker, text: str) -> dict:
    """The place the text names ({"match": ..., "unknown_zip": ...}, as /v1/locate answers)."""
    read = _reading(tracker)
    return read if read is not None else await call("GET", "/v1/locate", params={"text": text[:2000]})


async def _slots(tracker: Tracker, text: str) -> list[str]:
    read = _reading(tracker)
    if read is not None:
        return read["slots"]
    return (await call("POST", "/v1/availability/parse", json={"text": text[:2000]}))["slots"]


async def _boroughs() -> dict[str, list[str]]:
    return {b["name"]: b["neighborhoods"] for b in await call("GET", "/v1/boroughs")}


def _fold(text: str) -> str:
    return re.sub(r"^(the|el|la|le)\s+", "", text.casefold().strip(" .!?"))


async def _borough(text: str) -> str | None:
    """A borough named alone ("Brooklyn", "the Bronx", a "More…" page "Brooklyn (2)"), or None."""
    page = PAGE.match(text.strip())
    name = _fold(page.group(1) if page else text)
    for borough in await _boroughs():
        if _fold(borough) == name:
            return f"{borough} ({page.group(2)})" if page else borough
    return None


class AskNeighborhood(Action):
    """Where do you live: asked plainly, then (after two misses) as boroughs, then neighborhoods."""

    def name(self) -> str:
        return "action_ask_neighborhood"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        picked = tracker.get_slot("picked_borough")
        if picked:
            page = PAGE.match(picked)
            borough, number = (page.group(1), int(page.group(2))) if page else (picked, 1)
            hoods = (await _boroughs()).get(borough, [])
            shown = hoods[(number - 1) * PLACES_PER_PAGE:number * PLACES_PER_PAGE]
            choices = [{"key": "choice_place", "params": {"place": h}, "payload": h} for h in shown]
            if len(hoods) > number * PLACES_PER_PAGE:
                choices.append({"key": "choice_more", "payload": f"{borough} ({number + 1})"})
            say(dispatcher, "place_pick_neighborhood", choices=choices + [PERSON])
        elif int(tracker.get_slot("neighborhood_misses") or 0) >= MISSES_BEFORE_CHOICES:
            choices = [{"key": "choice_place", "params": {"place": b}, "payload": b} for b in await _boroughs()]
            say(dispatcher, "place_pick_borough", choices=choices + [PERSON])
        else:
            say(dispatcher, "ask_neighborhood")
        return []


class AskAvailability(Action):
    """When are you free: the common answers as choices (their payloads are words the parser
    knows, so a tap and a typed answer take the same path); after two misses, with a person."""

    def name(self) -> str:
        return "action_ask_availability"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        if int(tracker.get_slot("availability_misses") or 0) >= MISSES_BEFORE_CHOICES:
            say(dispatcher, "availability_pick", choices=AVAILABILITY_CHOICES + [PERSON])
        else:
            say(dispatcher, "ask_availability", choices=AVAILABILITY_CHOICES)
        return []
