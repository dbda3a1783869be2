"""Commands that measure: language identification, the NLU model, places, availability, and
the persona suite. Each prints its figures; docs/benchmarks.md says where they come from."""
import sys
from pathlib import Path

import typer

from onramp.cli.common import console
from onramp.settings import ROOT, get_settings

langid_app = typer.Typer(help="Language identification.", no_args_is_help=True)


@langid_app.command("eval")
def langid_eval(path: Path = typer.Argument(..., exists=True, help="a folder of <lang>.txt files (one text per line), "
                                            "or a chat set such as data/eval/langid-chat.tsv"),
                backend: str = typer.Option(None, help="lingua or langdetect (default: LANGUAGE_DETECTOR)"),
                method: str = typer.Option(None, help="folder mode: which identifier guesses (default: the backend alone)"),
                limit: int = typer.Option(0, help="only the first N lines of each file (0: all)")) -> None:
    """Folder mode: accuracy per language, then the mean. Chat-set mode: right / wrong / abstained
    per language, for each identifier, fresh items apart from those also in data/nlu."""
    from bot import language

    settings = get_settings()
    backend = backend or settings.language_detector
    if backend not in language.BACKENDS:
        raise typer.BadParameter(f"backend must be one of {', '.join(language.BACKENDS)}")
    if path.is_file():
        _langid_chat(path, settings.languages, backend)
    else:
        _langid_folder(path, backend, method, limit)


def _langid_folder(folder: Path, backend: str, method: str | None, limit: int) -> None:
    import time

    from rich.progress import Progress

    from bot import language

    guessers = language.folder_guessers(backend)
    method = method or backend
    if method not in guessers:
        raise typer.BadParameter(f"method must be one of {', '.join(guessers)}")
    files = sorted(folder.glob("*.txt"))
    languages = [f.stem for f in files]
    if not files:
        console.print(f"[red]no <lang>.txt files in {folder}[/red]")
        raise typer.Exit(1)
    accuracies, seconds, texts = {}, 0.0, 0
    with Progress(console=console, transient=True) as bar:
        for path in files:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            lines = lines[:limit] if limit else lines
            task = bar.add_task(path.stem, total=len(lines))
            right = 0
            for line in lines:
                started = time.perf_counter()
                right += guessers[method](line, languages) == path.stem
                seconds += time.perf_counter() - started
                bar.advance(task)
            accuracies[path.stem] = right / len(lines) if lines else 0.0
            texts += len(lines)
    console.print(f"detector: {method}, languages: {', '.join(languages)}")
    for language_code, accuracy in accuracies.items():
        console.print(f"{language_code}: {accuracy:.3f}")
    console.print(f"time per text: {seconds / max(texts, 1) * 1000:.3f} ms")
    print(f"mean accuracy: {sum(accuracies.values()) / len(accuracies):.3f}")


def _langid_chat(path: Path, languages: list[str], backend: str) -> None:
    from bot import langid_eval, language

    items = langid_eval.load_items(path)
    seen = {langid_eval.fold(t) for texts in langid_eval.nlu_examples(ROOT / "data" / "nlu").values() for t in texts}
    columns = [*languages, langid_eval.UND, "all"]
    for method, identify in language.chat_identifiers(languages, backend).items():
        tallies = langid_eval.score(items, identify, seen)
        groups = ("fresh", "in data/nlu", "all")
        console.print(f"\n[bold]{method}[/bold]: right/wrong/abstained and items, per accepted language")
        console.print(f"{'':<5}" + "".join(f"{g:>22}" for g in groups))
        for c in columns:
            cells = []
            for group in groups:
                t = tallies.get(group, {}).get(c)
                cells.append(f"{t.share('right'):.2f}/{t.share('wrong'):.2f}/{t.share('abstained'):.2f} {t.total:>4}" if t else "")
            console.print(f"{c:<5}" + "".join(f"{cell:>22}" for cell in cells))
        overall = tallies["all"]["all"]
        print(f"{method}: right {overall.share('right'):.3f}, wrong {overall.share('wrong'):.3f}, "
              f"abstained {overall.share('abstained'):.3f} of {overall.total}")


nlu_app = typer.Typer(help="The NLU model.", no_args_is_help=True)
NLU_MARK_START, NLU_MARK_END = "<!-- nlu-eval:start -->", "<!-- nlu-eval:end -->"


