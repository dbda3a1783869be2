"""Text folded for comparison: the one way the app compares what people type with its words.

Lower case (casefold), compatibility forms unified (NFKC: full-width letters, ligatures),
Latin letters without their accents ("policía" = "policia", "arrêt" = "arret"), other scripts
with their marks kept (they carry vowels in Devanagari and Bengali, and meaning in Arabic), and
runs of white space as one space.
"""
import unicodedata


def fold(text: str) -> str:
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold()):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue  # an accent on a Latin letter
        out.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())
