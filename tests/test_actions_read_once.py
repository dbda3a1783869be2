"""The form's actions take the place and the times the app read in a message from its stamped
metadata (bot/pipeline/reading.py) instead of asking the API again; a reading the app did not
sign is never trusted. Run in Rasa's own Python, against a recording stand-in for the API."""
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from bot import stamp
from bot.pipeline import reading
from campaign.db import session_scope
from onramp.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa/bin/python"
pytestmark = pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not set up (make setup)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _extract(extractor: str, text: str, metadata: dict, slots: dict) -> dict:
    port = _free_port()
    env = {**os.environ, "ONRAMP_API_URL": f"http://127.0.0.1:{port}", "ONRAMP_API_RETRY_SECONDS": "0",
           "SERVICE_TOKEN": get_settings().service_token, "PYTHONPATH": str(ROOT)}
    job = {"extractor": extractor, "text": text, "metadata": metadata, "slots": slots, "port": port}
    done = subprocess.run([str(RASA_PYTHON), str(ROOT / "tests/support/run_extractor.py")], input=json.dumps(job),
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _metadata(read: dict) -> dict:
    return stamp.sign({"message_id": 7, "volunteer_id": 3, "language": "en", "channel": "sms", reading.FIELD: read},
                      get_settings().service_token)


def test_a_place_and_times_read_by_the_app_fill_the_form_without_asking_the_api_again(demo):
    text = "Astoria, free saturday mornings"
    with session_scope() as session:
        read = reading.read(session, text)
    assert read["match"]["neighborhood"] == "Astoria" and read["slots"] == ["sat:morning"]
    asked = {"requested_slot": "neighborhood", "neighborhood": None}
    place = _extract("extract_neighborhood", text, _metadata(read), asked)
    assert place["slots"]["neighborhood"] == "Astoria"
    assert place["calls"] == ["PATCH /v1/volunteers/3"]  # the write only: no /v1/locate
    times = _extract("extract_availability", text, _metadata(read), {"requested_slot": "availability"})
    assert times["slots"]["availability"] == ["sat:morning"] and times["calls"] == ["PATCH /v1/volunteers/3"]


def test_a_reading_the_app_did_not_sign_is_not_trusted(demo):
    with session_scope() as session:
        read = reading.read(session, "Astoria")
    forged = {**_metadata({"match": None, "unknown_zip": None, "slots": []}), reading.FIELD: read}
    place = _extract("extract_neighborhood", "Narnia", forged, {"requested_slot": "neighborhood"})
    assert "GET /v1/locate" in place["calls"] and place["slots"].get("neighborhood") is None
