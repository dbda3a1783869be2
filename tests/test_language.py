"""Language identification of short chat: script rules, the in-domain model with lingua, abstention."""
import pytest

from bot import language
from bot.langid_eval import Item, outcome
from onramp.settings import get_settings

LANGUAGES = get_settings().languages


def identify(text, hint=None):
    return language.identify(text, LANGUAGES, hint=hint)


@pytest.mark.parametrize("text", ["مرحبا", "آداب", "السلام عليكم", "سلام", "اهلا وسهلا", "صباح الخير"])
def test_an_arabic_script_greeting_is_arabic_or_urdu_never_a_latin_script_language(text):
    found = identify(text, hint="en")
    assert found.language in {"ar", "ur"}
    assert {lang for lang, _ in found.ranking} <= {"ar", "ur"}


def test_letters_only_urdu_uses_decide_urdu():
    assert identify("شکریہ").detected == "ur"
    assert identify("ٹھیک ہے").detected == "ur"


@pytest.mark.parametrize("text", ["پانی", "چاول", "پر", "ژالہ"])
def test_pe_che_and_zhe_are_urdus_letters_not_arabics(text):
    # the Arabic alphabet has no پ چ ژ: a word holding one is Urdu, however short
    found = identify(text)
    assert found.detected == "ur" and found.confidence == 1.0


@pytest.mark.parametrize("text, expected", [
    ("hola", "es"), ("bonjour", "fr"), ("namaste", "hi"), ("c'est quoi ?", "fr"), ("gracias!", "es"),
    ("dhonnobad", "bn"), ("who is this", "en"), ("ধন্যবাদ", "bn"), ("谢谢", "zh"),
])
def test_short_greetings_and_thanks_are_detected(text, expected):
    assert identify(text).detected == expected


def test_salam_in_latin_letters_is_answered_in_arabic_or_urdu_with_the_other_as_runner_up():
    found = identify("salam")
    assert found.language in {"ar", "ur"}
    assert ({"ar", "ur"} - {found.language}) <= set(found.runners_up())


@pytest.mark.parametrize("text", ["👍", "🙏🙏", "?", "12"])
def test_a_message_without_letters_gives_no_clue(text):
    found = identify(text)
    assert found.status == language.NO_CLUE and found.detected is None


@pytest.mark.parametrize("text", ["ok", "hi", "no"])
def test_two_letters_of_latin_script_are_never_taken_as_a_language(text):
    assert identify(text).detected is None


def test_a_hint_settles_a_close_call_but_not_a_sure_one():
    assert identify("bonjour", hint="es").detected == "fr"
    assert identify("👍", hint="es").language == "es"


def test_long_text_keeps_lingua_in_the_lead():
    text = "The weather in the city was pleasant and the committee published its annual report yesterday"
    assert identify(text).detected == "en"


@pytest.mark.parametrize("accepted, answer, expected", [
    ({"und"}, None, "right"), ({"und"}, "en", "wrong"), ({"hi", "ur"}, "ur", "right"),
    ({"fr"}, "es", "wrong"), ({"fr"}, None, "abstained"),
])
def test_the_chat_set_scores_abstentions_and_wrong_answers_apart(accepted, answer, expected):
    assert outcome(Item("x", frozenset(accepted)), answer) == expected


