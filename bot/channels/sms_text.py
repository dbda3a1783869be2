"""SMS length rules: GSM-7 (160 characters, 153 per part of a long message) or UCS-2 (70, 67),
counted the way carriers count, and split without ever cutting a character, an emoji or a
grapheme (a letter with its accents, a flag, a family emoji) in two."""
import regex

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # each takes two septets
_GRAPHEME = regex.compile(r"\X")
# A long message travels in parts of at most this many units (1600 characters: Twilio's limit).
MAX_PARTS_PER_SEND = 10


def is_gsm(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def units(text: str, gsm: bool) -> int:
    """Septets in GSM-7, UTF-16 code units in UCS-2 (an emoji outside the BMP takes two)."""
    if gsm:
        return sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> list[str]:
    """The parts the text travels in: one if it fits a single SMS, else parts of 153 / 67 units."""
    gsm = is_gsm(text)
    single, part = (160, 153) if gsm else (70, 67)
    if units(text, gsm) <= single:
        return [text] if text else []
    parts, current, size = [], "", 0
    for grapheme in _GRAPHEME.findall(text):
        width = units(grapheme, gsm)
        if size + width > part and current:
            parts.append(current)
            current, size = "", 0
        current += grapheme
        size += width
    if current:
        parts.append(current)
    return parts


def sends(text: str) -> list[str]:
    """The text in as few API calls as possible: each call carries at most MAX_PARTS_PER_SEND
    segments, cut only where a segment ends."""
    parts = segments(text)
    return ["".join(parts[i:i + MAX_PARTS_PER_SEND]) for i in range(0, len(parts), MAX_PARTS_PER_SEND)]
