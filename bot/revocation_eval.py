"""Scoring the revocation detector (bot/revocation.py) on a set written blind (eval/revocation/).

    python -m bot.revocation_eval eval/revocation/set1.yml [--baseline] [--errors]

A set lists, per language, `revocations` (the sender withdraws consent; `certain: false` marks a
tentative phrasing) and `look_alikes` (share words or shape with one, and are not one). Printed
per language: revocations caught certain, caught uncertain (the bot asks once) and missed;
look-alikes stopped outright (false stops) and asked about (false asks).

The exit status is 1 when any language misses more than one revocation or stops anyone falsely:
a false stop silences a volunteer who never asked for it, and the target is none.
`--baseline` scores what the bot did before #24: a message is a revocation only when it is
exactly a compliance keyword (bot/compliance.py).
"""
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot import compliance, revocation

MAX_MISSED = 1  # per language
MAX_FALSE_STOPS = 0  # per language
MAX_FALSE_ASKS = 2  # per language: a target, reported, not a failure


@dataclass
class Row:
    language: str
    revocations: int = 0
    certain: int = 0
    uncertain: int = 0
    missed: int = 0
    look_alikes: int = 0
    false_stops: int = 0
    false_asks: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.missed > MAX_MISSED or self.false_stops > MAX_FALSE_STOPS


def baseline(text: str) -> str | None:
    """Before #24: only a whole-message compliance keyword opted out."""
    return revocation.CERTAIN if compliance.classify(text) == "stop" else None


def score(data: dict, detect: Callable[[str], str | None]) -> list[Row]:
    rows = []
    for language, items in data.items():
        row = Row(language)
        for item in items.get("revocations") or []:
            verdict = detect(item["text"])
            row.revocations += 1
            if verdict == revocation.CERTAIN:
                row.certain += 1
            elif verdict == revocation.UNCERTAIN:
                row.uncertain += 1
            else:
                row.missed += 1
                row.errors.append(f"missed      {item['text']}")
        for item in items.get("look_alikes") or []:
            verdict = detect(item["text"])
            row.look_alikes += 1
            if verdict == revocation.CERTAIN:
                row.false_stops += 1
                row.errors.append(f"FALSE STOP  {item['text']}  ({item.get('kind', '')})")
            elif verdict == revocation.UNCERTAIN:
                row.false_asks += 1
                row.errors.append(f"false ask   {item['text']}  ({item.get('kind', '')})")
        rows.append(row)
    return rows


def table(rows: list[Row]) -> str:
    head = (f"{'lang':<5} {'revocations':>11} {'certain':>8} {'uncertain':>10} {'missed':>7}   "
            f"{'look-alikes':>11} {'false stops':>12} {'false asks':>11}")
    lines = [head, "-" * len(head)]
    total = Row("all")
    for row in rows:
        lines.append(_line(row))
        for name in ("revocations", "certain", "uncertain", "missed", "look_alikes", "false_stops", "false_asks"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    lines += ["-" * len(head), _line(total, mark=False)]
    return "\n".join(lines)


def _line(row: Row, mark: bool = True) -> str:
    flag = "  << fails" if mark and row.failed else ""
    return (f"{row.language:<5} {row.revocations:>11} {row.certain:>8} {row.uncertain:>10} {row.missed:>7}   "
            f"{row.look_alikes:>11} {row.false_stops:>12} {row.false_asks:>11}{flag}")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    show_errors = "--errors" in args
    use_baseline = "--baseline" in args
    paths = [a for a in args if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    data = yaml.safe_load(Path(paths[0]).read_text(encoding="utf-8"))
    rows = score(data, baseline if use_baseline else revocation.detect)
    print(f"{paths[0]}: {'baseline (exact compliance keywords only)' if use_baseline else 'bot/revocation.py'}")
    print(table(rows))
    if show_errors:
        for row in rows:
            for error in row.errors:
                print(f"{row.language}  {error}")
    failing = [row.language for row in rows if row.failed]
    if failing:
        print(f"fails: {', '.join(failing)} (more than {MAX_MISSED} missed, or a false stop)")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
