"""SMS segments: counted as carriers count them, never cutting a character or grapheme."""
import pytest

from bot.channels.sms_text import is_gsm, segments, sends, units


@pytest.mark.parametrize("text, gsm, sizes", [
    ("hello", True, [5]),
    ("a" * 160, True, [160]),
    ("a" * 161, True, [153, 8]),
    ("€" * 80, True, [160]),  # extension characters take two septets
    ("€" * 81, True, [152, 10]),  # ...and are never split from their escape
    ("ñ" * 160, True, [160]),  # in the GSM alphabet
    ("ç" * 70, False, [70]),  # lower-case ç is not: the whole text becomes UCS-2
    ("😀" * 35, False, [70]),  # an emoji is two UTF-16 units
    ("😀" * 36, False, [66, 6]),  # ...and never cut in half (67 would split one)
    ("👨‍👩‍👧" * 20, False, [64, 64, 32]),  # a family emoji (5 code points, 8 units) stays whole
    ("مرحبا " * 20, False, [67, 53]),
])
def test_segments(text, gsm, sizes):
    assert is_gsm(text) is gsm
    parts = segments(text)
    assert "".join(parts) == text
    assert [units(p, gsm) for p in parts] == sizes


def test_accents_stay_with_their_letter():
    text = "e\u0301" * 40  # e + combining acute, 80 UTF-16 units
    parts = segments(text)
    assert all(not p.startswith("\u0301") for p in parts)
    assert "".join(parts) == text


def test_a_very_long_text_goes_in_several_sends_cut_at_segment_ends():
    text = "word " * 700  # 3,500 GSM characters: 23 segments
    calls = sends(text)
    assert "".join(calls) == text
    assert [len(segments(c)) for c in calls] == [10, 10, 3]
