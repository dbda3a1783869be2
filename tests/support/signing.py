"""Webhooks signed the way each provider signs them, in one place: the channel tests, the test
chats, the end-to-end tests and the benchmarks all post what a provider would.

Each function returns (body, headers) ready for an HTTP client."""
import hashlib
import hmac
import json
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

FORM = "application/x-www-form-urlencoded"


def twilio_signature(token: str, url: str, params: dict) -> str:
    """X-Twilio-Signature: HMAC-SHA1 of the public URL and the sorted parameters, by the auth token."""
    return RequestValidator(token).compute_signature(url, params)


def twilio(token: str, url: str, params: dict) -> tuple[bytes, dict]:
    """A Twilio webhook (an inbound message or a status callback) to `url`, our public address."""
    return urlencode(params).encode(), {"Content-Type": FORM, "X-Twilio-Signature": twilio_signature(token, url, params)}


def meta_signature(app_secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: HMAC-SHA256 of the raw body, by the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def meta(app_secret: str, payload: dict | bytes) -> tuple[bytes, dict]:
    """A WhatsApp Cloud API webhook."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(app_secret, body)}


def telegram(secret: str, update: dict | bytes) -> tuple[bytes, dict]:
    """A Telegram update: not signed, but sent with the secret token we registered with setWebhook.
    JSON escapes what UTF-8 cannot carry, a lone surrogate included ("\\ud800")."""
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}


def parrot(secret: str, payload: dict | bytes) -> tuple[bytes, dict]:
    """A webhook from Parrot, the example adapter's made-up provider: X-Parrot-Signature, the hex
    HMAC-SHA256 of the raw body."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {"Content-Type": "application/json",
                  "X-Parrot-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
