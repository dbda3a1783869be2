"""After sign-out, the browser's Back button shows no transcript (a shared office computer), and
every dashboard page says so in its headers: not stored, not framed, only its own scripts."""
import pytest

from api.dashboard import browser as chromium
from tests.dashboard.conftest import PASSWORD, make_account, team_slugs
from tests.dashboard.test_roles import _volunteer
from tests.support.stack import free_port

SECRET_SUMMARY = "quiero hablar con alguien"  # what _volunteer's handoff says


@pytest.fixture
def served(teams):
    from api.main import create_app

    with chromium.served(create_app(run_pipeline=False), free_port(), wait_seconds=20) as base:
        yield base


def test_back_after_sign_out_shows_no_transcript(served):
    _, handoff = _volunteer("Ana Back", team_slugs()[0], "+17185550301")
    make_account("org@example.org", "organizer")
    with chromium.chromium() as browser:
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        chromium.sign_in(page, served, "org@example.org", PASSWORD)
        page.wait_for_url("**/dashboard/inbox")
        page.goto(f"{served}/dashboard/conversations/{handoff}")
        assert SECRET_SUMMARY in page.content()
        page.click("text=Sign out")
        page.wait_for_url("**/dashboard/login")
        page.go_back()
        page.wait_for_load_state()
        assert SECRET_SUMMARY not in page.content()  # the page was asked for again, and refused
        assert "/dashboard/login" in page.url


def test_every_dashboard_page_is_not_stored_framed_or_sniffed(client):
    for path in ("/dashboard/login", "/dashboard/static/dashboard.css"):
        headers = client.get(path).headers
        assert headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in client.get("/chat").headers  # the web chat is not the dashboard
