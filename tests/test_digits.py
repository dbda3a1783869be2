import pytest

from campaign.digits import fold_digits


@pytest.mark.parametrize("typed, read", [
    ("١١٣٧٢", "11372"),        # Arabic-Indic
    ("۱۱۳۷۲", "11372"),        # Extended Arabic-Indic (Urdu, Persian)
    ("১১৩৭২", "11372"),        # Bengali
    ("११३७२", "11372"),        # Devanagari
    ("１１３７２", "11372"),      # fullwidth
    ("zip ১১২০১ please", "zip 11201 please"),
])
def test_digits_of_every_script_read_as_ascii(typed, read):
    assert fold_digits(typed) == read


def test_text_without_digits_is_unchanged():
    assert fold_digits("আমি ব্রুকলিনে থাকি") == "আমি ব্রুকলিনে থাকি"
    assert fold_digits("²½") == "²½"  # superscripts and fractions are not decimal digits of a number
