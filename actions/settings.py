"""The few variables the action server reads, read once when it starts.

`onramp run` sets them from the app's settings. This process runs in Rasa's Python 3.10
environment and cannot import the app (onramp.settings), so it keeps this small copy."""
import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_SERVICE_TOKEN = "dev-service-token-change-me"  # the app's default too (onramp/settings.py)


@dataclass(frozen=True)
class Settings:
    api_url: str = DEFAULT_API_URL
    token: str = DEFAULT_SERVICE_TOKEN
    timeout: float = 10.0
    # While the api restarts (a deploy, a crash) calls are retried, so the conversation goes on.
    # Every call we make is safe to repeat: updates set values, bookings and handoffs are idempotent.
    retry_seconds: float = 30.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        return cls(
            api_url=environ.get("ONRAMP_API_URL", DEFAULT_API_URL).rstrip("/"),
            token=environ.get("SERVICE_TOKEN", DEFAULT_SERVICE_TOKEN),
            timeout=float(environ.get("ONRAMP_API_TIMEOUT", "10")),
            retry_seconds=float(environ.get("ONRAMP_API_RETRY_SECONDS", "30")),
        )


SETTINGS = Settings.from_environ()
