"""Side doors on the running stack: the action server and Rasa's HTTP API."""
import uuid

import httpx
import sqlalchemy as sa

from campaign.models import Volunteer

from tests.support.chat import Chat


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on this port, from the kernel's own table."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(table).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_listens_on_loopback_only(stack):
    addresses = _listening_addresses(stack.ports["actions"])
    assert addresses, "the action server is not listening"
    # 0100007F is 127.0.0.1 (little-endian); 00000000 would be every interface
    assert addresses <= {"0100007F", "00000000000000000000000001000000"}, addresses


def _forged_call(stack, volunteer_id: int, metadata: dict) -> httpx.Response:
    tracker = {"sender_id": uuid.uuid4().hex, "slots": {}, "events": [], "paused": False, "followup_action": None,
               "active_loop": {}, "latest_action_name": "action_listen",
               "latest_message": {"text": "stop", "intent": {"name": "opt_out", "confidence": 1.0}, "entities": [],
                                  "metadata": metadata}}
    return httpx.post(f"http://127.0.0.1:{stack.ports['actions']}/webhook", timeout=30, json={
        "next_action": "action_opt_out", "sender_id": tracker["sender_id"], "tracker": tracker,
        "domain": {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}},
        "version": "3.6.21"})


def test_a_forged_or_replayed_call_to_the_action_server_opts_nobody_out(stack, api):
    chat = Chat(stack.api_url, stack.db_url)
    chat.say("hi I want to volunteer")
    volunteer_id = chat.volunteer_id
    # 1. naming a volunteer id, unstamped (the attack confirmed on main before this change)
    _forged_call(stack, volunteer_id, {"volunteer_id": volunteer_id, "channel": "sms"})
    # 2. replaying the genuine stamped metadata of the message Rasa already handled
    with chat.engine.connect() as conn:
        conversation = conn.execute(sa.select(Volunteer.conversation_id).where(Volunteer.id == volunteer_id)).scalar()
    events = httpx.get(f"{stack.rasa_url}/conversations/{conversation}/tracker", timeout=10,
                       headers=stack.rasa_headers()).json()["events"]
    genuine = [e["metadata"] for e in events if e.get("event") == "user"][-1]
    assert "stamp" in genuine
    _forged_call(stack, volunteer_id, genuine)
    assert api.get(f"/v1/volunteers/{volunteer_id}").json()["consent_status"] == "subscribed"
    # and the person's conversation goes on as before
    assert chat.keys(chat.say("Maria"), "en") == ["ask_neighborhood"]


def test_rasas_http_api_answers_only_with_the_apps_token(stack):
    assert httpx.get(f"{stack.rasa_url}/status", timeout=10).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/status", params={"token": "guess"}, timeout=10).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/status", headers=stack.rasa_headers(), timeout=10).status_code == 200
