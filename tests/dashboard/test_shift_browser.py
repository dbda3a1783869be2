"""Shifts managed in a real browser (Debian's Chromium through Playwright) against the api served
on a loopback port: an organizer adds a shift (a mistake first), moves it and the supporter
booked is told, cancels it; a lead cannot reach another team's shift."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from api.dashboard import browser as chromium
from campaign import reminders, shifts
from campaign.db import session_scope
from campaign.models import OutboxRow, Shift, Team, utcnow
from onramp.settings import get_settings
from tests.dashboard.conftest import PASSWORD, make_account
from tests.dashboard.test_shift_forms import _booked_supporter
from tests.support.stack import free_port


@pytest.fixture
def served(teams):
    from api.main import create_app

    with chromium.served(create_app(run_pipeline=False), free_port(), wait_seconds=20) as base:
        yield base


@pytest.fixture
def browser():
    with chromium.chromium() as browser:
        yield browser


def _page(browser):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel this shift?": yes
    return page


def _local(days: int, hour: int) -> str:
    """A wall-clock time in the campaign's zone, some days from now, as the form takes it."""
    zone = ZoneInfo(get_settings().campaign_timezone)
    day = (utcnow().astimezone(zone) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def _told(volunteer_id: int, key: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(r.channel, r.recipient) for r in session.scalars(
            select(OutboxRow).where(OutboxRow.volunteer_id == volunteer_id, OutboxRow.key == key))]


def test_an_organizer_adds_moves_and_cancels_a_shift_and_the_person_booked_is_told(served, browser):
    make_account("org@example.org", "organizer")
    page = _page(browser)
    chromium.sign_in(page, served, "org@example.org", PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    page.goto(f"{served}/dashboard/shifts")
    page.click("text=New shift")
    page.select_option("select[name=team]", "astoria")
    page.fill("input[name=starts_at]", _local(7, 10))
    page.fill("input[name=ends_at]", _local(7, 9))  # a slip: it ends before it starts
    page.fill("input[name=place]", "Astoria Park, Shore Blvd")
    page.fill("input[name=capacity]", "0")
    page.click("form.shift-form button[type=submit]")
    assert "The shift must end after it starts." in page.text_content("#ends_at-error")
    assert "at least 1 place" in page.text_content("#capacity-error")
    assert "The shift was not saved" in page.text_content("[role=alert]")
    assert page.input_value("input[name=place]") == "Astoria Park, Shore Blvd"  # kept, to be corrected

    page.fill("input[name=ends_at]", _local(7, 13))
    page.fill("input[name=capacity]", "4")
    page.click("form.shift-form button[type=submit]")
    page.wait_for_selector("text=Shift added.")
    shift_id = int(page.url.rstrip("/").split("/shifts/")[1].split("?")[0])
    assert "Astoria Park, Shore Blvd · capacity 4" in page.text_content("main")
    assert "10:00" in page.text_content("h1")  # shown in the campaign's time, as typed

    rosa = _booked_supporter(shift_id, phone="+17185550505", name="Rosa Díaz")
    page.click("text=Change or cancel")
    page.fill("input[name=starts_at]", _local(7, 11))
    page.fill("input[name=ends_at]", _local(7, 14))
    page.click("form.shift-form button[type=submit]")
    page.wait_for_selector("text=Shift changed. 1 booked person was told.")
    assert "11:00" in page.text_content("h1")
    assert _told(rosa, reminders.SHIFT_CHANGED) == [("sms", "+17185550505")]

    page.click("text=Change or cancel")
    page.click("form.cancel-shift button[type=submit]")
    page.wait_for_selector("text=Shift cancelled. 1 person was told.")
    assert "no longer offered" in page.text_content(".alert")
    assert _told(rosa, reminders.SHIFT_CANCELLED) == [("sms", "+17185550505")]
    assert not page.is_visible("text=Change or cancel")


def test_a_lead_is_refused_another_teams_shift_in_the_browser(served, browser):
    with session_scope() as session:
        flatbush = session.scalars(select(Team).where(Team.slug == "flatbush")).one()
        starts = utcnow() + timedelta(days=3)
        theirs = shifts.create_shift(session, flatbush.id, starts, starts + timedelta(hours=2), "Flatbush Ave", 5).id
    make_account("lina@example.org", "lead", "astoria")
    page = _page(browser)
    chromium.sign_in(page, served, "lina@example.org", PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    assert page.goto(f"{served}/dashboard/shifts/{theirs}").status == 404
    assert page.goto(f"{served}/dashboard/shifts/{theirs}/edit").status == 404
    page.goto(f"{served}/dashboard/shifts/new")
    assert page.eval_on_selector_all("select[name=team] option", "options => options.map(o => o.value)") == ["astoria"]
    csrf = page.get_attribute("input[name=csrf_token]", "value")
    assert page.request.post(f"{served}/dashboard/shifts/{theirs}/cancel", form={"csrf_token": csrf}).status == 404
    with session_scope() as session:
        assert session.get(Shift, theirs).cancelled_at is None
