"""Two-step sign-in (#25): enrolment with a QR code drawn locally, a code after the password,
recovery codes that work once, no code twice, wrong codes throttled like passwords, and
`onramp users require-2fa` making it mandatory for a role.

The clock is pinned (codes change every 30 s): every block of each test runs inside its travel,
the accounts and the sign-ins included, so the test sees one clock throughout."""
import re
import time
from datetime import timedelta

import pyotp
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaign import accounts, second_factor
from campaign.db import session_scope
from campaign.models import SignInFailure
from campaign.models.account import RecoveryCode
from tests.dashboard.conftest import csrf_of, make_account, sign_in

NOON = "2027-03-02 12:00:05Z"  # 5 s into a 30 s step


def _key(html: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")


def _enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    """Through the page, as a person would: read the key, type the app's code; the recovery codes shown."""
    page = client.get("/dashboard/security")
    assert page.status_code == 200
    secret = _key(page.text)
    totp = pyotp.TOTP(secret)
    shown = client.post("/dashboard/security/enrol", data={"csrf_token": csrf_of(page.text), "code": totp.now()})
    assert shown.status_code == 200, shown.text
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.text)
    assert len(codes) == 10 and "only time they are" in shown.text
    return totp, codes


def _sign_out(client) -> None:
    page = client.get("/dashboard/inbox").text
    assert client.post("/dashboard/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False).status_code == 303


def _code(client, code: str):
    """The second step: the code page's form, posted."""
    page = client.get("/dashboard/login/code")
    assert page.status_code == 200 and "authenticator app" in page.text
    return client.post("/dashboard/login/code", data={"csrf_token": csrf_of(page.text), "code": code},
                       follow_redirects=False)


def _enrolled(client, email: str, traveller) -> tuple[pyotp.TOTP, list[str]]:
    """An organizer who enrolled and signed out; the clock moved to the next step (the code used to
    enrol is spent)."""
    make_account(email, "organizer")
    assert sign_in(client, email).headers["location"] == "/dashboard/inbox"
    totp, codes = _enrol(client)
    _sign_out(client)
    traveller.shift(timedelta(seconds=30))
    return totp, codes


def _failures(email: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(SignInFailure).where(SignInFailure.email == email))


def _onramp(*args: str):
    from typer.testing import CliRunner

    from onramp.cli import app

    return CliRunner().invoke(app, ["users", *args])


def test_enrolling_shows_a_local_qr_code_then_a_sign_in_needs_the_code(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        make_account("two@example.org", "organizer")
        sign_in(client, "two@example.org")
        page = client.get("/dashboard/security").text
        # drawn here: an SVG in a data: URI (the CSP allows img-src 'self' data:), nothing fetched elsewhere
        assert re.search(r'<img src="data:image/svg\+xml;[^"]+"', page)
        assert not re.search(r'(src|href)="(https?:)?//', page)
        assert _key(client.get("/dashboard/security").text) == _key(page)  # a reload shows the key already scanned
        totp, codes = _enrol(client)
        with session_scope() as session:
            account = accounts.by_email(session, "two@example.org")
            assert account.totp_secret == totp.secret and account.totp_pending_secret is None
            hashes = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.account_id == account.id)).all()
        assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
        assert not any(code.replace("-", "") in h for code in codes for h in hashes)
        _sign_out(client)
        sign_in(client, "two@example.org")
        spent = _code(client, totp.now())  # the code that confirmed the enrolment is spent
        assert spent.status_code == 401 and "used already" in spent.text
        client.post("/dashboard/login/cancel", data={"csrf_token": csrf_of(client.get("/dashboard/login/code").text)})

        traveller.shift(timedelta(seconds=30))
        password = sign_in(client, "two@example.org")
        assert password.status_code == 303 and password.headers["location"] == "/dashboard/login/code"
        assert not re.search(r"onramp_session=[^\";]", password.headers["set-cookie"])  # no session for the password
        assert client.cookies.get("onramp_session") is None
        # until the code, every page sends the browser back to the code page
        assert client.get("/dashboard/inbox", follow_redirects=False).headers["location"] == "/dashboard/login"
        assert client.get("/dashboard/login", follow_redirects=False).headers["location"] == "/dashboard/login/code"
        assert client.get("/dashboard/volunteers").url.path == "/dashboard/login/code"
        answer = _code(client, totp.now())
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/inbox"
        assert "onramp_session=" in answer.headers["set-cookie"]
        assert client.get("/dashboard/inbox").status_code == 200
        assert "Two-step sign-in is on" in client.get("/dashboard/security").text


