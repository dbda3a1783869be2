"""Start Rasa or its action server (`python -m onramp.rasa_launch run ...`, the arguments of the
`rasa` command) without pages of deprecation notices from their dependencies.

PYTHONWARNINGS alone is not enough: importing sanic turns DeprecationWarning back on ("once",
put first in the filters). So sanic is imported while the environment's filters still hide
its own notices, and then they are silenced again, before Rasa imports everything else.
Runs on Rasa's Python (3.10): standard library only, and no import of the app.
"""
import logging
import os
import sys
import warnings

CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def silence() -> None:
    for category in CATEGORIES:
        warnings.filterwarnings("ignore", category=category)


def main() -> None:
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # Rasa 3.6 is on SQLAlchemy 1.4
    silence()
    import sanic  # noqa: F401  (see the module docstring)

    silence()
    # a form slot without a validate_ method is our design, not a fault: once per turn otherwise
    logging.getLogger("rasa_sdk.forms").setLevel(logging.ERROR)
    # Rasa sets its own filters once it has read its arguments ("once" for every UserWarning,
    # which pyparsing's deprecations also are): silence again right after.
    import rasa.utils.common as common

    rasa_filters = common._filter_warnings

    def filters_then_silence(*args, **kwargs):
        rasa_filters(*args, **kwargs)
        silence()

    common._filter_warnings = filters_then_silence
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:], *_jwt_secret_from_environment(sys.argv[1:])]
    rasa_main()


def _jwt_secret_from_environment(args: list[str]) -> list[str]:
    """Rasa takes its JWT secret only as --jwt-secret; on the command line `ps` would show it to
    every local user, so the Procfile leaves it out and it is added here, inside the process,
    from RASA_JWT_SECRET (which `onramp run` sets), then taken out of the environment."""
    secret = os.environ.pop("RASA_JWT_SECRET", "")
    if args[:1] != ["run"] or "--enable-api" not in args or "--jwt-secret" in args or not secret:
        return []
    return ["--jwt-secret", secret]


if __name__ == "__main__":
    main()
