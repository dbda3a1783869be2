"""The `onramp` command: the one entry point the Makefile and the Procfile call."""
import asyncio
import logging
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


def _logging() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


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

    settings = get_settings()
    try:
        with Progress(console=console, transient=True) as bar, session_scope() as session:
            def progress(total: int):
                task = bar.add_task(f"importing {kind.value}", total=total)
                return lambda: bar.advance(task)

            report = imports.run(session, kind.value, file, settings.languages, settings.campaign_timezone, progress)
    except imports.InvalidFile as error:
        for problem in error.errors:
            console.print(f"[red]{file.name}: {problem}[/red]")
        console.print(f"[red]nothing imported: {len(error.errors)} error(s) in {file.name}[/red]")
        raise typer.Exit(1)
    console.print(f"{kind.value}: {report.rows} rows, {report.created} created, {report.updated} updated")


@app.command()
def api() -> None:
    """Serve the api process (webhooks, REST API, web chat) and its inbound runner."""
    import uvicorn

    _logging()
    settings = get_settings()
    uvicorn.run("api.main:create_app", factory=True, host=settings.api_host, port=settings.api_port, log_level="info")


@app.command()
def worker() -> None:
    """Run the worker process: send the outbox."""
    from worker.sender import OutboxWorker

    _logging()
    asyncio.run(OutboxWorker(get_settings()).run_forever())


def rasa_environment() -> dict[str, str]:
    """What endpoint.yml and the action server read, derived from the one settings object."""
    settings = get_settings()
    return {
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
        "RASA_LOCK_STORE": settings.rasa_lock_store,
        "RASA_LOCK_STORE_URL": settings.redis_url.split("://", 1)[-1].split(":")[0],
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
        "ONRAMP_API_URL": f"http://127.0.0.1:{settings.api_port}",
        "SERVICE_TOKEN": settings.service_token,
        "RASA_PORT": str(settings.rasa_port),
        "ACTIONS_PORT": str(settings.actions_port),
        "SANIC_WORKERS": "1",
        "PYTHONPATH": str(ROOT),
    }


@app.command()
def run() -> None:
    """Migrate, load the demo campaign on an empty database, and start the four processes."""
    from honcho.manager import Manager
    from honcho.environ import parse_procfile

    settings = get_settings()
    db_upgrade()
    demo_load(force=False)
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    env = {**os.environ, **rasa_environment()}
    console.print(
        f"\n[bold]Onramp is starting[/bold] (Rasa takes about a minute to load its model):\n"
        f"  web chat  {settings.base_url}/chat\n"
        f"  API docs  {settings.base_url}/docs  (token: SERVICE_TOKEN)\n"
        f"  database  {_redacted(settings.database_url)}\n"
        f"Stop with Ctrl-C.\n"
    )
    manager = Manager()
    for name, entry in procfile.processes.items():
        manager.add_process(name, entry, quiet=False, env=env, cwd=str(ROOT))
    manager.loop()
    sys.exit(manager.returncode)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    app()
