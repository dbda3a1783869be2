"""Every setting in one place, read from the environment and from `.env` when present.

Provider base URLs are settings so that tests and benchmarks can point them at local fakes.
"""
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from typing import Annotated, Literal

from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


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
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_timeout_seconds: float = 30.0
    # the action server authenticates to the REST API with this token
    service_token: str = "dev-service-token-change-me"

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
    inbound_concurrency: int = 8

    # team leads: announcements wait this long so that a burst becomes one digest
    lead_digest_seconds: float = 60.0

    # outbox worker
    outbox_poll_seconds: float = 0.2
    outbox_max_attempts: int = 8
    rate_limit_storage: Literal["memory", "redis"] = "memory"  # redis when several workers share a sender

    # the production profile (`onramp run --profile production`): processes of each kind
    api_processes: int = 2
    worker_processes: int = 2
    rasa_processes: int = 2  # Rasa's SANIC_WORKERS, sharing the Redis lock store

    @field_validator("languages", mode="before")
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
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/") or f"http://{self.api_host}:{self.api_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