def test_a_code_from_the_step_before_or_after_is_accepted_and_one_further_is_not(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        totp, _ = _enrolled(client, "skew@example.org", traveller)
        sign_in(client, "skew@example.org")
        assert _code(client, totp.at(time.time() + 60)).status_code == 401  # two steps ahead: refused
        assert _code(client, totp.at(time.time() + 30)).status_code == 303  # the phone's clock 30 s fast: fine


def test_a_wrong_code_is_refused_says_why_and_counts_as_a_failed_sign_in(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        totp, _ = _enrolled(client, "wrong@example.org", traveller)
        sign_in(client, "wrong@example.org")
        wrong = "000000" if totp.now() != "000000" else "111111"
        answer = _code(client, wrong)
        assert answer.status_code == 401 and "That code is not right" in answer.text
        assert _failures("wrong@example.org") == 1
        assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 303  # still not signed in
        assert "Type the 6 digits" in _code(client, "12ab").text  # neither a code nor a recovery code
        for _ in range(3):
            assert _code(client, wrong).status_code == 401
        assert _failures("wrong@example.org") == 5
        # the account's limit is reached: even the right code waits, as the right password would
        throttled = _code(client, totp.now())
        assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
        assert sign_in(TestClient(client.app), "wrong@example.org").status_code == 429  # the password too, here
        traveller.shift(timedelta(seconds=31))
        assert _code(client, totp.now()).status_code == 303


def test_a_recovery_code_signs_in_once(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        _, codes = _enrolled(client, "lost@example.org", traveller)
        sign_in(client, "lost@example.org")
        assert _code(client, " " + codes[3].upper().replace("-", " ") + " ").status_code == 303  # as typed from paper
        with session_scope() as session:
            account = accounts.by_email(session, "lost@example.org")
            assert second_factor.recovery_codes_left(session, account) == 9
        _sign_out(client)
        sign_in(client, "lost@example.org")
        again = _code(client, codes[3])
        assert again.status_code == 401 and "each recovery code works once" in again.text
        assert _failures("lost@example.org") == 1
        assert _code(client, codes[4]).status_code == 303


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        totp, old = _enrolled(client, "renew@example.org", traveller)
        sign_in(client, "renew@example.org")
        assert _code(client, totp.now()).status_code == 303
        page = client.get("/dashboard/security").text
        assert "10 unused recovery codes left" in page
        assert client.post("/dashboard/security/recovery-codes", data={"csrf_token": "forged", "code": "1"}).status_code == 403
        refused = client.post("/dashboard/security/recovery-codes", data={"csrf_token": csrf_of(page), "code": "000001"})
        assert refused.status_code == 401 and "not right" in refused.text
        traveller.shift(timedelta(seconds=30))
        renewed = client.post("/dashboard/security/recovery-codes", data={"csrf_token": csrf_of(page), "code": totp.now()})
        new = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", renewed.text)
        assert renewed.status_code == 200 and len(new) == 10 and not set(new) & set(old)
        _sign_out(client)
        sign_in(client, "renew@example.org")
        assert _code(client, old[0]).status_code == 401
        assert _code(client, new[0]).status_code == 303


def test_a_code_is_never_accepted_twice(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        totp, _ = _enrolled(client, "replay@example.org", traveller)
        code = totp.now()
        sign_in(client, "replay@example.org")
        assert _code(client, code).status_code == 303
        _sign_out(client)
        sign_in(client, "replay@example.org")  # the same 30 s step: someone who saw the code over a shoulder
        replayed = _code(client, code)
        assert replayed.status_code == 401 and "used already" in replayed.text
        assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 303
        traveller.shift(timedelta(seconds=30))  # the next step's code is a new one
        assert _code(client, totp.now()).status_code == 303


def test_two_requests_with_one_code_at_once_let_only_one_in(client):
    """The step is taken by a conditional UPDATE: the second request, even in its own transaction
    begun before the first committed, finds it taken."""
    with time_machine.travel(NOON, tick=False) as traveller:
        totp, _ = _enrolled(client, "race@example.org", traveller)
        code = totp.now()
        with session_scope() as first, session_scope() as second:
            one = accounts.by_email(first, "race@example.org")
            two = accounts.by_email(second, "race@example.org")
            second_factor.check(first, one, code)
            first.commit()
            try:
                second_factor.check(second, two, code)
                passed = True
            except second_factor.CodeRefused:
                passed = False
        assert not passed


def test_require_2fa_makes_a_role_enrol_before_any_other_page(client):
    with time_machine.travel(NOON, tick=False):
        make_account("org@example.org", "organizer")
        make_account("lead@example.org", "lead", "astoria")
        assert sign_in(client, "org@example.org").status_code == 303
        assert client.get("/dashboard/inbox").status_code == 200

        done = _onramp("require-2fa", "--role", "organizer")
        assert done.exit_code == 0, done.output
        assert "org@example.org" in done.output and "next sign-in" in done.output
        assert "required" in _onramp("list").output
        # signed out now; the password leads to the security page, and nowhere else
        assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 303
        answer = sign_in(client, "org@example.org")
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/security"
        for path in ("/dashboard/inbox", "/dashboard/volunteers", "/dashboard/shifts", "/dashboard/login"):
            assert client.get(path).url.path == "/dashboard/security", path
        page = client.get("/dashboard/security").text
        assert "Your role requires two-step sign-in" in page
        refused = client.post("/dashboard/security/enrol", data={"csrf_token": csrf_of(page), "code": "12"})
        assert refused.status_code == 422 and "Type the 6 digits" in refused.text
        assert client.post("/dashboard/security/enrol", data={"csrf_token": "forged", "code": "123456"}).status_code == 403
        _enrol(client)  # confirming the first code makes the session
        assert client.get("/dashboard/inbox").status_code == 200

        lead = TestClient(client.app)  # another role: the password is enough
        assert sign_in(lead, "lead@example.org").headers["location"] == "/dashboard/inbox"

        assert _onramp("require-2fa", "--role", "organizer", "--off").exit_code == 0
        make_account("new@example.org", "organizer")
        other = TestClient(client.app)
        assert sign_in(other, "new@example.org").headers["location"] == "/dashboard/inbox"


def test_a_lost_phone_is_reset_from_the_command_line(client):
    with time_machine.travel(NOON, tick=False) as traveller:
        _enrolled(client, "phone@example.org", traveller)
        assert _onramp("reset-2fa", "phone@example.org").exit_code == 0
        assert sign_in(client, "phone@example.org").headers["location"] == "/dashboard/inbox"
        with session_scope() as session:
            account = accounts.by_email(session, "phone@example.org")
            assert account.totp_secret is None and second_factor.recovery_codes_left(session, account) == 0
