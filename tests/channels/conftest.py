import pytest
from fastapi.testclient import TestClient

from tests.support import databases

PUBLIC = "https://onramp.example.org"
TWILIO_SID, TWILIO_TOKEN = "AC" + "1" * 32, "twilio-auth-token"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:TEST-token", "telegram-webhook-secret"
META_SECRET, META_VERIFY, META_PHONE_ID = "meta-app-secret", "meta-verify-token", "109876543210"


@pytest.fixture
def channel_env(db, monkeypatch):
    """Every provider configured, pointed at nothing yet (tests that send start a fake)."""
    for name, value in {
        "PUBLIC_BASE_URL": PUBLIC, "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_SMS_FROM": "+12125550000", "TWILIO_WHATSAPP_FROM": "+12125550001",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "WHATSAPP_ACCESS_TOKEN": "meta-access-token", "WHATSAPP_PHONE_NUMBER_ID": META_PHONE_ID,
        "WHATSAPP_APP_SECRET": META_SECRET, "WHATSAPP_VERIFY_TOKEN": META_VERIFY,
    }.items():
        monkeypatch.setenv(name, value)
    databases.reset_caches()
    return db


@pytest.fixture
def client(channel_env):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        yield client
