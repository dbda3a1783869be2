"""Message catalogs: one YAML file per language in bot/catalogs, rendered with Babel.

Parameters are plain values, or typed values such as {"type": "datetime", "value": ISO-8601},
formatted per locale in the campaign's time zone, or {"type": "message", "key", "params"}, another
catalog message rendered in the same language. In right-to-left languages each parameter is
isolated (FSI … PDI) so numbers, times and Latin names do not scramble the sentence.
"""
import re
import string
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from babel import Locale
from babel.dates import format_skeleton, format_time

CATALOGS = Path(__file__).resolve().parent / "catalogs"
RTL = {"ar", "ur", "fa", "he"}
FSI, PDI = "\u2068", "\u2069"
_FIELD = re.compile(r"{(\w+)}")


@lru_cache
def load(language: str) -> dict[str, str]:
    path = CATALOGS / f"{language}.yml"
    if not path.exists():
        raise LookupError(f"no message catalog for language {language!r} (expected {path})")
    return {str(k): str(v) for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def available() -> list[str]:
    return sorted(p.stem for p in CATALOGS.glob("*.yml"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _format_value(value, language: str, timezone: str) -> str:
    if isinstance(value, dict) and value.get("type") == "datetime":
        moment = datetime.fromisoformat(value["value"]).astimezone(ZoneInfo(timezone))
        locale = Locale.parse(language)
        day = format_skeleton("MMMMEEEEd", moment, locale=locale)
        clock = format_time(moment, "short", locale=locale)
        # the locale's own way of joining a date and a time ("{1}, {0}" in English)
        return str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)
    if isinstance(value, dict) and value.get("type") == "message":
        # a sentence of its own from the catalog, e.g. when the reminders of a booking will come
        return render(value["key"], value.get("params") or {}, language, timezone)
    if isinstance(value, dict) and value.get("type") == "list":
        return "; ".join(_format_value(item, language, timezone) for item in value.get("items") or [])
    return str(value)


def render(key: str, params: dict | None, language: str, timezone: str, fallback: str = "en") -> str:
    """The text of `key` in `language` (the fallback language when that catalog lacks it)."""
    catalog = load(language) if language in available() else {}
    if key not in catalog:
        language, catalog = fallback, load(fallback)
    template = catalog[key]
    values = {}
    for name in placeholders(template):
        raw = (params or {}).get(name, "")
        text = _format_value(raw, language, timezone)
        values[name] = f"{FSI}{text}{PDI}" if language in RTL and text else text
    return template.format(**values)


def variables(key: str, params: dict | None, language: str, timezone: str, fallback: str = "en") -> list[str]:
    """The values of the message's placeholders, formatted, in the order they appear in its text:
    the variables of an approved template written from the same message."""
    catalog = load(language) if language in available() else {}
    template = catalog.get(key) or load(fallback)[key]
    names = list(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name))
    return [_format_value((params or {}).get(name, ""), language, timezone) for name in names]


def check(reference: str = "en") -> list[str]:
    """Problems across all catalogs: missing keys, extra keys, placeholder mismatches."""
    problems: list[str] = []
    base = load(reference)
    for language in available():
        if language == reference:
            continue
        other = load(language)
        for key in sorted(base.keys() - other.keys()):
            problems.append(f"{language}: missing key {key!r}")
        for key in sorted(other.keys() - base.keys()):
            problems.append(f"{language}: extra key {key!r} (not in {reference})")
        for key in sorted(base.keys() & other.keys()):
            if placeholders(base[key]) != placeholders(other[key]):
                problems.append(
                    f"{language}: {key!r} has placeholders {sorted(placeholders(other[key]))}, "
                    f"{reference} has {sorted(placeholders(base[key]))}"
                )
    return problems
