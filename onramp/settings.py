"""Every setting in one place, read from the environment and from `.env` when present.

Provider base URLs are settings so that tests and benchmarks can point them at local fakes.
"""
import hashlib
import hmac
import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit
from pathlib import Path

from pydantic import Field, field_validator
from typing import Annotated, Literal

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVICE_TOKEN = "dev-service-token-change-me"
MIN_SECRET_LENGTH = 32
VAR = ROOT / "var"


class WeakSecret(RuntimeError):
    """A secret that must be changed before the app may face the network."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # storage
    database_url: str = f"sqlite:///{VAR / 'onramp.db'}"
    rasa_tracker_store_url: str = f"sqlite:///{VAR / 'rasa-tracker.db'}"
    rasa_lock_store: str = "in_memory"  # or "redis" in production
    redis_url: str = "redis://127.0.0.1:6379/0"

    # the processes and how they reach each other
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = ""  # defaults to http://api_host:api_port
    # slow clients: a request's head, and then its body, must arrive within this many seconds, or
    # the api gives it up (408) and closes the connection
    request_read_seconds: float = Field(20.0, gt=0)
    # connections one api process holds at once; a request beyond them is answered 503
    api_max_connections: int = Field(1000, ge=1)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_timeout_seconds: float = 30.0
    # tries (with backoff up to 30 s apart) before a message is handed to an organizer
    rasa_max_attempts: int = 12
    # the action server authenticates to the REST API with this token
    service_token: str = DEFAULT_SERVICE_TOKEN
    # signs the app's tokens for Rasa's HTTP API; derived from SERVICE_TOKEN when not set
    rasa_jwt_secret: str = ""

    # Twilio (SMS and WhatsApp): on when the account SID and auth token are set
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""  # an E.164 number, or a messaging service SID (MG...)
    twilio_whatsapp_from: str = ""  # the WhatsApp sender, E.164
    twilio_api_base: str = "https://api.twilio.com"

    # Telegram: on when the bot token is set
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = "https://api.telegram.org"

    # WhatsApp Cloud API (Meta): on when the access token and phone number id are set
    whatsapp_access_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_template: str = ""  # approved template with one body parameter, for outside the 24-hour window
    whatsapp_template_language: str = "en"
    # approved templates per message and language, for outside the 24-hour window, as JSON:
    # {"reminder_day_before:es": "HX…" (a Twilio ContentSid) or "reminder_day_before_es" (a Meta name)}
    whatsapp_templates: dict[str, str] = Field(default_factory=dict)
    graph_api_base: str = "https://graph.facebook.com"
    graph_api_version: str = "v21.0"

    # campaign
    campaign_name: str = "NYC for All"
    campaign_timezone: str = "America/New_York"
    languages: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["en", "es", "fr", "zh", "bn", "ar", "ur", "hi"])
    default_language: str = "en"
    language_detector: Literal["lingua", "langdetect"] = "lingua"

    # inbound pipeline
    inbound_poll_seconds: float = 0.2
    inbound_lease_seconds: float = 60.0  # a contact held by a crashed process is free again after this
    # contacts whose message may be with Rasa at once, per api process: Rasa is busy on its one
    # core only while it has a turn to work on, and each turn waits on the action server's calls;
    # 8 left it idle between turns (bench.fullstack on a quiet machine: 0.85x bare Rasa at 8,
    # 0.87-0.89x at 16-32)
    inbound_concurrency: int = 16
    # a webhook waits at most this long for the database, then spools the message (providers
    # give up on slow webhooks: Twilio after 15 s, and it never sends an inbound SMS again)
    webhook_db_seconds: float = 3.0
    spool_dir: str = str(VAR / "spool")

    # team leads: announcements wait this long so that a burst becomes one digest
    lead_digest_seconds: float = 60.0

    # web chat: other sites allowed to embed it (their origins), and how often one address may
    # open chats and post; TRUSTED_PROXIES may name the client in X-Forwarded-For
    webchat_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webchat_session_rate: str = "30/minute"
    webchat_message_rate: str = "60/minute"
    trusted_proxies: str = "127.0.0.1"
    # /metrics answers loopback clients, and others that bring this bearer token (empty: none)
    metrics_token: str = ""

    # outbox worker
    outbox_poll_seconds: float = 0.2
    outbox_max_attempts: int = 8
    rate_limit_storage: Literal["memory", "redis"] = "memory"  # redis when several workers share a sender
    # a row left "sending" longer than this is stale (its worker died): re-queued on idempotent
    # channels, otherwise marked unknown. Longer than a provider call can take.
    outbox_visibility_timeout_seconds: float = 120.0
    # sends per channel and sender, where the provider's limit for your number differs from the
    # rate the channel's adapter declares (bot/channels, Traits.rate; worker/send_rates.py):
    # "sms=100/second,twilio_whatsapp=80/second" (a short code, a higher WhatsApp tier); "off"
    # lifts a channel's limit (against a local fake)
    outbox_send_rates: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # provider calls one worker keeps under way (each claimed just before it starts): a worker
    # killed at any moment leaves at most this many rows `unknown`
    outbox_concurrent_calls: int = Field(16, ge=1, le=256)
    # every provider call: connect and read timeouts
    provider_connect_timeout_seconds: float = 5.0
    provider_read_timeout_seconds: float = 20.0

    # reminders and follow-ups, in the campaign's time zone (campaign/schedule.py)
    reminder_day_before_hour: int = Field(10, ge=0, le=23)
    reminder_hours_before: float = 2.0
    reminder_max_early_hours: float = 3.0  # a two-hour nudge moved earlier than this by quiet hours is skipped
    post_shift_hours: float = 1.0  # "did you make it?" this long after the shift ends
    follow_up_no_show_days: int = 1
    follow_up_attended_days: int = 3
    signup_nudge_hours: float = 23.0  # one nudge to an unfinished sign-up, inside WhatsApp's 24 hours
    lead_shift_digest_hour: int = Field(18, ge=0, le=23)  # the lead's digest, the evening before a shift
    send_window_start: str = "09:00"  # automated messages only inside this window
    send_window_end: str = "21:00"
    automated_daily_cap: int = 3  # reminders and follow-ups per person per day

    # organizer dashboard: a handoff nobody answered within this many minutes alerts the lead
    # (or the organizers); sessions last this many days unless signed out or disabled
    handoff_alert_minutes: float = 15.0
    dashboard_session_days: int = 14
    # failed sign-ins allowed per account and per address within the window, across processes
    sign_in_max_failures_per_account: int = 5
    sign_in_max_failures_per_address: int = 20
    sign_in_failure_window_minutes: float = 15.0

    # the production profile (`onramp run --profile production`): processes of each kind
    api_processes: int = 2
    worker_processes: int = 2
    rasa_processes: int = 2  # Rasa's SANIC_WORKERS, sharing the Redis lock store

    @field_validator("outbox_send_rates", mode="before")
    @classmethod
    def _split_rates(cls, value):
        if not isinstance(value, str):
            return value
        from limits import parse

        rates = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            channel, sep, rate = part.partition("=")
            if not sep or not channel.strip() or not rate.strip():
                raise ValueError(f"OUTBOX_SEND_RATES: {part!r} is not channel=rate (e.g. sms=100/second)")
            if rate.strip() != "off":
                try:
                    parse(rate.strip())
                except ValueError as error:
                    raise ValueError(f"OUTBOX_SEND_RATES: {rate.strip()!r} is not a rate like 10/second") from error
            rates[channel.strip()] = rate.strip()
        return rates

    @field_validator("languages", "webchat_allowed_origins", mode="before")
    @classmethod
    def _split_languages(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def whatsapp_cloud_enabled(self) -> bool:
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)

    @property
    def rasa_jwt_secret_value(self) -> str:
        if self.rasa_jwt_secret:
            return self.rasa_jwt_secret
        return hmac.new(self.service_token.encode(), b"rasa-http-api", hashlib.sha256).hexdigest()

    @property
    def public(self) -> bool:
        """Reachable beyond this machine: then default or short secrets are refused."""
        host = urlsplit(self.base_url).hostname or ""
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return host != "localhost"

    def refuse_weak_secrets(self) -> None:
        """The api and the worker call this at start: a public deployment with the default or a
        short SERVICE_TOKEN would let anyone who read the README into the REST API."""
        if not self.public:
            return
        if self.service_token == DEFAULT_SERVICE_TOKEN or len(self.service_token) < MIN_SECRET_LENGTH:
            raise WeakSecret(
                f"PUBLIC_BASE_URL is {self.base_url}, so SERVICE_TOKEN must be set to a secret of at least "
                f"{MIN_SECRET_LENGTH} characters (it is {'the default' if self.service_token == DEFAULT_SERVICE_TOKEN else 'too short'}). "
                "Set SERVICE_TOKEN in the environment or .env, e.g. to the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.")

    @property
    def spool_path(self) -> Path:
        return Path(self.spool_dir)

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/") or f"http://{self.api_host}:{self.api_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
