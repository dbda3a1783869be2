"""Digits as people type them, in any script, read as ASCII digits.

Supporters write ZIP codes and times in their own script's digits: ١١٣٧٢ (Arabic-Indic),
۱۱۳۷۲ (Extended Arabic-Indic, Urdu), ১১৩৭২ (Bengali), ११३७२ (Devanagari), or fullwidth
１１３７２ from a Chinese keyboard. Every Unicode decimal digit has a numeric value, so one rule
covers them all (and any script added later).
"""
import unicodedata


def fold_digits(text: str) -> str:
    """Every decimal digit (Unicode category Nd) becomes its ASCII digit; nothing else changes."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.category(ch) == "Nd" else ch
                   for ch in text)