@nlu_app.command("eval")
def nlu_eval(write_docs: bool = typer.Option(True, help="write the results into docs/benchmarks.md")) -> None:
    """Intent accuracy and F1 per language on the frozen held-out set (eval/nlu-heldout.yml), which
    training never sees (trains a separate model: about a minute)."""
    import json
    import subprocess

    out = ROOT / "var" / "nlu-eval.json"
    out.parent.mkdir(exist_ok=True)
    python = ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        console.print("[red]no Rasa environment: run `make setup` first[/red]")
        raise typer.Exit(1)
    subprocess.run([str(python), "-m", "bot.assistant.evaluate", "--out", str(out)], cwd=ROOT, check=True)
    results = json.loads(out.read_text(encoding="utf-8"))
    lines = ["| language | held-out examples | intent accuracy | macro F1 | names and languages found exactly | most frequent confusions |",
             "|---|---|---|---|---|---|"]
    for language, r in sorted(results.items()):
        confusions = ", ".join(f"{c['intent']}→{c['predicted']} ×{c['count']}" for c in r["confusions"][:3]) or "none"
        entities = r["entities"]
        found = f"{entities['exact']:.2f} of {entities['examples']}" if entities["examples"] else "none held out"
        lines.append(f"| {language} | {r['examples']} | {r['accuracy']:.3f} | {r['f1_macro']:.3f} | {found} | {confusions} |")
    table = "\n".join(lines)
    console.print(table)
    if write_docs:
        docs = ROOT / "docs" / "benchmarks.md"
        text = docs.read_text(encoding="utf-8") if docs.exists() else ""
        block = f"{NLU_MARK_START}\n{table}\n{NLU_MARK_END}"
        if NLU_MARK_START in text:
            text = text.split(NLU_MARK_START)[0] + block + text.split(NLU_MARK_END, 1)[1]
        else:
            text += f"\n## Intent accuracy, held out\n\n{block}\n"
        docs.write_text(text, encoding="utf-8")
        console.print(f"written to {docs.relative_to(ROOT)}")
    worst = min(r["accuracy"] for r in results.values())
    print(f"lowest intent accuracy: {worst:.3f}")


personas_app = typer.Typer(help="The persona suite (tests/personas).", no_args_is_help=True)


@personas_app.command("run")
def personas_run(language: list[str] = typer.Option(None, help="only these languages"),
                 only: list[str] = typer.Option(None, help="only the personas with these ids"),
                 workers: int = typer.Option(3, help="personas talking at the same time"),
                 round_: list[Path] = typer.Option(None, "--round", exists=True, dir_okay=False,
                                                   help="a blind round's file (tests/personas/rounds/) instead")) -> None:
    """Drive the scripted supporters through the real stack over the Twilio webhook and check what
    was stored; prints the pass rate per language, each failure with its transcript, and
    `personas passed: N/M`."""
    import subprocess

    args = [sys.executable, "-m", "tests.personas.suite", "--workers", str(workers)]
    for path in round_ or []:
        args += ["--round", str(path.resolve())]
    for code in language or []:
        args += ["--language", code]
    for persona in only or []:
        args += ["--only", persona]
    raise typer.Exit(subprocess.run(args, cwd=ROOT).returncode)


locate_app = typer.Typer(help="Places: neighborhoods and ZIP codes in free text.", no_args_is_help=True)


@locate_app.command("eval")
def locate_eval(file: Path = typer.Argument(ROOT / "bench" / "locate" / "places.yml", exists=True, dir_okay=False,
                                            help="places per neighborhood and language, and non-place texts"),
                show_misses: bool = typer.Option(False, "--misses", help="print every text not found or falsely matched")) -> None:
    """Found rate per language on the places set (right neighborhood), and the false-match rate
    on its texts that name no place, against the demo campaign."""
    from campaign.turf_eval import evaluate, overall

    scores = evaluate(file)
    console.print("| language | places | found | wrong place | non-places | false matches |")
    console.print("|---|---|---|---|---|---|")
    for language, s in [*scores.items(), ("all", overall(scores))]:
        console.print(f"| {language} | {s.places} | {s.found_rate:.3f} | {s.wrong} | {s.non_places} | "
                      f"{s.false_matches} ({s.false_rate:.3f}) |")
        if show_misses and language != "all":
            for miss in s.misses:
                console.print(f"    {language}: {miss}", markup=False)
    total = overall(scores)
    print(f"found: {total.found_rate:.3f}, false matches: {total.false_rate:.3f}")


availability_app = typer.Typer(help="Free-text availability.", no_args_is_help=True)


@availability_app.command("eval")
def availability_eval(file: Path = typer.Argument(ROOT / "bench" / "availability" / "eval.yml", exists=True, dir_okay=False,
                                                  help="YAML: language -> list of {text, slots}"),
                      misses: bool = typer.Option(False, help="print every phrase whose slots are not exactly right")) -> None:
    """Exact-match rate of the availability parser per language and overall: a phrase counts
    only when its set of weekly slots is exactly the labelled one."""
    import yaml

    from campaign import availability

    labelled = yaml.safe_load(file.read_text(encoding="utf-8"))
    right_all = total_all = 0
    for language, items in labelled.items():
        right = 0
        for item in items:
            got = set(availability.parse(item["text"]))
            if got == set(item["slots"]):
                right += 1
            elif misses:
                want = set(item["slots"])
                console.print(f"  {language} {item['text']!r}: missing {sorted(want - got)}, extra {sorted(got - want)}",
                              markup=False)
        right_all, total_all = right_all + right, total_all + len(items)
        console.print(f"{language}: {right / len(items):.3f} ({right}/{len(items)})")
    print(f"overall exact: {right_all / total_all:.3f} ({right_all}/{total_all})")
