"""Our input channel into the real Rasa (bot/assistant/onramp_channel.py): one call answers with
the replies and the intent, a retry of a message Rasa already handled is not run again, and
nothing gets in without the JWT of Rasa's HTTP API."""
import time
import uuid

import httpx
import jwt

from bot import stamp
from tests.support.chat import Chat


def _post(stack, sender: str, message_id: int, text: str = "hi I want to volunteer", check_seen: bool = False,
          headers: dict | None = None) -> httpx.Response:
    metadata = stamp.sign({"message_id": message_id, "volunteer_id": 1, "language": "en", "channel": "webchat"},
                          stack.full_env["SERVICE_TOKEN"])
    return httpx.post(f"{stack.rasa_url}/webhooks/onramp/message", timeout=60,
                      headers=stack.rasa_headers() if headers is None else headers,
                      json={"sender": sender, "message": text, "metadata": metadata, "check_seen": check_seen})


def _user_events(stack, sender: str) -> list[dict]:
    events = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"include_events": "ALL"},
                       headers=stack.rasa_headers(), timeout=10).json()["events"]
    return [e for e in events if e["event"] == "user"]


def test_one_call_returns_the_replies_with_the_intent_rasa_read_and_the_events_of_the_turn(stack):
    sender = uuid.uuid4().hex
    answer = _post(stack, sender, 900001).json()
    assert [r["custom"]["key"] for r in answer["replies"]] == ["welcome", "ask_name"]
    assert answer["intent"]["name"] == "volunteer" and answer["intent"]["confidence"] > 0.5
    assert answer["seen"] is False and answer["events"] >= 3 and answer["latest_event_time"] > 0
    [user] = _user_events(stack, sender)
    # the app's stamped metadata is kept as sent (Rasa adds its model and assistant ids to stored events)
    kept = {key: value for key, value in user["metadata"].items() if key not in ("model_id", "assistant_id")}
    assert kept["message_id"] == 900001 and stamp.valid(kept, stack.full_env["SERVICE_TOKEN"])


def test_a_retry_of_a_message_rasa_already_handled_gets_the_same_replies_without_running_it_again(stack):
    sender = uuid.uuid4().hex
    first = _post(stack, sender, 900002).json()
    again = _post(stack, sender, 900002, check_seen=True).json()
    assert again["seen"] is True
    assert [r["custom"] for r in again["replies"]] == [r["custom"] for r in first["replies"]]
    assert again["intent"]["name"] == "volunteer"
    assert len(_user_events(stack, sender)) == 1  # Rasa saw the message once
    # a retry of a message Rasa never saw is run, in the same call
    new = _post(stack, sender, 900003, text="Maria", check_seen=True).json()
    assert new["seen"] is False and [e["metadata"]["message_id"] for e in _user_events(stack, sender)] == [900002, 900003]


def test_the_channel_refuses_a_message_without_the_jwt_of_rasas_http_api(stack):
    sender = uuid.uuid4().hex
    now = int(time.time())
    forged = jwt.encode({"user": {"username": "onramp", "role": "admin"}, "iat": now, "exp": now + 300},
                        "not-the-secret-" * 3, algorithm="HS256")
    user_token = jwt.encode({"user": {"username": sender, "role": "user"}, "iat": now, "exp": now + 300},
                            stack.full_env["RASA_JWT_SECRET"], algorithm="HS256")
    for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {user_token}"},
                    {"Authorization": "Bearer not-a-jwt"}):
        assert _post(stack, sender, 900004, headers=headers).status_code == 401
    assert _user_events(stack, sender) == []  # Rasa never saw it


def test_the_per_message_log_line_carries_the_intent_rasa_read_and_its_confidence(stack):
    chat = Chat(stack.api_url, stack.db_url)
    message_id = chat.send("hi I want to volunteer")
    chat.wait_answered(message_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in (stack.workdir / "api.log").read_text(errors="replace").splitlines()
                 if f" onramp.messages: message {message_id} " in line]
        if lines:
            break
        time.sleep(0.2)
    assert len(lines) == 1, stack.tail("api")
    assert " webchat " in lines[0] and " intent=volunteer confidence=" in lines[0]
    assert float(lines[0].split(" confidence=")[1].split()[0]) > 0.5
    assert "hi I want to volunteer" not in lines[0]
