"""The example adapter (tests/channels/example_adapter.py, docs/adding-a-channel.md): adding a
channel is its adapter module and this table."""
import pytest

from tests.channels.harness import PARROT_SECRET, SENT_ID, EndsWith, In, Out, Provider, run_in, run_out
from tests.support import signing


def text(body="hi, I want to help", pid="pm_in_1", sender="+17185550123"):
    return {"type": "message", "id": pid, "from": sender, "text": body}


def report(status, pid="pm_out_1", error=None):
    return {"type": "status", "id": pid, "status": status, "error": error}


PROVIDER = Provider(
    name="parrot", path="/webhooks/parrot", sign=lambda path, payload: signing.parrot(PARROT_SECRET, payload),
    valid=lambda n: text(f"hi {n}", pid=f"pm_in_{n}"),
    forged={"missing": lambda path, payload: {},
            "wrong": lambda path, payload: {"X-Parrot-Signature": signing.parrot("not-our-secret", payload)[1]["X-Parrot-Signature"]}},
    malformed=[In("not JSON", b"{nope", 400), In("no sender", {"type": "message", "id": "pm_x", "text": "hi"}, 400),
               In("a status Parrot does not have", report("teleported"), 400, path="/webhooks/parrot/status")],
)

INCOMING = [
    In("a text", text(), answer='{"ok":true}', messages=[{
        "channel": "parrot", "body": "hi, I want to help", "provider_id": "pm_in_1", "external_id": "+17185550123",
        "phone": "+17185550123", "signup_source": "parrot"}]),
    In("a delivery report", report("delivered"), path="/webhooks/parrot/status",
       deliveries=[{"channel": "parrot", "provider_id": "pm_out_1", "status": "delivered", "error_code": None}]),
    In("a rejection with Parrot's code, kept", report("rejected", error=4004), path="/webhooks/parrot/status",
       deliveries=[{"status": "failed", "error_code": "4004"}]),
]

OUTGOING = [
    Out("choices are numbered", "parrot", key="shift_offer",
        choices=[{"key": "choice_yes", "payload": "/affirm"}, {"key": "choice_no", "payload": "/deny"}],
        requests={"parrot": [{"to": "+17185550123", "text": EndsWith("Reply with a number:\n1. Yes, count me in\n2. Not this one")}]},
        outcome={"status": "sent", "provider_id": SENT_ID}),
    Out("an unsubscribed person (4001) is an opt-out", "parrot", key="ask_name", answers={"parrot": ["4001"]},
        requests={"parrot": []}, outcome={"status": "failed", "consent_status": "opted_out"}),
    Out("a number that has gone (4004) is unreachable", "parrot", key="ask_name", answers={"parrot": ["4004"]},
        requests={"parrot": []}, outcome={"status": "failed", "unreachable": True, "consent_status": "subscribed"}),
    Out("too many requests (4290) is tried again later", "parrot", key="ask_name", answers={"parrot": ["4290"]},
        passes=2, requests={"parrot": [{"to": "+17185550123"}]}, outcome={"status": "sent"}),
]


@pytest.mark.parametrize("case", INCOMING, ids=str)
def test_incoming(client, case):
    run_in(client, PROVIDER, case)


@pytest.mark.parametrize("case", OUTGOING, ids=str)
def test_outgoing(fakes, case, monkeypatch):
    run_out(fakes, case, monkeypatch)


@pytest.mark.parametrize("code, seen", [(4004, {"unreachable": True, "consent_status": "subscribed"}),
                                        (4001, {"unreachable": False, "consent_status": "opted_out"})])
def test_a_report_that_the_number_has_gone_or_unsubscribed_is_recorded(fakes, client, code, seen):
    from tests.channels.harness import outcome, post, queue, send_due

    volunteer_id = queue(Out("", "parrot", key="ask_name"))
    send_due()
    sent = fakes["parrot"].recorder.sent[0]["id"]
    assert post(client, PROVIDER, report("rejected", pid=sent, error=code), path="/webhooks/parrot/status").status_code == 200
    assert {key: outcome(volunteer_id)[key] for key in seen} == seen
