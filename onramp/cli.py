"""The `onramp` command: the one entry point the Makefile and the Procfile call."""
import asyncio
import os
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from onramp.settings import ROOT, get_settings

app = typer.Typer(help="Onramp: onboard supporters into local teams and shifts.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo campaign.", no_args_is_help=True)
catalogs_app = typer.Typer(help="The message catalogs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(catalogs_app, name="catalogs")
console = Console()


@app.callback()
def _process() -> None:
    """Every command's process: its database is the one the settings name."""
    from campaign import db

    db.configure(get_settings().database_url)


def _logging() -> None:
    """Every process logs through onramp.logs: secrets redacted, libraries quiet."""
    from onramp import logs

    logs.setup(get_settings())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to DATABASE_URL."""
    from campaign.migrate import upgrade

    upgrade(get_settings().database_url)
    console.print(f"database ready: {_redacted(get_settings().database_url)}")


@demo_app.command("load")
def demo_load(force: bool = typer.Option(False, help="load even when the database already has teams")) -> None:
    """Load the NYC demo campaign (teams, turf, leads, two weeks of shifts) into an empty database."""
    from campaign.db import session_scope
    from campaign.demo import load

    with session_scope() as session:
        if not load.is_empty(session) and not force:
            console.print("demo campaign: the database already has teams, nothing loaded")
            return
        counts = load.load(session)
    console.print("demo campaign loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@catalogs_app.command("check")
def catalogs_check() -> None:
    """Fail when a key or a placeholder is missing or extra in any language."""
    from bot import catalog

    problems = catalog.check()
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(1)
    console.print(f"catalogs complete: {', '.join(catalog.available())}")


langid_app = typer.Typer(help="Language identification.", no_args_is_help=True)
app.add_typer(langid_app, name="langid")


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
app.add_typer(nlu_app, name="nlu")
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
app.add_typer(personas_app, name="personas")


@personas_app.command("run")
def personas_run(language: list[str] = typer.Option(None, help="only these languages"),
                 only: list[str] = typer.Option(None, help="only the personas with these ids"),
                 workers: int = typer.Option(3, help="personas talking at the same time")) -> None:
    """Drive the scripted supporters through the real stack over the Twilio webhook and check what
    was stored; prints the pass rate per language, each failure with its transcript, and
    `personas passed: N/M`."""
    import subprocess

    args = [sys.executable, "-m", "tests.personas.suite", "--workers", str(workers)]
    for code in language or []:
        args += ["--language", code]
    for persona in only or []:
        args += ["--only", persona]
    raise typer.Exit(subprocess.run(args, cwd=ROOT).returncode)


locate_app = typer.Typer(help="Places: neighborhoods and ZIP codes in free text.", no_args_is_help=True)
app.add_typer(locate_app, name="locate")


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
app.add_typer(availability_app, name="availability")


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


telegram_app = typer.Typer(help="Telegram.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register PUBLIC_BASE_URL/webhooks/telegram with Telegram, with our secret token."""
    from bot.channels.telegram import make_bot

    settings = get_settings()
    if not settings.telegram_bot_token or not settings.telegram_webhook_secret:
        console.print("[red]set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first[/red]")
        raise typer.Exit(1)
    if not settings.public_base_url.startswith("https://"):
        console.print("[yellow]PUBLIC_BASE_URL should be an https:// address Telegram can reach[/yellow]")
    url = f"{settings.base_url}/webhooks/telegram"

    async def register() -> None:
        async with make_bot(settings) as bot:
            await bot.set_webhook(url=url, secret_token=settings.telegram_webhook_secret,
                                  allowed_updates=["message", "callback_query"])

    asyncio.run(register())
    console.print(f"Telegram will post updates to {url}")


class Kind(str, Enum):
    teams = "teams"
    turf = "turf"
    shifts = "shifts"


@app.command("import")
def import_(kind: Kind, file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a .csv or .yml file")) -> None:
    """Import teams, turf or shifts from CSV or YAML. Every row is checked first; a file with
    any error imports nothing and each error is shown with its line number."""
    from rich.progress import Progress

    from campaign import imports
    from campaign.db import session_scope
    from campaign.schedule import cadence_from

    settings = get_settings()
    try:
        with Progress(console=console, transient=True) as bar, session_scope() as session:
            def progress(total: int):
                task = bar.add_task(f"importing {kind.value}", total=total)
                return lambda: bar.advance(task)

            report = imports.run(session, kind.value, file, settings.languages, settings.campaign_timezone, progress,
                                 cadence=cadence_from(settings))
    except imports.InvalidFile as error:
        for problem in error.errors:
            console.print(f"[red]{file.name}: {problem}[/red]")
        console.print(f"[red]nothing imported: {len(error.errors)} error(s) in {file.name}[/red]")
        raise typer.Exit(1)
    changes = f", {report.changed} changed ({report.told} people told)" if report.changed else ""
    console.print(f"{kind.value}: {report.rows} rows, {report.created} created, {report.updated} updated{changes}")


users_app = typer.Typer(help="Dashboard accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


class RoleName(str, Enum):
    admin = "admin"
    organizer = "organizer"
    lead = "lead"


def _password(from_stdin: bool) -> str:
    """From stdin (scripts), or asked twice without echo; never from the command line."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _accounts_do(action):
    from campaign import accounts
    from campaign.db import session_scope

    try:
        with session_scope() as session:
            return action(session, accounts)
    except accounts.AccountError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)


@users_app.command("add")
def users_add(email: str, role: RoleName = typer.Option(..., help="admin manages accounts; organizer sees all; lead sees one team"),
              team: str = typer.Option(None, help="the team's slug (leads)"),
              phone: str = typer.Option(None, help="a phone for alerts"), telegram: str = typer.Option(None, help="a Telegram contact for alerts"),
              password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin")) -> None:
    """Create a dashboard account."""
    password = _password(password_stdin)

    def add(session, accounts):
        from campaign.leads import ensure_lead_contact

        from sqlalchemy import select

        from campaign.models import Identity
        from campaign.volunteers import find_identity

        account = accounts.add(session, email, password, role.value, team, phone, telegram)
        if account.team is not None and account.contact_volunteer_id is None:
            lead = ensure_lead_contact(session, account.team)
            account.contact_volunteer_id = lead.id if lead else None
        if account.contact_volunteer_id is None and (phone or telegram):
            # alerts reach the person where they already talk to the campaign's number or bot
            known = (session.scalars(select(Identity).where(Identity.phone == phone)).first() if phone else None) \
                or (find_identity(session, "telegram", telegram) if telegram else None)
            account.contact_volunteer_id = known.volunteer_id if known else None
        return account.email, account.contact_volunteer_id is not None

    email, reachable = _accounts_do(add)
    console.print(f"account added: {email} ({role.value})")
    if not reachable:
        # an unanswered handoff's alert needs somewhere to go; say so now, not when one is missed
        console.print("[yellow]no alert contact: alerts of unanswered handoffs will not reach this account. "
                      "Give --phone or --telegram of a number or Telegram account that has written to the "
                      "campaign (or, for a lead, set the team's lead phone).[/yellow]")


@users_app.command("list")
def users_list() -> None:
    """List the dashboard accounts."""
    from rich.table import Table

    def rows(session, accounts):
        return [(a.email, a.role, a.team.slug if a.team else "", "disabled" if a.disabled else "active")
                for a in accounts.list_all(session)]

    table = Table("email", "role", "team", "state")
    for row in _accounts_do(rows):
        table.add_row(*row)
    console.print(table)


@users_app.command("reset-password")
def users_reset_password(email: str, password_stdin: bool = typer.Option(False, "--password-stdin")) -> None:
    """Set a new password; the account's sessions end."""
    password = _password(password_stdin)
    _accounts_do(lambda session, accounts: accounts.reset_password(session, email, password))
    console.print(f"password reset: {email} (signed out everywhere)")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable an account; its sessions end at once, on every api process."""
    _accounts_do(lambda session, accounts: accounts.disable(session, email))
    console.print(f"account disabled: {email}")


dashboard_app = typer.Typer(help="The organizer dashboard.", no_args_is_help=True)
app.add_typer(dashboard_app, name="dashboard")


@dashboard_app.command("screenshots")
def dashboard_screenshots(out: Path = typer.Option(ROOT / "docs" / "screenshots", help="where the PNG files go")) -> None:
    """A desktop and a phone-width screenshot of each page, over a sample campaign (Debian's chromium)."""
    from api.dashboard.screenshots import take

    for path in take(out):
        console.print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


@app.command()
def api(processes: int = typer.Option(1, help="api processes sharing the port (uvicorn workers)")) -> None:
    """Serve the api process (webhooks, REST API, web chat) and its inbound runner."""
    import uvicorn

    from api.serving import uvicorn_options
    from onramp import logs

    _logging()
    settings = _checked_settings()
    # Our logging config (redaction, levels) for uvicorn's loggers, applied in every worker process
    # too; the environment carries the warning filters to them.
    os.environ.setdefault("PYTHONWARNINGS", logs.quiet_environment()["PYTHONWARNINGS"])
    # uvicorn_options: the limits on slow and greedy clients (h11 head limit and deadline,
    # keep-alive, connections per process)
    uvicorn.run("api.main:create_app", factory=True, host=settings.api_host, port=settings.api_port,
                log_config=logs.dict_config(), log_level=None, workers=processes if processes > 1 else None,
                proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies, **uvicorn_options(settings))


@app.command()
def worker() -> None:
    """Run the worker process: send the outbox."""
    from worker.sender import OutboxWorker

    _logging()
    asyncio.run(OutboxWorker(_checked_settings()).run_forever())


def _checked_settings():
    """The settings, or a clear refusal to start with a secret that must be changed."""
    from onramp.settings import WeakSecret

    settings = get_settings()
    try:
        settings.refuse_weak_secrets()
    except WeakSecret as error:
        console.print(f"[red]refusing to start: {error}[/red]")
        raise typer.Exit(2)
    return settings


def redis_parts(url: str) -> dict[str, str]:
    """Rasa's Redis lock store takes host, port, password and db apart, not a URL."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return {
        "RASA_LOCK_STORE_URL": parts.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_PORT": str(parts.port or 6379),
        "RASA_LOCK_STORE_PASSWORD": unquote(parts.password or ""),
        "RASA_LOCK_STORE_DB": parts.path.lstrip("/") or "0",
    }


def rasa_environment(sanic_workers: int = 1) -> dict[str, str]:
    """What endpoint.yml and the action server read, derived from the one settings object."""
    from onramp import logs

    settings = get_settings()
    return {
        **logs.quiet_environment(),
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
        "RASA_LOCK_STORE": settings.rasa_lock_store,
        **redis_parts(settings.redis_url),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
        "ONRAMP_API_URL": f"http://127.0.0.1:{settings.api_port}",
        "SERVICE_TOKEN": settings.service_token,
        "RASA_JWT_SECRET": settings.rasa_jwt_secret_value,
        # the action server (rasa-sdk) listens on every interface unless told otherwise
        "SANIC_HOST": "127.0.0.1",
        "RASA_PORT": str(settings.rasa_port),
        "ACTIONS_PORT": str(settings.actions_port),
        "SANIC_WORKERS": str(sanic_workers),
        "PYTHONPATH": str(ROOT),
    }


@app.command()
def run(profile: str = typer.Option("embedded", help="embedded (SQLite, one process each) or production "
                                     "(PostgreSQL, Redis, several processes of each kind): see the README")) -> None:
    """Migrate, load the demo campaign on an empty database, and start the four processes, each
    started again if it dies."""
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    from onramp import profiles

    try:
        chosen = profiles.Profile(profile)
    except ValueError:
        raise typer.BadParameter(f"--profile must be one of {', '.join(p.value for p in profiles.Profile)}")
    try:
        plan = profiles.plan(chosen, get_settings())
    except profiles.NotReady as problem:
        console.print(f"[red]onramp run --profile {chosen.value}: {problem}[/red]")
        raise typer.Exit(1)
    os.environ.update(plan.env)
    get_settings.cache_clear()
    settings = get_settings()
    _process()
    db_upgrade()
    demo_load(force=False)
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    env = {**os.environ, **rasa_environment(sanic_workers=plan.rasa_processes)}
    console.print(
        f"\n[bold]Onramp is starting[/bold] (Rasa takes about a minute to load its model):\n"
        f"  web chat  {settings.base_url}/chat\n"
        f"  API docs  {settings.base_url}/docs  (token: SERVICE_TOKEN)\n"
        f"  database  {_redacted(settings.database_url)}\n"
        + (f"  profile   production: {plan.api_processes} api, {plan.worker_processes} workers, "
           f"{plan.rasa_processes} Rasa workers, Redis at {_redacted(settings.redis_url)}\n"
           if chosen is profiles.Profile.production else "")
        + "Stop with Ctrl-C.\n"
    )
    manager = Manager()
    for name, entry in procfile.processes.items():
        if name == "api" and plan.api_processes > 1:
            entry = f"{entry} --processes {plan.api_processes}"
        copies = plan.worker_processes if name == "worker" else 1
        for n in range(1, copies + 1):
            label = f"{name}.{n}" if copies > 1 else name
            manager.add_process(label, entry.replace(f"onramp.keep {name} ", f"onramp.keep {label} "), quiet=False,
                                env=env, cwd=str(ROOT))
    manager.loop()
    sys.exit(manager.returncode)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    app()
