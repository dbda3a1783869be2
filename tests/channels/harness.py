"""One harness for every channel adapter, in the style of courier's handlers/handlertest.

An adapter's tests are tables of real provider payloads:
- `In`: what the provider posts (signed as it signs), the status code we answer, and what is
  stored afterwards: the inbound messages (with their contact) and the delivery reports;
- `Out`: a message queued for someone, the provider's answers at its fake, the requests the
  fake was sent, and the outcome (the outbox row, the person's consent, their identity).
`run_in` and `run_out` run one row. A `Provider` says how one provider posts and signs, so that
the checks every adapter must pass (test_every_adapter.py) run once, over all of them.
"""
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from campaign import outbox, outbox_parts
from campaign.db import session_scope
from campaign.models import DeliveryEvent, Identity, Message, OutboxRow, Volunteer, utcnow
from campaign.volunteers import identify
from onramp.settings import get_settings

PUBLIC = "https://onramp.example.org"
TWILIO_SID, TWILIO_TOKEN = "AC" + "1" * 32, "twilio-auth-token"
TELEGRAM_TOKEN, TELEGRAM_SECRET = "123456:TEST-token", "telegram-webhook-secret"
META_SECRET, META_VERIFY, META_PHONE_ID = "meta-app-secret", "meta-verify-token", "109876543210"
PARROT_SECRET, PARROT_TOKEN = "parrot-secret", "parrot-token"  # the example adapter's (tests/channels/example_adapter.py)
ENV = {
    "PUBLIC_BASE_URL": PUBLIC, "SERVICE_TOKEN": "channel-tests-service-token-" + "t" * 16, "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_SMS_FROM": "+12125550000", "TWILIO_WHATSAPP_FROM": "+12125550001",
    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    "WHATSAPP_ACCESS_TOKEN": "meta-access-token", "WHATSAPP_PHONE_NUMBER_ID": META_PHONE_ID,
    "WHATSAPP_APP_SECRET": META_SECRET, "WHATSAPP_VERIFY_TOKEN": META_VERIFY,
}


# Values an expectation may hold where an exact one would say too much.
@dataclass(frozen=True)
class StartsWith:
    prefix: str

    def __eq__(self, other):
        return isinstance(other, str) and other.startswith(self.prefix)


@dataclass(frozen=True)
class EndsWith:
    suffix: str

    def __eq__(self, other):
        return isinstance(other, str) and other.endswith(self.suffix)


@dataclass(frozen=True)
class Contains:
    part: str

    def __eq__(self, other):
        return isinstance(other, str) and self.part in other


@dataclass(frozen=True)
class Between:
    low: float
    high: float

    def __eq__(self, other):
        return isinstance(other, (int, float)) and self.low < other < self.high


@dataclass(frozen=True)
class Where:
    test: Callable[[object], bool]
    says: str  # what the test checks, for the failure report

    def __eq__(self, other):
        return self.test(other)

    def __repr__(self):
        return f"Where({self.says})"


SENT_ID = "the id the provider's fake answered with"  # an outcome's provider_id: the fake's id for what it was sent
SENT_ID_FIELD = {"twilio": "sid", "graph": "id", "telegram": "message_id", "parrot": "id"}  # where each fake records that id


@dataclass(frozen=True)
class Provider:
    """How one provider posts to us, and how we send to it, in a test."""

    name: str
    path: str  # the receive webhook
    sign: Callable[[str, dict | bytes], tuple[bytes, dict]]  # (path, payload) -> body and headers, signed
    valid: Callable[[int], dict]  # the n-th of distinct good requests
    forged: dict[str, Callable[[str, dict], dict]]  # label -> the headers of a bad or missing signature
    malformed: dict[str, tuple[bytes, int]]  # label -> a body signed right but unreadable, and its status


def post(client, provider: Provider, payload: dict | bytes | None = None, *, path: str | None = None,
         headers: dict | None = None, raw: bytes | None = None):
    """Post what the provider would: `payload` signed for `path`; `headers` instead of the
    signature's; `raw` as the body instead of the payload's encoding (the signature still over
    the payload)."""
    path = path or provider.path
    body, signed = provider.sign(path, payload if payload is not None else {})
    if headers is not None:
        signed = {"Content-Type": signed["Content-Type"], **headers}
    return client.post(path, content=raw if raw is not None else body, headers=signed)


def stored() -> list[dict]:
    """Every inbound message stored, with its contact, in the order stored."""
    with session_scope() as session:
        rows = session.execute(select(Message, Identity, Volunteer).join(Identity, Message.identity_id == Identity.id)
                               .join(Volunteer, Message.volunteer_id == Volunteer.id)
                               .where(Message.direction == "in").order_by(Message.id)).all()
        return [{"channel": m.channel, "body": m.body, "provider_id": m.provider_id, "external_id": i.external_id,
                 "phone": i.phone, "button": m.payload.get("button"), "event": m.payload.get("event"),
                 "language_hint": m.payload.get("language_hint"), "media": m.payload.get("media"),
                 "location": tuple(m.payload["location"]) if m.payload.get("location") else None,
                 "signup_source": v.signup_source, "volunteer_id": v.id} for m, i, v in rows]


