"""Commands that look after a campaign: its database, the demo campaign, the message catalogs,
Telegram's webhook, imports of teams, turf and shifts, dashboard accounts and screenshots."""
import asyncio
import sys
from enum import Enum
from pathlib import Path

import typer

from onramp.cli.common import _redacted, console
from onramp.settings import ROOT, get_settings

db_app = typer.Typer(help="The database.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo campaign.", no_args_is_help=True)
catalogs_app = typer.Typer(help="The message catalogs.", no_args_is_help=True)


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


telegram_app = typer.Typer(help="Telegram.", no_args_is_help=True)


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
        from campaign import second_factor

        required = second_factor.required_roles(session)

        def two_step(account) -> str:
            if account.totp_secret:
                return "on"
            return "required: at next sign-in" if account.role in required else "off"

        return [(a.email, a.role, a.team.slug if a.team else "", "disabled" if a.disabled else "active", two_step(a))
                for a in accounts.list_all(session)]

    table = Table("email", "role", "team", "state", "2fa")
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


@users_app.command("require-2fa")
def users_require_2fa(role: RoleName = typer.Option(..., help="the role whose accounts must use two-step sign-in"),
                      off: bool = typer.Option(False, "--off", help="make it optional again for this role")) -> None:
    """Make two-step sign-in mandatory for a role: those without it are signed out and enrol at their next sign-in."""
    waiting = _accounts_do(lambda session, accounts: accounts.require_second_factor(session, role.value, not off))
    if off:
        console.print(f"two-step sign-in is optional again for {role.value} accounts (those who set it up keep it)")
        return
    console.print(f"two-step sign-in required for {role.value} accounts")
    if waiting:
        console.print(f"{len(waiting)} without it, signed out now, set it up at their next sign-in: {', '.join(waiting)}")


@users_app.command("reset-2fa")
def users_reset_2fa(email: str) -> None:
    """Turn off an account's two-step sign-in (a lost phone); its sessions end."""
    _accounts_do(lambda session, accounts: accounts.reset_second_factor(session, email))
    console.print(f"two-step sign-in reset: {email} (signed out everywhere)")


dashboard_app = typer.Typer(help="The organizer dashboard.", no_args_is_help=True)


@dashboard_app.command("screenshots")
def dashboard_screenshots(out: Path = typer.Option(ROOT / "docs" / "screenshots", help="where the PNG files go")) -> None:
    """A desktop and a phone-width screenshot of each page, over a sample campaign (Debian's chromium)."""
    from api.dashboard.screenshots import take

    for path in take(out):
        console.print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
