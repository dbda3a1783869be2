"""How the identifier's weights and threshold were chosen: 5-fold cross-validation on data/nlu,
never the evaluation set. `python -m bot.langid_tune` prints, for the short messages (1-3 words)
of the held-out folds, how many are detected and how many of those are wrong, per lingua weight
and confidence threshold (under a minute). Hindi answered for romanized Urdu (or the reverse) is
counted apart: the same words are in both files, and the switch line offers the other.

`python -m bot.langid_tune --dev` sweeps the romanized-keep share and the threshold on the
development chat sets (data/eval/langid-chat-dev*.tsv), right / wrong per set."""
import sys

import numpy as np

from bot import language
from bot.langid_model import build_pipeline, training_data

WEIGHTS = (0.0, 0.3, 0.5, 0.7)
THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8)
KEEPS = (0.6, 0.7, 0.8, 1.01)  # 1.01: never kept from lingua
DEV_THRESHOLDS = (0.55, 0.6, 0.65, 0.7)


def dev() -> None:
    from bot import langid_eval
    from onramp.settings import ROOT, get_settings

    languages = get_settings().languages
    sets = {path.name: langid_eval.load_items(path) for path in sorted((ROOT / "data" / "eval").glob("langid-chat-dev*.tsv"))}
    for keep in KEEPS:
        language.ROMANIZED_KEEP = keep
        for sure in DEV_THRESHOLDS:
            language.SURE = sure
            cells = []
            for name, items in sets.items():
                outcomes = [langid_eval.outcome(item, language.identify(item.text, languages).detected) for item in items]
                cells.append(f"{name}: right {outcomes.count('right') / len(outcomes):.3f}, "
                             f"wrong {outcomes.count('wrong') / len(outcomes):.3f}")
            print(f"romanized keep {keep:.2f}, sure at {sure:.2f}: " + "; ".join(cells))


def main() -> None:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts, labels = training_data()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    probabilities = cross_val_predict(build_pipeline(), np.array(texts, dtype=object), np.array(labels), cv=folds,
                                      method="predict_proba")
    classes = sorted(set(labels))
    short = [i for i, text in enumerate(texts) if len(text.split()) <= 3]
    cache: dict[tuple, dict[str, float]] = {}
    lingua = language.BACKENDS["lingua"]

    def remembered(text, candidates):
        if (text, candidates) not in cache:
            cache[text, candidates] = lingua(text, candidates)
        return cache[text, candidates]

    language.BACKENDS["tuning"] = remembered
    print(f"{len(short)} short held-out messages")
    for weight in WEIGHTS:
        language.LINGUA_WEIGHT_SHORT = language.ARABIC_LINGUA_WEIGHT_SHORT = weight
        for sure in THRESHOLDS:
            language.SURE = sure
            detected = wrong = twins = 0
            for i in short:
                found = language.identify(texts[i], classes, backend="tuning", in_domain=dict(zip(classes, probabilities[i])))
                if found.detected is None:
                    continue
                detected += 1
                if found.detected != labels[i]:
                    wrong += 1
                    twins += language.ROMANIZED_TWINS.get(found.detected) == labels[i] and bool(
                        language._LATIN_LETTER.search(texts[i]))
            print(f"lingua weight {weight:.1f}, sure at {sure:.2f}: detected {detected / len(short):.3f}, wrong among "
                  f"detected {(wrong - twins) / max(detected, 1):.3f} (+ romanized hi/ur twins {twins / max(detected, 1):.3f})")


if __name__ == "__main__":
    dev() if "--dev" in sys.argv[1:] else main()