def test_the_in_domain_model_is_cached_by_a_hash_of_its_data(tmp_path, monkeypatch):
    from bot import langid_model

    monkeypatch.setattr(langid_model, "VAR", tmp_path / "var")
    data = tmp_path / "nlu"
    data.mkdir()
    (data / "en.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - hello there\n    - good morning\n    - thank you\n', encoding="utf-8")
    (data / "es.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - hola amigo\n    - buenos días\n    - muchas gracias\n', encoding="utf-8")
    first = langid_model.data_hash(data)
    fitted = langid_model.model(data)
    assert (tmp_path / "var" / f"langid-{first}.pickle").exists()
    assert set(fitted.probabilities("hola")) == {"en", "es"}
    with open(data / "es.yml", "a", encoding="utf-8") as more:
        more.write("    - buenas tardes\n")
    assert langid_model.data_hash(data) != first


def test_short_chat_written_beside_the_nlu_data_is_trained_on_and_retrains_when_it_changes(tmp_path, monkeypatch):
    from bot import langid_model

    monkeypatch.setattr(langid_model, "VAR", tmp_path / "var")
    data, chat = tmp_path / "nlu", tmp_path / "langid"
    data.mkdir()
    chat.mkdir()
    (data / "en.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - hello there\n    - good morning\n', encoding="utf-8")
    (data / "es.yml").write_text('nlu:\n- intent: greet\n  examples: |\n    - hola amigo\n    - buenos días\n', encoding="utf-8")
    (chat / "es.txt").write_text("# a comment is not a message\nqué onda\nórale pues\n", encoding="utf-8")
    texts, labels = langid_model.training_data(data)
    assert ("qué onda", "es") in set(zip(texts, labels))
    assert not any(text.startswith("#") for text in texts)
    first = langid_model.data_hash(data)
    with open(chat / "en.txt", "a", encoding="utf-8") as more:
        more.write("sup\n")
    assert langid_model.data_hash(data) != first
    assert "sup" in langid_model.model(data).vocabulary


@pytest.mark.parametrize("text, expected", [("shukran ya sadiqi", "ar"), ("ami khushi hoyechi", "bn"), ("tomar naam ki", "bn")])
def test_romanized_chat_with_words_never_seen_is_not_handed_to_lingua_as_english(text, expected):
    # lingua has never seen romanized Arabic or Bengali and calls it English; the in-domain
    # model's clear reading of a few such words stands
    assert identify(text).detected == expected


@pytest.mark.parametrize("text", ["hello", "bye", "sorry"])
def test_a_word_every_languages_chat_uses_alone_is_a_best_guess_not_a_detection(text):
    found = identify(text)
    assert found.status == language.GUESSED and found.detected is None and found.language is not None


def test_the_in_domain_models_shortcut_gives_scikit_learns_probabilities_exactly():
    import numpy as np

    from bot.langid_model import Linear, model

    fitted = model()
    shortcut = Linear.of(fitted.pipeline)
    texts = ["hi I want to volunteer", "hola", "bonjour a tous", "salam", "theek hai", "ni hao", "x", "", "2024",
             "আমি ব্রুকলিনে থাকি", "مرحبا", "je peux le samedi matin, j'habite a Harlem", "ok 👍"]
    for text in texts:
        assert np.array_equal(shortcut.predict_proba(text), fitted.pipeline.predict_proba([text])[0]), text
    assert max(fitted.probabilities("bonjour a tous"), key=fitted.probabilities("bonjour a tous").get) == "fr"


def test_a_word_seen_only_in_another_languages_chats_does_not_keep_the_in_domain_models_lean():
    from bot.langid_model import Model

    seen = Model(pipeline=None, languages=["en", "fr", "hi"],
                 vocabulary={"weekend": frozenset({"en"}), "theek": frozenset({"hi"}), "hai": frozenset({"hi", "ur"})})
    # leaning to French on a word only English chats hold is reading letters: lingua's to decide
    assert seen.known("weekend", {"fr"}) == 0.0
    assert seen.known("weekend", {"en"}) == 1.0
    assert seen.known("theek hai", {"ur"}) == 0.5
    assert seen.known("theek hai", None) == 1.0  # without a language: any chat at all


def test_one_letter_off_is_the_same_word_only_where_spelling_is_loose_or_the_ending_inflects():
    from bot.langid_model import Model

    seen = Model(pipeline=None, languages=["es", "fr", "hi"],
                 vocabulary={"continuer": frozenset({"fr"}), "machine": frozenset({"fr"}),
                             "dhanyavad": frozenset({"hi"})})
    # a letter changed inside a word of a language with a spelling is another word: Spanish
    # "continuar" is not a French chat spelling, and lingua decides it
    assert seen.known("continuar", {"fr"}, loosely_spelled={"hi"}) == 0.0
    # a last letter more is the same word inflected
    assert seen.known("machines", {"fr"}, loosely_spelled={"hi"}) == 1.0
    # romanized Hindi has no standard spelling: any one letter off is a chat spelling
    assert seen.known("dhanyavaad", {"hi"}, loosely_spelled={"hi"}) == 1.0
    assert seen.known("dhanyavaad", {"hi"}) == 0.0


def test_a_letter_held_in_chat_is_the_word_the_chats_hold():
    from bot.langid_model import Model

    seen = Model(pipeline=None, languages=["en", "fr"],
                 vocabulary={"hello": frozenset({"en"}), "merci": frozenset({"fr"})})
    assert seen.known("helllo", {"en"}) == 1.0  # held to two letters
    assert seen.known("merciiiii", {"fr"}) == 1.0  # held to one
    assert seen.known("merciiiii", {"en"}) == 0.0


def test_stretched_chat_words_are_read_in_their_language_not_by_their_letters():
    languages = ["ar", "bn", "en", "es", "fr", "hi", "ur", "zh"]
    assert language.identify("merciiiii", languages).language == "fr"
    assert language.identify("shukriyaaa", languages).language in {"ur", "hi"}
    assert language.identify("namasteee", languages).language == "hi"


def test_a_sibling_languages_cognate_is_not_taken_for_a_chat_spelling():
    languages = ["ar", "bn", "en", "es", "fr", "hi", "ur", "zh"]
    # one letter off French chat words ("continuer", "autres"): Spanish all the same
    assert language.identify("continuar", languages).language == "es"
    assert language.identify("autores", languages).language == "es"


def test_romanized_words_stay_the_in_domain_models_whichever_language_it_leans_to():
    from bot import langid_model

    # English chats never held "theek hai", yet lingua has never seen romanized Hindi either: when
    # the in-domain model reads the text as romanized, its words stay its own
    assert langid_model.model().known("theek hai", {"en"}) < 1.0
    assert language._known("theek hai", "en", {"hi": 0.4, "ur": 0.3, "en": 0.3}) == 1.0
    # an English word the romanized chats happen to hold is lingua's when the model reads English
    assert language._known("please", "fr", {"en": 0.8, "fr": 0.1, "hi": 0.1}) == 0.0
