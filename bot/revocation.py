"""A revocation of consent in natural words, in every campaign language (#24).

The FCC's TCPA rule: consent to messages can be revoked "by any reasonable means". A message that
is exactly a compliance keyword (STOP, BAJA, 退订... bot/compliance.py) has always opted out; this
module reads the rest: "please don't text me anymore", "sáquenme de la lista", "请不要再给我发信息
了", "mujhe list se hatao". And it must never stop someone who did not ask: "what is this number?",
"who gave you my number?", "stop by tomorrow", "cancel my shift", "stop, I meant Astoria".

`detect(text)` says CERTAIN (opt the person out, as STOP does), UNCERTAIN (ask them once) or None.
It works from a lexicon of constructs (bot/revocation.yml): word classes per language (negation,
"more", stop verbs, messaging words, removal verbs, "me", "my number", "the list"...) that a few
rules below combine; vetoes that make a construct a look-alike when they govern its clause (a
shift, a time limit, a correction, a question about the number); hedges that make it uncertain.

    text -> fold -> words, cut into clauses -> the spans of every class -> rules -> hits
                                                         |                           |
                                          masks silence what they overlap     vetoes drop a hit,
                                                                              a hedge downgrades it

A veto governs a construct of its own language: Urdu کل ("tomorrow") is not Arabic كل ("every"),
Spanish "hoy" is not Bengali "hoy". English words count in every language (people mix them in).

Where a revocation stands among the other things a message can ask for: bot/pipeline/keywords.py
(PRECEDENCE).
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from bot import compliance
from bot.revocation_text import VETO_IN_CLAUSE, Span, Token, lexicon_data, inside, is_latin, is_word, overlap, Text

class Verdict(StrEnum):
    CERTAIN = "certain"      # a revocation: opt the person out, as STOP does
    UNCERTAIN = "uncertain"  # maybe one: ask once ("Reply STOP to stop"), hold automated messages


CERTAIN, UNCERTAIN = Verdict.CERTAIN, Verdict.UNCERTAIN

# How far apart the parts of a construct may be: words in between (a Chinese character counts half).
NEAR = 3        # a stop verb and what it stops; not wanting and what is not wanted
TIGHT = 2       # a negation and the messaging word it governs ("don't [ever] text me")
ADJACENT = 1    # "me" and its removal verb; "no more" and its noun
SELF_REACH = 5  # a removal verb and the list or number in its clause

EVERYWHERE = "en"  # English words are mixed into every language
# What a bare "stop" is read against in the whole message ("Cancel. I can't make it Saturday")
WIDE_VETOES = ("shift", "activity", "time_word", "time_q")
# Constructs whose own words are also vetoes elsewhere (a correction, a message sent by mistake)
OWN_WORDS = ("wrong_number", "never_signed_up")


# --- the rules -------------------------------------------------------------------------------

@dataclass
class _Hit:
    rule: str
    clause: int
    spans: list[Span]
    certain: bool = True
    # a bare "don't text me" (no "anymore"): a channel preference or "not now" may explain it
    bare_negation: bool = False
    message_wide: bool = False  # a bare "stop": its vetoes are read in the whole message


def _hits(t: Text) -> list[_Hit]:
    hits: list[_Hit] = []
    negs = t.get("neg")

    for span in t.get("fixed"):
        hits.append(_Hit("fixed", span.clause, [span]))

    # a stop verb and what it stops: "stop texting me", "dejen de escribirme", "মেসেজ পাঠানো বন্ধ করুন"
    for stop in t.get("stop", "enough"):
        targets = t.near(stop, ("msg", "send", "receive", "bother", "call_me"), NEAR)
        if t.languages(stop) <= _head_first():  # "stop texting", not "text you when I stop working"
            targets = [target for target in targets if target.start >= stop.start]
        for target in targets:
            hits.append(_Hit(f"{stop.cls}+{target.cls}", stop.clause, [stop, target]))

    for neg in negs:
        # a negation on a messaging word: "don't text me", "ne m'écrivez plus", "别联系我", "मैसेज मत करना"
        for target in _governed(t, neg, ("msg", "bother"), TIGHT):
            more = bool(t.near(neg, "more", NEAR) or t.near(target, "more", NEAR))
            hits.append(_Hit(f"neg+{target.cls}", neg.clause, [neg, target], bare_negation=not more))
        # on sending or calling, with "more": "no me manden más", "别再发了", "আর ফোন দিবাইন না"
        for target in _governed(t, neg, ("send", "call", "receive"), NEAR):
            more = t.near(target, "more", NEAR) or t.near(neg, "more", NEAR)
            if more:
                hits.append(_Hit(f"neg+more+{target.cls}", neg.clause, [neg, target]))
            elif target.cls != "call" and t.near(target, ("anything", "this_number"), SELF_REACH):
                # "এই নাম্বারে কিছু পাঠাইয়েন না", "no me manden nada"
                hits.append(_Hit(f"neg+{target.cls}+object", neg.clause, [neg, target]))
            elif target.cls == "send" and _alone(t, neg, target, extra=("self_weak", "more", "send")):
                # "don't send me", "لا تبعتولي", "no me manden": nothing else named, so nothing at all
                hits.append(_Hit("neg+send+nothing_else", neg.clause, [neg, target]))

    # "no more messages" said the other way round: "আর মেসেজ না", "aur message nahi please"
    for more in t.get("more"):
        for target in t.near(more, "msg", ADJACENT):
            if target.start >= more.end and any(no.start >= target.end for no in t.near(target, "bare_no", ADJACENT)) \
                    and _same_language(t, more, target):
                hits.append(_Hit("more+msg+no", more.clause, [more, target]))

    # "no more texts", "plus de messages", "NO MAS MENSAJES": right before the noun
    for nomore in t.get("nomore"):
        for target in t.near(nomore, "msg", 0):
            if target.start >= nomore.end:
                hits.append(_Hit("no_more+msg", nomore.clause, [nomore, target]))

    # not wanting messages: "I don't want these messages", "ما بدي رسايل", "ab koi update nahi chahiye"
    for nw in t.get("not_want") + _neg_want(t):
        for target in [x for x in t.near(nw, ("msg", "receive"), NEAR) if _same_language(t, nw, x)]:
            hits.append(_Hit(f"not_want+{target.cls}", nw.clause, [nw, target]))
        for target in t.near(nw, "send", NEAR):  # what is sent must be said: "不要发传单" is about flyers
            if t.near(target, ("more", "anything", "this_number"), NEAR):
                hits.append(_Hit("not_want+send", nw.clause, [nw, target]))
        for target in t.near(nw, "this_number", SELF_REACH):
            hits.append(_Hit("not_want+this_number", nw.clause, [nw, target]))
        # "I don't want to be involved anymore", "مش عايز أكون في الحملة دي تاني"
        if t.near(nw, "involve", SELF_REACH) and t.near(nw, "more", SELF_REACH):
            hits.append(_Hit("not_want+more+involve", nw.clause, [nw]))
        # "मुझे इस लिस्ट में नहीं रहना", "আপনাদের সাথে আর থাকতে চাই না"
        for stay in t.near(nw, "stay", NEAR):
            if t.near(stay, ("self", "involve"), SELF_REACH) or t.near(nw, "more", SELF_REACH):
                hits.append(_Hit("not_want+stay", nw.clause, [nw, stay]))

    # removal of me, my number, the list: "take me off the list", "borren mi número", "把我从名单上删掉"
    for removal in t.get("remove", "remove_self"):
        if any(t.gap(removal, n) <= ADJACENT or inside(n, removal) for n in negs):
            continue  # "don't remove me", "no me borren"
        if removal.cls == "remove_self":
            hits.append(_Hit("remove_self", removal.clause, [removal]))
            continue
        if any(d.start >= removal.end for d in t.near(removal, "done", ADJACENT)):
            continue  # "hata diya?", "মুছে দিয়েছেন?": asking whether it was done, not asking for it
        objects = t.near(removal, "self", SELF_REACH) + [me for me in t.near(removal, "self_weak", ADJACENT)
                                                          if _same_language(t, removal, me)]
        if objects:
            if not _changed_number(t, removal):
                hits.append(_Hit(f"remove+{objects[0].cls}", removal.clause, [removal, objects[0]]))
        elif _alone(t, removal, extra=("filler_object",)) and _says_who_elsewhere(t):
            # "... pls remove", "দয়া করে বাদ দিন", "امحوه": the bare verb, after saying who or what
            hits.append(_Hit("remove_alone", removal.clause, [removal]))

    # leaving a list: "me quiero salir de esta lista", "我要退出这个名单"
    for leave in t.get("leave"):
        if t.near(leave, ("self", "involve"), SELF_REACH) and not any(t.gap(leave, n) <= ADJACENT for n in negs):
            hits.append(_Hit("leave+list", leave.clause, [leave]))

    # "cancel my subscription", "إلغاء اشتراكي"
    for cancel in t.get("cancel"):
        for sub in t.near(cancel, "subscription", NEAR):
            hits.append(_Hit("cancel+subscription", cancel.clause, [cancel, sub]))

    # "not interested anymore" (without "anymore" it declines one offer: the dialogue's business)
    for ni in t.get("not_interested"):
        if t.near(ni, "more", NEAR):
            hits.append(_Hit("not_interested+more", ni.clause, [ni]))

    # "wrong number", "I never signed up for this": this person may not be ours to write to; ask
    for span in t.get("wrong_number", "never_signed_up"):
        hits.append(_Hit(span.cls, span.clause, [span], certain=False))

    # a threat about the messages: "再发我就举报了", "text me again and I'll report you"
    for threat in t.get("threat"):
        if t.get("msg", "send"):
            hits.append(_Hit("threat", threat.clause, [threat]))

    return hits + _bare_stops(t, hits)


def _governed(t: Text, neg: Span, classes: tuple[str, ...], most: float) -> list[Span]:
    """The words of these classes a negation can govern: near it, of its language, and after it
    in the languages whose negation comes first ("plus jamais", "ever again" may follow)."""
    found = [target for target in t.near(neg, classes, most) if _same_language(t, neg, target)]
    follows_ok = any(overlap(neg, m) for m in t.get("more"))
    if t.languages(neg) <= _head_first() and not follows_ok:
        found = [target for target in found if target.start >= neg.start]
    return found


def _same_language(t: Text, a: Span, b: Span) -> bool:
    """A negation and what it negates are words of one language (the messaging words that every
    language borrows, "msg", "sms", are entries of each)."""
    return bool(t.languages(a) & t.languages(b))


@lru_cache
def _head_first() -> frozenset[str]:
    return frozenset(lexicon_data().get("head_first") or ())


def _neg_want(t: Text) -> list[Span]:
    """A negation just before "want" ("i do not really want", "no queremos"), as one span."""
    return [Span("not_want", neg.start, want.end, want.clause, want.language)
            for want in t.get("want") for neg in t.get("neg")
            if neg.start < want.start and t.gap(neg, want) <= ADJACENT + 1]


def _changed_number(t: Text, removal: Span) -> bool:
    """ "delete my old number, the new one is ...": an update, not a withdrawal."""
    return any(t.gap(n, s) <= 2 for n in t.in_clause(removal.clause, "new_number")
               for s in t.in_clause(removal.clause, "self", "number", "this_number"))


def _alone(t: Text, *spans: Span, extra: tuple[str, ...] = ()) -> bool:
    """Their clause holds these spans and fillers only ("please remove", "band karo"), and words
    of the `extra` classes."""
    clause = spans[0].clause
    rest = set(t.clause_words(clause)) - {i for s in spans for i in range(s.start, s.end)}
    return not rest - t.covered(clause, "filler", *extra)


def _says_who_elsewhere(t: Text) -> bool:
    """The message names who or what to remove, or says it wants none of it."""
    return bool(t.get("self", "self_weak", "not_want", "remove_self") or _neg_want(t))


def _bare_stops(t: Text, hits: list[_Hit]) -> list[_Hit]:
    """A clause that is only a stop word ("This is harassment. Stop.", "band karo", "STOP karo").
    Certain when the message is nothing else, or when it speaks of messages, annoyance or a
    threat elsewhere; otherwise it only asks. Its vetoes are read in the whole message ("Stop, I
    meant Astoria", "Cancel. I can't make it Saturday")."""
    bare = []
    clauses = t.clauses()
    for clause in clauses:
        fillers = t.covered(clause, "filler", "filler_object")
        rest = [i for i in t.clause_words(clause) if i not in fillers]
        stops = t.in_clause(clause, "stop", "enough")
        rest = [i for i in rest if i not in t.covered(clause, "annoyance")]  # "ازعاج وقفوا": annoyed, stop
        said = " ".join(t.words[i].kept for i in rest)
        # "cancel please", "cancel karo": a keyword that also means something else stops only alone
        weak = bool(t.in_clause(clause, "weak_keyword"))
        keyword = bool(rest) and compliance.classify(said) == "stop" and not weak
        only_stop = bool(stops) and not set(rest) - t.covered(clause, "stop", "enough")
        if keyword or only_stop:
            strong = keyword or any(s.cls == "stop" for s in stops)
            words = t.clause_words(clause)
            spans = stops
            if keyword:  # a keyword is of the languages whose compliance list holds it
                spans = [Span("keyword", words[0], words[-1] + 1, clause, language)
                         for language in sorted(compliance.languages_of("stop", said))]
                for span in spans:
                    t.langs.setdefault(("keyword", span.start, span.end), set()).add(span.language)
            bare.append((clause, strong, spans))
    alone = {clause for clause, _, _ in bare}
    others = [c for c in clauses if c not in alone]
    supported = (bool(hits) or bool(t.get("msg", "send", "bother", "annoyance", "threat", "not_interested"))
                 or _asks_about_the_number(t))
    return [_Hit("bare_stop", clause, spans, certain=(strong and not others) or supported,
                 message_wide=True) for clause, strong, spans in bare]


# --- vetoes and hedges -----------------------------------------------------------------------

def _vetoes(t: Text, hit: _Hit) -> list[str]:
    """What makes this construct a look-alike. A veto counts for a construct of its own language
    (an English veto for any)."""
    mine = _hit_languages(t, hit)

    def counts(span: Span) -> bool:
        if hit.rule in OWN_WORDS and any(overlap(span, own) for own in hit.spans):
            return False  # its own words: "打错了", "发错人了" say "wrong number", not "I typed it wrong"
        theirs = t.languages(span)
        return not mine or not theirs or EVERYWHERE in theirs or bool(theirs & mine)

    why = []
    for clause in t.clauses():
        if clause != hit.clause and not hit.message_wide:
            continue
        for cls in VETO_IN_CLAUSE:
            if cls in ("instead", "moment") and not hit.bare_negation:
                continue  # a channel preference or "now": for a bare "don't text me" only
            if clause != hit.clause and cls not in WIDE_VETOES:
                continue
            if any(counts(s) for s in t.in_clause(clause, cls)):
                why.append(cls)
        if any(counts(b) and t.gap(b, c) <= 3 for b in t.in_clause(clause, "time_before") for c in _clocks(t, clause)):
            why.append("time_limit")
        if clause != hit.clause:
            continue
        asking = clause in t.asking
        if any(counts(q) and counts(n) and t.gap(q, n) <= 4 and (asking or q.start == t.clause_words(clause)[0])
               for q in t.in_clause(clause, "question") for n in t.in_clause(clause, "number")):
            why.append("number_question")
    if hit.bare_negation and any(counts(s) for s in t.get("instead")):
        why.append("instead")
    if hit.bare_negation and any(not any(t.gap(n, s) <= TIGHT for n in t.get("neg")) for s in t.get("ask_channel")):
        why.append("asks_another_way")  # "Don't text me, call me!"
    if any(counts(s) for s in t.get("correction")):
        why.append("correction")
    if hit.rule in ("fixed", "bare_stop", "cancel+subscription") and _about_the_word(t, hit):
        why.append("about_the_word")
    if hit.rule == "wrong_number" and any(_numeric(w) for w in t.words if is_word(w)):
        why.append("gives_a_number")  # "wrong number, it's 11375": a correction
    return sorted(set(why))


def _hedged(t: Text, hit: _Hit) -> bool:
    """A hedge in the construct's clause ("maybe take me off the list"), or a clause next to it
    that is nothing but a hedge ("no sé, ...", "..., idk"). A hedge on another statement ("je
    crois que ce n'est pas le bon moment... je préférerais ne plus recevoir de messages") does
    not make the withdrawal less clear."""
    for clause in (hit.clause - 1, hit.clause, hit.clause + 1):
        hedges = t.in_clause(clause, "hedge")
        if not hedges:
            continue
        if clause == hit.clause:
            return True
        words = set(t.clause_words(clause))
        if words and not words - t.covered(clause, "hedge", "filler", "filler_object"):
            return True
    return False


def _softened(t: Text, hit: _Hit) -> bool:
    mine = _hit_languages(t, hit)
    classes = ("soften", "soften_removal") if hit.rule.startswith(("remove", "leave")) else ("soften",)
    return any(not mine or EVERYWHERE in t.languages(s) or t.languages(s) & mine
               for s in t.in_clause(hit.clause, *classes))


def _hit_languages(t: Text, hit: _Hit) -> set[str]:
    """The languages all the spans of the construct share (empty: any)."""
    shared = None
    for span in hit.spans:
        langs = t.languages(span)
        if langs:
            shared = set(langs) if shared is None else shared & langs
    return shared or set()


def _asks_about_the_number(t: Text) -> bool:
    """ "who gave you my number? stop": a question about the number, in the message."""
    return any(t.gap(q, n) <= 4 for q in t.get("question") for n in t.get("number"))


def _numeric(word: Token) -> bool:
    """A number or a time: "9", "9am", "20h", "৯টার", "٩". Not Arabizi, whose digits are letters
    ("3ayez", "ra2am", "7bes")."""
    if not word.kept[:1].isdecimal():
        return False
    return bool(re.fullmatch(r"\d+(?:am|pm|h|hr|hrs|st|nd|rd|th)?", word.bare)) or not any(
        ch.isalpha() and is_latin(ch) for ch in word.kept)


def _clocks(t: Text, clause: int) -> list[Span]:
    """Clock words, and numbers ("9", "9am", "৯টার", "٩")."""
    spans = t.in_clause(clause, "clock")
    for i in t.clause_words(clause):
        if _numeric(t.words[i]):
            spans.append(Span("clock", i, i + 1, clause, ""))
    return spans


def _about_the_word(t: Text, hit: _Hit) -> bool:
    """ "unsubscribe from what?", "আনসাবস্ক্রাইব মানে কী?": a question about the word itself."""
    if not t.asking and len([w for w in t.words if is_word(w)]) > 5:
        return False
    start, end = min(s.start for s in hit.spans), max(s.end for s in hit.spans)
    following = [i for i in range(end, len(t.words)) if is_word(t.words[i])][:3]
    return any(s.start in following or (s.clause == hit.clause and s.end <= start and start - s.end <= 3)
               for s in t.get("about_word"))


# --- the answer ------------------------------------------------------------------------------

@dataclass
class Reading:
    """What detect() saw in a message: the verdict, and why."""
    verdict: Verdict | None
    hits: list[str] = field(default_factory=list)    # "rule:certain" for each construct that held
    vetoed: list[str] = field(default_factory=list)  # "rule:veto" for each construct a veto dropped
    hedged: bool = False
    language: str | None = None  # the language whose words made the verdict, when one stands out


def read(text: str) -> Reading:
    """detect(), with its reasons."""
    if compliance.classify(text or "") == "stop":
        return Reading(CERTAIN, hits=["keyword:certain"])
    t = Text(text or "")
    words = [w for w in t.words if is_word(w)]
    if not words:
        return Reading(None)
    whole = [s for s in t.get("alone") if s.start == 0 and s.end == len(t.words)]
    if whole:
        return Reading(CERTAIN, hits=["alone:certain"], language=whole[0].language)
    kept, vetoed = [], []
    for hit in _hits(t):
        why = _vetoes(t, hit)
        if why:
            vetoed.append(f"{hit.rule}:{'+'.join(why)}")
            continue
        if _softened(t, hit) or _hedged(t, hit):
            hit.certain = False  # "maybe take me off", "stop the reminders" (maybe only that part)
        kept.append(hit)
    if not kept:
        return Reading(None, vetoed=_unique(vetoed))
    certain = any(h.certain for h in kept)
    return Reading(CERTAIN if certain else UNCERTAIN,
                   hits=_unique(f"{h.rule}:{'certain' if h.certain else 'uncertain'}" for h in kept),
                   vetoed=_unique(vetoed), hedged=any(_hedged(t, h) for h in kept), language=_language(t, kept))


def detect(text: str) -> Verdict | None:
    """CERTAIN: the message withdraws consent (opt out, as STOP does). UNCERTAIN: it may (ask once).
    None: it does not, or only looks like it ("what is this number?", "cancel my shift")."""
    return read(text).verdict


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def _language(t: Text, hits: list[_Hit]) -> str | None:
    """The language most of the words that made the verdict belong to, when one stands out."""
    counts = Counter(lang for hit in hits for span in hit.spans for lang in t.languages(span))
    if not counts:
        return None
    (first, n), *rest = counts.most_common()
    return first if not rest or rest[0][1] < n else None
