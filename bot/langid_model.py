"""The in-domain language model: character n-grams and a linear classifier, trained on the
campaign's own labelled chat messages (data/nlu/<lang>.yml, romanized Hindi and Urdu included)
and on short chat written for it (data/langid/<lang>.txt: greetings, yes/no, thanks, "who is
this", chat spellings and romanizations — the one- to three-word messages the NLU data has few of).

Chat is short and full of words no news corpus holds ("namaste ji", "theek hai", "c qui"), which
is where lingua alone is weak. Training is deterministic and takes a few seconds; the fitted model
is kept under var/, named by a hash of the data files, so it is trained again only when they change.
"""
import hashlib
import logging
import os
import pickle
import re
import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.langid_eval import fold, nlu_examples
from onramp.settings import ROOT, VAR

log = logging.getLogger(__name__)
DATA = ROOT / "data" / "nlu"
CHAT = "langid"  # the short-chat folder beside the NLU one (data/langid)
# bumped when the features or the classifier change, so an old cached model is not reused
VERSION = "6"
NGRAMS = (1, 4)
# chosen by 5-fold cross-validation on data/nlu (docs/benchmarks.md): calibrated linear SVM
# probabilities matched logistic regression's accuracy and calibration at a seventh of the time
C = 0.5
# chat spellings ("dhanyavaad") are matched one letter off only in words this long: shorter
# ones collide across languages (chosen on the development set, langid-chat-dev.tsv)
FUZZY_MIN_LETTERS = 6
# A word supporters write in many languages' chats alike ("hello", "ok", "bye") says little: it is
# "shared" when it is seen in at least SHARED_LANGUAGES languages and no language holds more than
# SHARED_TOP of its uses (counted per message, each language's count divided by its size).
SHARED_LANGUAGES, SHARED_TOP = 4, 0.5


@dataclass
class Model:
    pipeline: object
    languages: list[str]
    vocabulary: dict[str, frozenset[str]] = field(default_factory=dict)  # each word seen, folded: its languages
    shared: frozenset[str] = frozenset()  # words seen in many languages alike ("hello", "ok")
    _sorted: list[str] | None = None
    _linear: "Linear | bool | None" = None  # False: the pipeline's own predict_proba (two languages)

    def only_shared(self, text: str) -> bool:
        """Every word of the text is one that chats in many languages use alike."""
        words = [w for w in fold(text).split() if any(ch.isalpha() for ch in w)]
        return bool(words) and all(w in self.shared for w in words)

    def known(self, text: str, languages: Collection[str] | None = None,
              loosely_spelled: Collection[str] = ()) -> float:
        """The share of the text's words that the training messages hold (1.0: all of them). With
        `languages`, a word counts only when it was seen in one of them (the model leaning to French
        on a word it saw only in English chats is reading letters, not knowing the word).

        A word one letter off a word seen in one of them counts too, in two ways. In the
        `loosely_spelled` languages, written without a standard spelling, any one letter: a chat
        spelling ("dhanyavad", "dhanyavaad"). In the others only a last letter more or less: the
        same word inflected ("machines", "machine"); a letter changed inside is another word,
        often a sibling language's ("continuar" is not French "continuer")."""
        words = [w for w in fold(text).split() if any(ch.isalpha() for ch in w)]
        return sum(self._known_word(w, languages, loosely_spelled) for w in words) / len(words) if words else 0.0

    def _known_word(self, word: str, languages: Collection[str] | None, loosely_spelled: Collection[str]) -> bool:
        for spelling in _unstretched(word):
            if spelling in self.vocabulary:
                return languages is None or not self.vocabulary[spelling].isdisjoint(languages)
        if languages is None or len(word) < FUZZY_MIN_LETTERS:
            return False
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        if self._sorted is None:
            self._sorted = sorted(self.vocabulary)
        loose = set(languages) & set(loosely_spelled)
        for other, _, _ in process.extract(word, self._sorted, scorer=Levenshtein.distance, score_cutoff=1, limit=10):
            seen_in = self.vocabulary[other] & set(languages)
            if seen_in & loose or (seen_in and _inflected(word, other)):
                return True
        return False

    def probabilities(self, text: str) -> dict[str, float]:
        if self._linear is None:
            self._linear = Linear.of(self.pipeline) or False
        values = self._linear.predict_proba(text) if self._linear else self.pipeline.predict_proba([text])[0]
        return {str(language): float(p) for language, p in zip(self.pipeline.classes_, values)}


