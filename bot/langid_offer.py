"""When a first message's language was only guessed: the offer to switch that the first reply
carries, and what a number sent back to it means.

The offer is kept on the inbound message (payload "language_offer"): the guess, the runners-up,
and whether the text gave no clue at all (then every language is offered, as the help menu does).
On numbered channels the runners-up are one line of text ("¿Español? Responde 2": the guess is 1);
elsewhere each is a button. The line keeps within one extra SMS segment.
"""
from bot import catalog
from bot.channels.base import Choice
from bot.channels.sms_text import segments
from bot.language import NO_CLUE, Identification

OFFER = "language_offer"
SEPARATOR = " · "


def change_payload(language: str) -> str:
    """The same payload as a tap on the help menu's language buttons."""
    return f'/change_language{{"language": "{language}"}}'


def offer_for(found: Identification, guess: str, languages: list[str]) -> dict:
    if found.status == NO_CLUE:
        return {"guess": guess, "menu": True, "others": [lang for lang in languages if lang != guess]}
    others = [lang for lang in found.runners_up() if lang != guess and lang in languages]
    if not others:  # a guess with no runner-up worth naming: offer the next likeliest anyway
        others = [lang for lang, _ in found.ranking if lang != guess][:1]
    return {"guess": guess, "menu": False, "others": others}


def menu_order(offer: dict, languages: list[str]) -> list[str]:
    return [lang for lang in languages if lang == offer["guess"] or lang in offer["others"]]


def language_for_number(offer: dict, number: int, languages: list[str]) -> str | None:
    """What a number sent back means: the menu's n-th language, or 1 the guess, 2... a runner-up."""
    options = menu_order(offer, languages) if offer.get("menu") else [offer["guess"], *offer["others"]]
    return options[number - 1] if 1 <= number <= len(options) else None


def decorate(text: str, choices: list[Choice], offer: dict, numbered: bool, language: str, languages: list[str],
             timezone: str) -> tuple[str, list[Choice]]:
    """The first reply's text and choices with the offer added."""
    if offer.get("menu"):
        if choices:  # a number must mean one list only
            return text, choices
        menu = [Choice(catalog.render(f"choice_language_{lang}", {}, language, timezone), change_payload(lang))
                for lang in menu_order(offer, languages)]
        return f"{text}\n{catalog.render('language_menu', {}, language, timezone)}", [*choices, *menu]
    others = list(offer["others"])
    if not numbered:
        line = SEPARATOR.join(catalog.render("language_switch_button", {}, lang, timezone) for lang in others)
        buttons = [Choice(catalog.render(f"choice_language_{lang}", {}, lang, timezone), change_payload(lang)) for lang in others]
        return f"{text}\n{line}", [*choices, *buttons]
    while others:
        line = SEPARATOR.join(catalog.render("language_switch_number", {"number": n}, lang, timezone)
                              for n, lang in enumerate(others, start=2))
        if len(segments(f"{text}\n{line}")) <= len(segments(text)) + 1:
            return f"{text}\n{line}", choices
        others.pop()  # one runner-up fewer rather than a second extra segment
    return text, choices
