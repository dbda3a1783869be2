"""Logging for every Onramp process: one format, secrets redacted, quiet libraries.

Secrets travel in places libraries like to log: Telegram's bot token is in the request path
(httpx logs every URL at INFO), Twilio's client logs its requests, tracebacks repeat URLs and
headers. So redaction is a filter on the handlers (it sees every record that propagates,
whichever library wrote it) and it rewrites the message, its arguments, the traceback text and
the stack, not just the format string.
"""
from __future__ import annotations

import logging
import logging.config
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

MASK = "***"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Secrets shorter than this are not searched for literally: they would mask ordinary text.
MIN_SECRET = 4

# Libraries that log each request at INFO: one line per message is ours to write, not theirs.
# uvicorn's access log too: the web chat polls every second, with its session in the query.
QUIET = {
    "uvicorn.access": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "twilio.http_client": logging.WARNING,
    "telegram": logging.WARNING,
    "apscheduler": logging.WARNING,
    "asyncio": logging.WARNING,
    "multipart": logging.WARNING,
    "python_multipart": logging.WARNING,
}

# Settings whose values are secrets, wherever they would appear.
SECRET_SETTINGS = (
    "service_token", "twilio_auth_token", "telegram_bot_token", "telegram_webhook_secret",
    "whatsapp_access_token", "whatsapp_app_secret", "whatsapp_verify_token", "metrics_token",
    # the key that signs the app's tokens for Rasa's HTTP API (issue #15), where settings have one
    "rasa_jwt_secret", "rasa_jwt_secret_value",
)
URL_SETTINGS = ("database_url", "redis_url", "rasa_tracker_store_url")

_VALUE = r"""["']?\s*(?:sha256=)?[^\s"',;&}]+"""
PATTERNS = [
    # Telegram's Bot API puts the token in the path: /bot<id>:<secret>/method
    (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), "/bot" + MASK),
    # Authorization: Bearer / Basic (Twilio's client), in headers, reprs and tracebacks
    (re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.I), r"\1 " + MASK),
    # signature and secret headers, as "Name: value", "'name': 'value'" or "name=value"
    (re.compile(r"((?:x-hub-signature(?:-256)?|x-twilio-signature|x-telegram-bot-api-secret-token|authorization)"
                r"""["']?\s*[:=]\s*)""" + _VALUE, re.I), r"\1" + MASK),
    # credentials in a URL: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", re.I), r"\1" + MASK + "@"),
    # PostgreSQL's own detail of a constraint error names the values: Key (channel, external_id)=(sms, +1718...)
    (re.compile(r"(Key \([^)]*\)=\()[^)]*\)"), r"\1" + MASK + ")"),
    # tokens in a query string (Rasa's --auth-token travels as ?token=)
    (re.compile(r"([?&](?:token|auth_token|access_token|hub\.verify_token|password|secret|session)=)[^&\s\"']+", re.I), r"\1" + MASK),
]


def secrets_from(settings) -> list[str]:
    """The literal secrets in these settings (tokens, and the passwords inside URLs)."""
    found = [getattr(settings, name, "") or "" for name in SECRET_SETTINGS]
    for name in URL_SETTINGS:
        password = urlsplit(getattr(settings, name, "") or "").password
        if password:
            found += [password, unquote(password)]
    # Telegram's token also appears without its numeric id prefix in some error texts
    token = getattr(settings, "telegram_bot_token", "") or ""
    if ":" in token:
        found.append(token.split(":", 1)[1])
    return sorted({s for s in found if len(s) >= MIN_SECRET}, key=len, reverse=True)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = [s for s in secrets if s and len(s) >= MIN_SECRET]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no secret survives formatting, whatever the formatter."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def _arg(self, value):
        if isinstance(value, (int, float, bool)) or value is None:
            return value  # keeps %d and %f working
        text = str(value)
        cleaned = self.redact(text)
        return value if cleaned == text and not isinstance(value, str) else cleaned

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        else:
            record.msg = self.redact(str(record.msg))
        if isinstance(record.args, Mapping):
            record.args = {key: self._arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._arg(value) for value in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def quiet_deprecations() -> None:
    """Dependencies' deprecation notices are for their maintainers, not for a campaign's terminal."""
    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)


def redacting_filter(secrets: Iterable[str] | None = None) -> RedactingFilter:
    """The filter, for logging.config (each uvicorn worker process builds its own)."""
    if secrets is None:
        from onramp.settings import get_settings

        secrets = secrets_from(get_settings())
    return RedactingFilter(Redactor(secrets))


def dict_config(settings=None, level: str | None = None) -> dict:
    """The whole logging set-up as a logging.config dictionary: uvicorn applies it in each of its
    worker processes, and setup() in ours."""
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    loggers = {name: {"level": quiet_level} for name, quiet_level in QUIET.items()} if level != "DEBUG" else {}
    # uvicorn's own loggers send their lines to ours (no handlers of their own)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        loggers[name] = {**loggers.get(name, {}), "handlers": [], "propagate": True}
    redact = {"()": "onramp.logs.redacting_filter"}
    if settings is not None:
        redact["secrets"] = secrets_from(settings)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": redact},
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"],
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": loggers,
    }


def setup(settings=None, level: str | None = None, stream=None) -> None:
    """Configure logging in this process; every library's records go through the root handler."""
    if settings is None:
        from onramp.settings import get_settings

        settings = get_settings()
    logging.config.dictConfig(dict_config(settings, level))
    if stream is not None:
        for handler in logging.getLogger().handlers:
            handler.setStream(stream)
    if not sys.warnoptions:
        quiet_deprecations()
    logging.captureWarnings(True)


# The environment of the processes `onramp run` starts: the same calm for the Rasa side.
def quiet_environment() -> dict[str, str]:
    return {
        "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::PendingDeprecationWarning,ignore::FutureWarning",
        # Rasa and the action server: libraries (sanic, tensorflow...) at ERROR, access log off
        # (an access line would print the query string, where Rasa's --auth-token travels)
        "LOG_LEVEL_LIBRARIES": "ERROR",
        "SANIC_ACCESS_LOG": "False",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


processed_log = logging.getLogger("onramp.messages")


# An intent, or a reason the app gave itself, is a word like these; anything else that comes in
# its place (a web chat payload is whatever the page sent) may be what a supporter wrote.
INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def message_processed(message_id: int, channel: str, language: str | None, intent: str | None,
                      seconds: float, outcome: str, confidence: float | None = None) -> None:
    """The one INFO line per processed message; never its text. The intent is Rasa's parse (with
    its confidence) or what the app decided itself; "-" when neither is known, and "(not a name)"
    when what stood in its place was not an intent's name."""
    if intent and not INTENT_NAME.fullmatch(intent):
        intent = "(not a name)"
    processed_log.info("message %s %s lang=%s intent=%s confidence=%s %s in %.2fs", message_id, channel,
                       language or "-", intent or "-", "-" if confidence is None else f"{confidence:.2f}", outcome,
                       seconds)
