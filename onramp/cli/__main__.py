"""`python -m onramp.cli`, as `onramp` (onramp/cli.py ran its app when run as a script)."""
from onramp.cli import app

app()