@dataclass
class Linear:
    """The calibrated SVMs' probabilities for one text as one matrix product: the same numbers
    as scikit-learn's predict_proba (tests/test_language.py compares them), at a fraction of its
    per-call cost, which is paid on every first message (it ran three estimators and three sets
    of calibrators one by one, in small numpy steps)."""
    vectorizer: object
    weights: object  # (features, folds x classes): every fold's SVM, side by side
    intercepts: object
    a: object  # each fold's sigmoid calibration, per class
    b: object
    folds: int
    classes: int

    @classmethod
    def of(cls, pipeline) -> "Linear | None":
        """None unless the shapes this shortcut relies on hold: three languages or more (two make
        one SVM, not one a class), each fold's SVM over every class in order, sigmoid calibration."""
        import numpy as np

        vectorizer, calibrated = pipeline.steps[0][1], pipeline.steps[-1][1]
        folds = calibrated.calibrated_classifiers_
        if len(calibrated.classes_) < 3 or any(
                fold.method != "sigmoid" or list(fold.estimator.classes_) != list(calibrated.classes_) for fold in folds):
            return None
        return cls(vectorizer,
                   np.hstack([fold.estimator.coef_.T for fold in folds]),
                   np.hstack([fold.estimator.intercept_ for fold in folds]),
                   np.hstack([[c.a_ for c in fold.calibrators] for fold in folds]),
                   np.hstack([[c.b_ for c in fold.calibrators] for fold in folds]),
                   len(folds), len(calibrated.classes_))

    def predict_proba(self, text: str):
        import numpy as np
        from scipy.special import expit

        decision = np.asarray(self.vectorizer.transform([text]) @ self.weights).ravel() + self.intercepts
        proba = expit(-(self.a * decision + self.b)).reshape(self.folds, self.classes)
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / self.classes), where=total != 0)
        proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba.mean(axis=0)


_STRETCHED = re.compile(r"(\w)\1{2,}")


def _unstretched(word: str) -> list[str]:
    """The word, and when a letter is held in it ("helllo", "holaaaa", "merciii": chat in every
    language), the word with that letter written twice and once."""
    if not _STRETCHED.search(word):
        return [word]
    return [word, _STRETCHED.sub(r"\1\1", word), _STRETCHED.sub(r"\1", word)]


def _inflected(word: str, other: str) -> bool:
    """One of the two is the other with one more letter at the end."""
    shorter, longer = sorted((word, other), key=len)
    return len(longer) == len(shorter) + 1 and longer.startswith(shorter)


def _language_files(folder: Path) -> list[Path]:
    """<lang>.yml for each campaign language (names.yml holds names, which have no language)."""
    from onramp.settings import get_settings

    return [folder / f"{language}.yml" for language in get_settings().languages if (folder / f"{language}.yml").exists()]


def chat_lines(path: Path) -> list[str]:
    """One message a line; blank lines and # comments skipped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _chat_files(folder: Path) -> list[Path]:
    from onramp.settings import get_settings

    chat = folder.parent / CHAT
    return [chat / f"{language}.txt" for language in get_settings().languages if (chat / f"{language}.txt").exists()]


def training_data(folder: Path = DATA) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    files = {path.stem for path in _language_files(folder)}
    for language, examples in nlu_examples(folder).items():
        if language not in files:
            continue
        texts += examples
        labels += [language] * len(examples)
    for path in _chat_files(folder):
        lines = chat_lines(path)
        texts += lines
        labels += [path.stem] * len(lines)
    return texts, labels


def build_pipeline():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    # char_wb: n-grams inside word boundaries, so "hai" and "hola" are seen with their edges
    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, lowercase=True, sublinear_tf=True, min_df=1),
        # probabilities from held-out folds (sigmoid), so a confidence of 0.9 means about 9 in 10
        CalibratedClassifierCV(LinearSVC(C=C, random_state=0), cv=3),
    )


def train(folder: Path = DATA) -> Model:
    texts, labels = training_data(folder)
    pipeline = build_pipeline()
    pipeline.fit(texts, labels)
    vocabulary: dict[str, set[str]] = {}
    uses: dict[str, Counter] = {}
    for text, label in zip(texts, labels):
        for word in set(fold(text).split()):
            vocabulary.setdefault(word, set()).add(label)
            uses.setdefault(word, Counter())[label] += 1
    return Model(pipeline, sorted(set(labels)), {word: frozenset(langs) for word, langs in vocabulary.items()},
                 _shared(uses, Counter(labels)))


def _shared(uses: dict[str, Counter], sizes: Counter) -> frozenset[str]:
    shared = set()
    for word, counts in uses.items():
        if len(counts) < SHARED_LANGUAGES:
            continue
        rates = [count / sizes[language] for language, count in counts.items()]
        if max(rates) / sum(rates) <= SHARED_TOP:
            shared.add(word)
    return frozenset(shared)


def data_hash(folder: Path = DATA) -> str:
    digest = hashlib.sha256(VERSION.encode())
    for path in [*_language_files(folder), *_chat_files(folder)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_TRAINING = threading.Lock()


def model(folder: Path = DATA) -> Model:
    """The fitted model for the current data: from var/ when it was trained on the same files.
    The inbound runner asks from several threads at once: one of them trains, the others wait."""
    with _TRAINING:
        return _model(folder)


@lru_cache
def _model(folder: Path) -> Model:
    cached = VAR / f"langid-{data_hash(folder)}.pickle"
    if cached.exists():
        try:
            return pickle.loads(cached.read_bytes())
        except Exception:  # a model from another scikit-learn version: train again
            log.info("cached language model %s unreadable, training again", cached.name)
    fitted = train(folder)
    try:
        VAR.mkdir(exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")  # two processes may train at once
        temporary.write_bytes(pickle.dumps(fitted))
        temporary.replace(cached)  # never a half-written file for another process to read
    except OSError as error:
        log.warning("could not cache the language model: %s", error)
    return fitted
