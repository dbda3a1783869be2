"""Commands that start processes: the api, the worker, and `onramp run`, which starts all four
(rasa, actions, api, worker) from the Procfile, each kept running."""
import asyncio
import os
import sys

import typer

from onramp.cli.admin import db_upgrade, demo_load
from onramp.cli.common import _logging, _process, _redacted, console
from onramp.settings import ROOT, get_settings


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
