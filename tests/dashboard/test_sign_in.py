"""Signing in to the dashboard: sessions in the database, CSRF on every form, throttled guessing."""
from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient

from campaign.db import session_scope
from campaign import accounts
from onramp.settings import get_settings
from tests.dashboard.conftest import PASSWORD, csrf_of, make_account, sign_in


def test_the_dashboard_without_a_session_sends_the_browser_to_the_sign_in_page(client):
    answer = client.get("/dashboard/inbox", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/login"
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/login"


def test_the_right_password_signs_in_and_a_wrong_one_is_refused(client):
    make_account("lee@example.org", "organizer")
    refused = sign_in(client, "lee@example.org", "not the password")
    assert refused.status_code == 401 and "Wrong email or password" in refused.text
    assert client.get("/dashboard/inbox", follow_redirects=False).status_code == 303
    answer = sign_in(client, "LEE@example.org ")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "onramp_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the public URL is http here
    assert "Inbox" in client.get("/dashboard/inbox").text


def test_the_session_cookie_is_secure_when_the_public_url_is_https(demo, monkeypatch):
    from api.main import create_app
    from onramp.settings import get_settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://onramp.example.org")
    monkeypatch.setenv("SERVICE_TOKEN", "sign-in-tests-service-token-" + "t" * 16)  # a public URL needs a real one
    get_settings.cache_clear()
    make_account("sec@example.org", "organizer")
    with TestClient(create_app(run_pipeline=False), base_url="https://testserver") as client:
        assert "Secure" in sign_in(client, "sec@example.org").headers["set-cookie"]
    get_settings.cache_clear()


def test_the_password_is_stored_as_an_argon2_hash(client):
    make_account("hash@example.org", "organizer")
    with session_scope() as session:
        stored = accounts.by_email(session, "hash@example.org").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_form_posted_without_its_csrf_token_gets_403(organizer):
    assert organizer.post("/dashboard/logout", data={}).status_code == 403
    assert organizer.post("/dashboard/logout", data={"csrf_token": "forged"}).status_code == 403
    assert organizer.get("/dashboard/inbox").status_code == 200  # still signed in


def test_the_sign_in_form_without_its_token_gets_403(client):
    make_account("nocsrf@example.org", "organizer")
    client.get("/dashboard/login")
    answer = client.post("/dashboard/login", data={"email": "nocsrf@example.org", "password": PASSWORD})
    assert answer.status_code == 403


def test_signing_out_ends_the_session_for_a_stolen_copy_of_the_cookie_too(organizer):
    stolen = organizer.cookies.get("onramp_session")
    page = organizer.get("/dashboard/inbox").text
    assert organizer.post("/dashboard/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False).status_code == 303
    organizer.cookies.set("onramp_session", stolen, path="/dashboard")
    assert organizer.get("/dashboard/inbox", follow_redirects=False).status_code == 303


def test_disabling_an_account_ends_its_sessions_at_once(organizer):
    with session_scope() as session:
        accounts.disable(session, "org@example.org")
    assert organizer.get("/dashboard/inbox", follow_redirects=False).status_code == 303
    assert sign_in(organizer, "org@example.org").status_code == 401


def test_five_wrong_passwords_lock_the_account_for_a_while_even_with_the_right_one(client):
    make_account("guess@example.org", "organizer")
    with time_machine.travel("2026-12-01 12:00Z", tick=False) as traveller:
        for _ in range(5):
            assert sign_in(client, "guess@example.org", "wrong password").status_code == 401
        answer = sign_in(client, "guess@example.org")
        assert answer.status_code == 429 and "too many failed sign-ins" in answer.text
        traveller.shift(accounts.failure_window(get_settings()) + timedelta(seconds=1))
        assert sign_in(client, "guess@example.org").status_code == 303


def test_one_address_guessing_across_many_accounts_is_throttled(client, monkeypatch):
    from onramp.settings import get_settings

    monkeypatch.setenv("SIGN_IN_MAX_FAILURES_PER_ADDRESS", "4")
    get_settings.cache_clear()
    make_account("victim@example.org", "organizer")
    for n in range(4):
        assert sign_in(client, f"nobody{n}@example.org", "wrong password").status_code == 401
    assert sign_in(client, "victim@example.org").status_code == 429


def test_a_stranger_who_knows_the_email_cannot_lock_its_owner_out(client):
    """Before, five wrong passwords from anywhere locked the account for everyone: the owner's
    right password got 429 for the whole window."""
    make_account("owner@example.org", "organizer")
    stranger = TestClient(client.app, client=("198.51.100.7", 40000))
    with time_machine.travel("2026-12-01 12:00Z", tick=False):
        for _ in range(12):
            assert sign_in(stranger, "owner@example.org", "guess").status_code in (401, 429)
        assert sign_in(stranger, "owner@example.org").status_code == 429  # the stranger's address waits
        assert sign_in(client, "owner@example.org").status_code == 303  # the owner, elsewhere, gets in


def test_a_lock_lasts_minutes_not_the_whole_window(client):
    make_account("slow@example.org", "organizer")
    with time_machine.travel("2026-12-01 12:00Z", tick=False) as traveller:
        for _ in range(5):
            assert sign_in(client, "slow@example.org", "wrong password").status_code == 401
        assert sign_in(client, "slow@example.org").status_code == 429
        traveller.shift(timedelta(seconds=31))  # 30 s after the fifth failure
        assert sign_in(client, "slow@example.org").status_code == 303


def test_sixty_guesses_at_once_evaluate_at_most_the_limit(teams):
    """The check and the count are one step: before, 60 concurrent guesses all read 'fewer than
    5 failures' and every one was evaluated."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from campaign.db import session_scope
    from campaign.models import SignInFailure

    make_account("race@example.org", "organizer")
    settings = get_settings()

    def guess(n: int) -> str:
        try:
            with session_scope() as session:
                return "ok" if accounts.sign_in(session, "race@example.org", f"guess {n}", "203.0.113.5", settings) else "no"
        except accounts.Throttled:
            return "throttled"

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(60)))
    with session_scope() as session:
        evaluated = session.scalar(select(func.count()).select_from(SignInFailure))
    assert evaluated == settings.sign_in_max_failures_per_account == answers.count("no")
    assert answers.count("throttled") == 60 - evaluated
