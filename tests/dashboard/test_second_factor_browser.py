"""Two-step sign-in in a real browser (Debian's chromium): enrol from the QR code page, keep the
recovery codes, sign out, and sign in with the password and a code. Every request the pages make
goes to the app itself: the QR code is drawn by the server, not fetched.

The clock is the real one (codes are computed from it, as a phone would); the sign-in uses the
code of the step after the one that confirmed the enrolment (accepted one step early), or the
clock's own when it has moved on: never the spent one."""
import time
from urllib.parse import urlsplit

import pyotp
import pytest

from api.dashboard import browser as chromium
from tests.dashboard.conftest import PASSWORD, make_account
from tests.support.stack import free_port


@pytest.fixture
def served(teams):
    from api.main import create_app

    with chromium.served(create_app(run_pipeline=False), free_port(), wait_seconds=20) as base:
        yield base


def test_enrol_then_sign_in_with_a_code_in_a_browser(served):
    make_account("phone@example.org", "organizer")
    elsewhere: list[str] = []
    with chromium.chromium() as browser:
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone's width
        page.on("request", lambda request: elsewhere.append(request.url) if not (
            request.url.startswith(served) or urlsplit(request.url).scheme == "data") else None)
        chromium.sign_in(page, served, "phone@example.org", PASSWORD)
        page.wait_for_url("**/dashboard/inbox")

        page.goto(f"{served}/dashboard/security")
        qr = page.locator("figure.qr img")
        assert qr.get_attribute("src").startswith("data:image/svg+xml")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 100")  # the browser drew it
        totp = pyotp.TOTP(page.inner_text("#totp-secret").replace(" ", ""))
        enrolled_at = time.time()
        page.fill("input[name=code]", totp.at(enrolled_at))
        page.click("#confirm-code")
        page.wait_for_selector("#recovery-codes")
        assert page.locator("#recovery-codes li").count() == 10
        page.click("text=go to the dashboard")
        page.wait_for_url("**/dashboard/inbox")

        page.click("text=Sign out")
        page.wait_for_url("**/dashboard/login")
        chromium.sign_in(page, served, "phone@example.org", PASSWORD)
        page.wait_for_url("**/dashboard/login/code")
        page.goto(f"{served}/dashboard/inbox")  # no session yet: back to the code page
        page.wait_for_url("**/dashboard/login/code")
        page.fill("input[name=code]", "000000" if totp.at(enrolled_at + 30) != "000000" else "111111")
        page.click("#send-code")
        assert "That code is not right" in page.inner_text("[role=alert]")
        # the step after the spent one, or the clock's own if it has moved further by now (a slow machine)
        page.fill("input[name=code]", totp.at(max(time.time(), enrolled_at + 30)))
        page.click("#send-code")
        page.wait_for_url("**/dashboard/inbox")
        assert page.locator("text=phone@example.org").count() >= 1
    assert elsewhere == []
