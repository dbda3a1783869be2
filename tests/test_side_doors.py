"""Side doors: the action server's writes need a genuine stamp for a message being processed
now, and a public deployment refuses the default secrets."""
import base64
import json
import subprocess

import pytest
from fastapi.testclient import TestClient

from bot import stamp
from campaign.db import session_scope
from campaign.inbox import store_inbound
from campaign.models import Message, Volunteer
from campaign.volunteers import identify
from onramp.settings import ROOT, get_settings


@pytest.fixture
def client(demo):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
        yield client


def _message(status="received", attempts=1, external_id="+17185550111") -> tuple[int, int]:
    with session_scope() as session:
        identity = identify(session, "sms", external_id, phone=external_id)
        message_id, _ = store_inbound(session, identity, "sms", f"SM{external_id}{status}", "stop")
        message = session.get(Message, message_id)
        message.status, message.attempts = status, attempts
        return identity.volunteer_id, message_id


def _header(metadata: dict, key: str | None = None) -> dict:
    signed = stamp.sign(metadata, key or get_settings().service_token)
    return {stamp.HEADER: base64.urlsafe_b64encode(json.dumps(signed).encode()).decode()}


def _opt_out(client, volunteer_id, headers):
    return client.post(f"/v1/volunteers/{volunteer_id}/opt-out", json={"channel": "sms", "words": "stop"}, headers=headers)


def _opted_out(volunteer_id) -> bool:
    with session_scope() as session:
        return session.get(Volunteer, volunteer_id).opted_out


def test_a_write_with_the_stamp_of_a_message_being_processed_is_accepted(client):
    volunteer_id, message_id = _message()
    answer = _opt_out(client, volunteer_id, _header({"message_id": message_id, "volunteer_id": volunteer_id, "channel": "sms"}))
    assert answer.status_code == 200 and _opted_out(volunteer_id)


def test_a_replayed_stamp_of_a_finished_message_changes_nothing(client):
    volunteer_id, message_id = _message(status="processed")
    answer = _opt_out(client, volunteer_id, _header({"message_id": message_id, "volunteer_id": volunteer_id, "channel": "sms"}))
    assert answer.status_code == 403 and "not being processed" in answer.json()["error"]
    assert not _opted_out(volunteer_id)


def test_a_stamp_for_one_volunteer_does_not_write_for_another(client):
    volunteer_id, message_id = _message()
    other, _ = _message(external_id="+17185550222")
    answer = _opt_out(client, other, _header({"message_id": message_id, "volunteer_id": volunteer_id, "channel": "sms"}))
    assert answer.status_code == 403 and not _opted_out(other)


def test_a_stamp_signed_with_another_key_is_refused(client):
    volunteer_id, message_id = _message()
    forged = _header({"message_id": message_id, "volunteer_id": volunteer_id}, key="guessed-" + "x" * 40)
    assert _opt_out(client, volunteer_id, forged).status_code == 403
    garbage = {stamp.HEADER: "not-base64-at-all!!"}
    assert _opt_out(client, volunteer_id, garbage).status_code in (400, 403)
    assert not _opted_out(volunteer_id)


def test_a_changed_field_breaks_the_stamp():
    key = "k" * 40
    signed = stamp.sign({"message_id": 3, "volunteer_id": 9, "language": "es"}, key)
    assert stamp.valid(signed, key)
    assert not stamp.valid({**signed, "volunteer_id": 10}, key)
    assert not stamp.valid({k: v for k, v in signed.items() if k != "stamp"}, key)


@pytest.mark.parametrize("command, token", [("api", "dev-service-token-change-me"), ("worker", "short-token")])
def test_a_public_deployment_refuses_to_start_with_a_weak_service_token(command, token, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PUBLIC_BASE_URL": "https://volunteer.example.org", "SERVICE_TOKEN": token,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "HOME": str(tmp_path)}
    done = subprocess.run([str(ROOT / ".venv/bin/onramp"), command], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "SERVICE_TOKEN" in done.stdout and "at least 32 characters" in done.stdout
    assert token not in done.stdout + done.stderr  # the refusal does not print the secret


def test_a_loopback_deployment_starts_with_the_development_token():
    from onramp.settings import Settings

    Settings(public_base_url="http://127.0.0.1:8000").refuse_weak_secrets()
    Settings(public_base_url="http://localhost:8000").refuse_weak_secrets()


def test_the_app_itself_refuses_the_default_token_on_a_public_url(monkeypatch):
    """A deployment that loads api.main:create_app with uvicorn or gunicorn, not `onramp api`,
    is refused just the same (before, it started and served /v1 to anyone with the README)."""
    from api.main import create_app
    from onramp.settings import DEFAULT_SERVICE_TOKEN, WeakSecret, get_settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://volunteer.example.org")
    monkeypatch.setenv("SERVICE_TOKEN", DEFAULT_SERVICE_TOKEN)
    get_settings.cache_clear()
    try:
        with pytest.raises(WeakSecret, match="at least 32 characters"):
            create_app(run_pipeline=False)
    finally:
        get_settings.cache_clear()
