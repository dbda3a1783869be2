"""What every command of `onramp` shares: the console, and setting up a process (its database,
its logging). Imports nothing of the app at the top: each command imports what it needs."""
from rich.console import Console

from onramp.settings import get_settings

console = Console()


def _process() -> None:
    """Every command's process: its database is the one the settings name."""
    from campaign import db

    db.configure(get_settings().database_url)


def _logging() -> None:
    """Every process logs through onramp.logs: secrets redacted, libraries quiet."""
    from onramp import logs

    logs.setup(get_settings())


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
