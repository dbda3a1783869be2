"""The `onramp` command: the one entry point the Makefile and the Procfile call (pyproject.toml:
`onramp = "onramp.cli:app"`).

The roof of the app: its commands import api, worker, bot and campaign (inside each command, so
that `onramp --help` starts fast), and nothing of the app imports them (tests/test_layers.py).
The commands live in run.py (the processes), admin.py (looking after a campaign) and evals.py
(measurements); this module only puts them together, in the order `onramp --help` lists them.
"""
import typer

from onramp.cli import admin, evals, run
from onramp.cli.common import _process

app = typer.Typer(help="Onramp: onboard supporters into local teams and shifts.", no_args_is_help=True)
app.callback()(_process)

# Typer lists the commands first, then the groups, each in the order they are added here.
app.command("import")(admin.import_)
app.command()(run.api)
app.command()(run.worker)
app.command()(run.run)

app.add_typer(admin.db_app, name="db")
app.add_typer(admin.demo_app, name="demo")
app.add_typer(admin.catalogs_app, name="catalogs")
app.add_typer(evals.langid_app, name="langid")
app.add_typer(evals.nlu_app, name="nlu")
app.add_typer(evals.personas_app, name="personas")
app.add_typer(evals.locate_app, name="locate")
app.add_typer(evals.availability_app, name="availability")
app.add_typer(admin.telegram_app, name="telegram")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.dashboard_app, name="dashboard")