def deliveries() -> list[dict]:
    with session_scope() as session:
        return [{"channel": d.channel, "provider_id": d.provider_id, "status": d.status, "error_code": d.error_code}
                for d in session.scalars(select(DeliveryEvent).order_by(DeliveryEvent.id))]


def nothing_written() -> bool:
    with session_scope() as session:
        return all(session.scalar(select(func.count()).select_from(table)) == 0
                   for table in (Message, Volunteer, Identity, DeliveryEvent))


def _pick(actual: dict, expected: dict) -> dict:
    return {key: actual.get(key) for key in expected}


@dataclass(frozen=True)
class In:
    """One request from the provider and what it leaves behind."""

    label: str
    payload: dict | bytes
    status: int = 200
    messages: list[dict] = field(default_factory=list)  # each: the fields of a stored message that matter
    deliveries: list[dict] = field(default_factory=list)
    path: str | None = None
    headers: dict | None = None
    raw: bytes | None = None
    answer: str | None = None  # what the answer to the provider contains

    def __str__(self):
        return self.label


def run_in(client, provider: Provider, case: In) -> None:
    response = post(client, provider, case.payload, path=case.path, headers=case.headers, raw=case.raw)
    assert response.status_code == case.status, response.text
    if case.answer is not None:
        assert case.answer in response.text
    messages = stored()
    assert [_pick(m, e) for m, e in zip(messages, case.messages)] == case.messages
    assert len(messages) == len(case.messages)
    assert [_pick(d, e) for d, e in zip(deliveries(), case.deliveries)] == case.deliveries
    if case.status >= 400:
        assert nothing_written()


@dataclass(frozen=True)
class Out:
    """One message queued for someone, what the provider answers, and what comes of it."""

    label: str
    channel: str
    recipient: str = "+17185550123"
    key: str = "shift_offer"
    choices: list[dict] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    language: str = "en"
    hours_since_they_wrote: float | None = None  # None: they never wrote (no 24-hour window)
    sms_consent: bool = False  # they also texted us by SMS from the same phone (days ago)
    answers: dict[str, list[str]] = field(default_factory=dict)  # fake -> its answers in turn ("429", an error code); then it accepts
    env: dict = field(default_factory=dict)
    passes: int = 1  # worker passes; between them the row is made due again
    requests: dict[str, list[dict]] = field(default_factory=dict)  # fake -> what it was asked to send, in order
    outcome: dict = field(default_factory=dict)  # the row, the person, the identity: the fields that matter

    def __str__(self):
        return self.label


def queue(case: Out) -> int:
    """The outbox row for `case`; returns the volunteer's id."""
    with session_scope() as session:
        phone = case.recipient if case.recipient.startswith("+") else None
        identity = identify(session, case.channel, case.recipient, phone=phone)
        identity.volunteer.language = case.language
        if case.hours_since_they_wrote is not None:
            identity.last_inbound_at = utcnow() - timedelta(hours=case.hours_since_they_wrote)
        if case.sms_consent:
            identify(session, "sms", phone, phone=phone).last_inbound_at = utcnow() - timedelta(days=3)
        outbox.enqueue(session, identity, key=case.key, choices=list(case.choices), params=dict(case.params))
        return identity.volunteer_id


def send_due() -> None:
    from worker.sender import OutboxWorker

    asyncio.run(OutboxWorker(get_settings()).send_due())


def outcome(volunteer_id: int) -> dict:
    with session_scope() as session:
        row = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).first()
        volunteer = session.get(Volunteer, volunteer_id)
        identity = session.get(Identity, row.identity_id)
        provider_ids = outbox_parts.ids(session, row.id)  # one per provider call; the first names the message
        return {"status": row.status, "attempts": row.attempts, "channel": row.channel,
                "provider_id": provider_ids[0] if provider_ids else None,
                "last_error": row.last_error, "retry_in": (row.send_after - row.created_at).total_seconds(),
                "consent_status": volunteer.consent_status, "consent_source": volunteer.consent_source,
                "unreachable": identity.unreachable}


def run_out(fakes: dict, case: Out, monkeypatch) -> None:
    from tests.support import databases

    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    databases.reset_caches()
    for name, answers in case.answers.items():
        fakes[name].recorder.modes.extend(answers)
    volunteer_id = queue(case)
    for done in range(case.passes):
        if done:
            with session_scope() as session:
                for row in session.scalars(select(OutboxRow)):
                    row.send_after = row.created_at  # due again
        send_due()
    for name, expected in case.requests.items():
        sent = fakes[name].recorder.sent
        assert [_pick(s, e) for s, e in zip(sent, expected)] == expected
        assert len(sent) == len(expected)
    result = outcome(volunteer_id)
    expected = dict(case.outcome)
    if expected.get("provider_id") == SENT_ID:
        [name] = [n for n, r in case.requests.items() if r]
        expected["provider_id"] = str(fakes[name].recorder.sent[0][SENT_ID_FIELD[name]])
    assert _pick(result, expected) == expected

