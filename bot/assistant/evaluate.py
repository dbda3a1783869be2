"""Held-out intent evaluation per language (runs inside .venv-rasa; `onramp nlu eval` calls it).

The held-out examples are frozen in eval/nlu-heldout.yml (every fifth example of each intent, as
the files stood when it was frozen), so training data added later cannot reshuffle them. A model is
trained on every other example of data/nlu (with names.yml and every synonym); an example whose
text is held out for its language is never trained on. The held-out examples are parsed, and
accuracy, macro F1, the most frequent confusions, how many annotated names and languages were found
exactly, and every example's prediction and confidence are written as JSON.
"""
import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HOLD_OUT_EVERY = 5
FROZEN = Path("eval/nlu-heldout.yml")
Example = tuple[str, str, set[tuple[str, str]]]  # text, intent, the (entity, value) pairs annotated


def _entities(entities: list[dict]) -> set[tuple[str, str]]:
    return {(e["entity"], str(e["value"]).lower()) for e in entities}


def split(nlu_dir: Path) -> dict[str, list[Example]]:
    """Every fifth example of each intent, in file order: how the frozen set was made
    (`python -m bot.assistant.evaluate --freeze` writes it)."""
    from rasa.shared.nlu.training_data.loading import load_data

    held_out: dict[str, list[Example]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        if len(path.stem) != 2:
            continue
        seen: Counter = Counter()
        held_out[path.stem] = []
        for example in load_data(str(path)).intent_examples:
            intent = example.get("intent")
            if seen[intent] % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1:
                held_out[path.stem].append((example.get("text"), intent, _entities(example.get("entities") or [])))
            seen[intent] += 1
    return held_out


def frozen(path: Path = FROZEN) -> dict[str, list[Example]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {language: [(e["text"], e["intent"], {tuple(pair.split("=", 1)) for pair in e.get("entities") or []})
                       for e in examples] for language, examples in data.items()}


def freeze(held_out: dict[str, list[Example]], path: Path) -> None:
    import yaml

    data = {language: [{"text": text, "intent": intent, **({"entities": [f"{e}={v}" for e, v in sorted(entities)]}
                                                          if entities else {})} for text, intent, entities in examples]
            for language, examples in held_out.items()}
    header = ("# The held-out intent set, frozen on 2026-12-01 from the split bot/assistant/evaluate.py made then\n"
              "# (every fifth example of each intent in data/nlu/<lang>.yml, in file order). `onramp nlu eval`\n"
              "# scores on these and trains on everything else, so adding training data cannot reshuffle it.\n"
              "# Never edit it to move a figure; entities are entity=value, as annotated.\n")
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=True, width=200), encoding="utf-8")


def training_set(nlu_dir: Path, train_dir: Path, held_out: dict[str, list[Example]]) -> None:
    """Write data/nlu to train_dir without the held-out texts of each language."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    for path in sorted(nlu_dir.glob("*.yml")):
        data = load_data(str(path))
        if len(path.stem) != 2:  # shared files (names.yml): train on all of it
            (train_dir / path.name).write_text(data.nlu_as_yaml(), encoding="utf-8")
            continue
        unseen = {text for text, _, _ in held_out.get(path.stem, [])}
        train = [e for e in data.intent_examples if e.get("text") not in unseen]
        kept = TrainingData(train, entity_synonyms=data.entity_synonyms, regex_features=data.regex_features,
                            lookup_tables=data.lookup_tables)
        (train_dir / path.name).write_text(kept.nlu_as_yaml(), encoding="utf-8")


def f1_macro(pairs: list[tuple[str, str]]) -> float:
    from sklearn.metrics import f1_score

    truth, predicted = zip(*pairs)
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


async def parse_all(model: Path, held_out: dict[str, list[Example]]) -> dict:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = {}
    for language, examples in held_out.items():
        pairs, details, entities_right, entities_total = [], [], 0, 0
        for text, intent, entities in examples:
            parsed = await agent.parse_message(text)
            if entities:  # a name or a language, found exactly (no more, no less)
                entities_total += 1
                entities_right += _entities(parsed.get("entities") or []) == entities
            pairs.append((intent, (parsed.get("intent") or {}).get("name")))
            # The classifier's own best guess under the fallback, to see what the threshold costs.
            ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"] + [{}, {}]
            details.append({"text": text, "intent": intent, "predicted": pairs[-1][1], "best": ranking[0].get("name"),
                            "confidence": round(float(ranking[0].get("confidence", 0.0)), 4),
                            "runner_up": round(float(ranking[1].get("confidence", 0.0)), 4)})
        confusions = Counter((t, p) for t, p in pairs if t != p)
        results[language] = {
            "examples": len(pairs),
            "accuracy": sum(t == p for t, p in pairs) / len(pairs),
            "f1_macro": f1_macro(pairs),
            "confusions": [{"intent": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common(5)],
            "entities": {"examples": entities_total, "exact": entities_right / entities_total if entities_total else None},
            "fallbacks": sum(p == "nlu_fallback" for _, p in pairs),
            "examples_detail": details,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nlu", default="data/nlu")
    parser.add_argument("--config", default="bot/assistant/config.yml")
    parser.add_argument("--frozen", default=str(FROZEN), help="the held-out examples (YAML, per language)")
    parser.add_argument("--out", help="where to write the results (JSON)")
    parser.add_argument("--freeze", metavar="PATH", help="only write today's every-fifth split to PATH (YAML) and stop")
    parser.add_argument("--blind", metavar="PATH", help="score a blind-written set (language -> [{text, intent}]) "
                        "with a model trained on all of data/nlu (--model, or trained now with --config)")
    parser.add_argument("--model", help="with --blind: an existing model to score (e.g. models/onramp.tar.gz)")
    args = parser.parse_args()
    if args.freeze:
        freeze(split(Path(args.nlu)), Path(args.freeze))
        return
    if args.blind:
        score_blind(args)
        return
    if not args.out:
        parser.error("--out is required")
    with tempfile.TemporaryDirectory() as tmp:
        train_dir = Path(tmp) / "nlu"
        train_dir.mkdir()
        held_out = frozen(Path(args.frozen))
        training_set(Path(args.nlu), train_dir, held_out)
        print(f"held out: {sum(map(len, held_out.values()))} examples in {len(held_out)} languages", flush=True)
        subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--nlu", str(train_dir), "--config", args.config,
                        "--out", tmp, "--fixed-model-name", "heldout", "--quiet"], check=True)
        results = asyncio.run(parse_all(Path(tmp) / "heldout.tar.gz", held_out))
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


def blind_set(path: Path) -> dict[str, list[Example]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {language: [(item["text"], item["intent"], set()) for item in items] for language, items in data.items()}


def score_blind(args) -> None:
    """A blind set is never trained on: the model is the one that ships (all of data/nlu), or one
    trained now on all of data/nlu with another config, its training time measured."""
    import time

    examples = blind_set(Path(args.blind))
    with tempfile.TemporaryDirectory() as tmp:
        model, seconds = args.model, None
        if model is None:
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "rasa", "train", "nlu", "--nlu", args.nlu, "--config", args.config,
                            "--out", tmp, "--fixed-model-name", "blind", "--quiet"], check=True)
            seconds, model = time.monotonic() - started, str(Path(tmp) / "blind.tar.gz")
        results = asyncio.run(parse_all(Path(model), examples))
    results["_training_seconds"] = seconds
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    for language, r in results.items():
        if not language.startswith("_"):
            print(f"{language}: accuracy {r['accuracy']:.3f}, macro F1 {r['f1_macro']:.3f} ({r['examples']} examples)")


if __name__ == "__main__":
    main()
