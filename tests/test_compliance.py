"""STOP, START and HELP in every supported language, matched before any model sees them."""
from pathlib import Path

import pytest
import yaml

from bot.compliance import classify

KEYWORDS = yaml.safe_load((Path(__file__).resolve().parent.parent / "bot" / "compliance.yml").read_text(encoding="utf-8"))
LANGUAGES = ["en", "es", "fr", "zh", "bn", "ar", "ur", "hi"]


def variants(word: str) -> list[str]:
    return [word, word.lower(), word.upper(), f"  {word} ", f"{word}.", f"{word}!", f'"{word}"']


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_its_stop_start_and_help_words(language):
    for kind in ("stop", "start", "help"):
        assert KEYWORDS[kind].get(language), f"no {kind} words for {language}"


@pytest.mark.parametrize("word", [w for words in KEYWORDS["stop"].values() for w in words])
def test_every_stop_word_in_every_form_opts_out(word):
    for text in variants(str(word)):
        assert classify(text) == "stop", text
        assert classify(text, opted_out=True) == "stop", text


@pytest.mark.parametrize("word", [w for words in KEYWORDS["start"].values() for w in words])
def test_start_words_resubscribe_only_someone_who_opted_out(word):
    for text in variants(str(word)):
        assert classify(text, opted_out=True) == "start", text
        assert classify(text) is None, text  # to anyone else it is an ordinary message


@pytest.mark.parametrize("word", [w for words in KEYWORDS["help"].values() for w in words])
def test_every_help_word_gets_help(word):
    for text in variants(str(word)):
        assert classify(text) == "help", text


@pytest.mark.parametrize("text", [
    "stop texting me", "can you stop", "no", "yes", "Ana", "Astoria", "11372", "weekends", "বন্ধু", "बंदा",
    "I can't make it", "cancel my shift", "non", "不", "না", "نہیں", "",
])
def test_ordinary_messages_are_not_keywords(text):
    assert classify(text) is None
