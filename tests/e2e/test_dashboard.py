"""The organizer dashboard in a real browser (Debian's Chromium through Playwright), on the
session's stack: a handoff opened by a real SMS conversation, answered and closed from the
inbox, with Rasa paused meanwhile; leads kept to their team; two api processes sharing
sessions, throttling and the inbox."""
import csv
import io
import re
import subprocess
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from campaign.models import Booking, Handoff, Shift, Team, Volunteer
from onramp.settings import ROOT
from api.dashboard import browser as chromium
from tests.support.channel_chat import Sms
from tests.support.chat import catalog_key
from tests.support.stack import free_port

PASSWORD = "a long dashboard password"
ORGANIZER, LEAD = "organizer@example.org", "lead@example.org"


def _add_user(stack, email: str, *args: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/onramp"), "users", "add", email, *args, "--password-stdin"], input=PASSWORD + "\n",
                   env=stack.env, cwd=ROOT, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def dashboard(stack):
    engine = create_engine(stack.db_url)
    with Session(engine) as session:
        teams = list(session.scalars(select(Team.slug).order_by(Team.id).limit(2)))
    _add_user(stack, ORGANIZER, "--role", "organizer")
    _add_user(stack, LEAD, "--role", "lead", "--team", teams[0])
    yield {"engine": engine, "teams": teams}
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with chromium.chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _tracker(stack, conversation_id: str) -> list[dict]:
    return httpx.get(f"{stack.rasa_url}/conversations/{conversation_id}/tracker", params={"include_events": "ALL"},
                     timeout=10, headers=stack.rasa_headers()).json()["events"]


def _wait(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise TimeoutError(what)


def test_sign_in_works_and_a_wrong_password_is_refused(stack, dashboard, page):
    chromium.sign_in(page, stack.api_url, ORGANIZER, "not it at all")
    assert "Wrong email or password." in page.text_content("[role=alert]")
    chromium.sign_in(page, stack.api_url, ORGANIZER, PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    assert page.text_content("h1") == "Inbox"
    page.click("text=Sign out")
    page.wait_for_url("**/dashboard/login")
    page.goto(f"{stack.api_url}/dashboard/volunteers")
    assert page.url.endswith("/dashboard/login")


def test_a_handoff_from_a_real_conversation_is_answered_and_closed_from_the_inbox(stack, fakes, dashboard, page):
    chromium.sign_in(page, stack.api_url, ORGANIZER, PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    supporter = Sms(stack.api_url, stack.db_url, fakes["twilio"], 9301)
    replies = supporter.say("hello, could I chat with a real human please")
    assert [catalog_key(text, "en") for text, _ in replies] == ["handoff_opened"], replies

    with Session(dashboard["engine"]) as session:
        volunteer = session.get(Volunteer, supporter.volunteer_id)
        conversation_id = volunteer.conversation_id
        handoff_id = session.scalars(select(Handoff.id).where(Handoff.volunteer_id == volunteer.id)).one()
    # the inbox, open since before the handoff, shows it by itself (it polls)
    row = page.wait_for_selector(f'tbody tr[data-handoff="{handoff_id}"]', timeout=15000)
    assert "asked" in row.text_content() and "sms" in row.text_content()
    _wait(lambda: any(e["event"] == "pause" for e in _tracker(stack, conversation_id)), what="Rasa paused")

    # while the handoff is open, the supporter's messages reach the organizer, not Rasa
    assert supporter.say("are you still there?") == []
    row.query_selector("a").click()
    page.wait_for_url(f"**/dashboard/conversations/{handoff_id}")
    assert "are you still there?" in page.text_content(".transcript")

    page.fill("textarea[name=text]", "Hi, this is Robin from the campaign. How can I help?")
    page.wait_for_selector("[data-segment-count]:has-text('1 segment')")
    page.click("form.reply button[type=submit]")
    page.wait_for_selector("text=Reply queued")
    delivered = _wait(lambda: [t for t, _ in supporter.mine() if "Robin from the campaign" in t], what="reply at the provider")
    assert delivered == ["Hi, this is Robin from the campaign. How can I help?"]

    page.check("input[name=resume_mode][value=continue]")
    page.fill("input[name=name]", "Dana")
    page.click("form.close button[type=submit]")
    page.wait_for_url("**/dashboard/inbox?closed=1")
    events = _tracker(stack, conversation_id)
    kinds = [e["event"] for e in events]
    assert "pause" in kinds and "resume" in kinds and kinds.index("pause") < kinds.index("resume")
    user_texts = [e.get("text") for e in events if e["event"] == "user"]
    assert "are you still there?" not in user_texts  # nothing of the handoff reached Rasa
    assert {"event": "slot", "name": "volunteer_name", "value": "Dana"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events if e["event"] == "slot"]

    supporter.replies()
    answer = supporter.say("I live in Astoria")  # the bot is back, and the form goes on where it stopped
    assert answer and all(catalog_key(text, "en") for text, _ in answer), answer
    assert "I live in Astoria" in [e.get("text") for e in _tracker(stack, conversation_id) if e["event"] == "user"]


def test_a_sensitive_word_opens_an_urgent_handoff_that_the_inbox_shows_first(stack, fakes, dashboard, page):
    supporter = Sms(stack.api_url, stack.db_url, fakes["twilio"], 9302)
    assert [catalog_key(t, "es") for t, _ in supporter.say("la policía vino a mi edificio ayer")] == ["handoff_opened"]
    with Session(dashboard["engine"]) as session:
        handoff_id = session.scalars(select(Handoff.id).where(Handoff.volunteer_id == supporter.volunteer_id)).one()
    chromium.sign_in(page, stack.api_url, ORGANIZER, PASSWORD)
    row = page.wait_for_selector(f'tbody tr[data-handoff="{handoff_id}"]')
    assert "urgent" in row.text_content() and "police" in row.text_content()
    assert "urgent" in page.text_content("tbody tr[data-handoff]")  # urgent ones come first


def _other_team_volunteer(dashboard) -> tuple[int, int]:
    with Session(dashboard["engine"]) as session, session.begin():
        teams = {t.slug: t.id for t in session.scalars(select(Team).where(Team.slug.in_(dashboard["teams"])))}
        mine = Volunteer(name="Mina Mine", team_id=teams[dashboard["teams"][0]], stage="assigned", availability=[], interests=[])
        other = Volunteer(name="Otto Other", team_id=teams[dashboard["teams"][1]], stage="assigned", availability=[], interests=[])
        session.add_all([mine, other])
        session.flush()
        return mine.id, other.id


def test_a_lead_sees_their_teams_volunteer_and_gets_404_for_another_teams_in_page_and_csv(stack, dashboard, page):
    mine, other = _other_team_volunteer(dashboard)
    chromium.sign_in(page, stack.api_url, LEAD, PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    page.goto(f"{stack.api_url}/dashboard/volunteers/{mine}")
    assert page.text_content("h1") == "Mina Mine"
    assert page.goto(f"{stack.api_url}/dashboard/volunteers/{other}").status == 404
    assert page.request.get(f"{stack.api_url}/dashboard/volunteers.csv?id={other}").status == 404
    exported = page.request.get(f"{stack.api_url}/dashboard/volunteers.csv").text()
    names = [row["name"] for row in csv.DictReader(io.StringIO(exported))]
    assert "Mina Mine" in names and "Otto Other" not in names


def test_a_form_posted_without_its_csrf_token_gets_403(stack, dashboard, page):
    chromium.sign_in(page, stack.api_url, ORGANIZER, PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    assert page.request.post(f"{stack.api_url}/dashboard/logout", form={}).status == 403
    token = page.get_attribute("input[name=csrf_token]", "value")
    assert page.request.post(f"{stack.api_url}/dashboard/logout", form={"csrf_token": token}).ok


# a cohort far in the past, so that the session's other conversations do not touch its figures
SEEDED = {"first_message": 12, "name": 9, "place": 7, "availability": 6, "team": 4, "booked": 2, "attended": 1}


def test_the_funnel_page_over_seeded_numbers_shows_a_chart_and_those_figures(stack, dashboard, page):
    first_day = datetime(2020, 3, 2, 15, tzinfo=UTC)
    with Session(dashboard["engine"]) as session, session.begin():
        team_id = session.scalars(select(Team.id)).first()
        shift_id = session.scalars(select(Shift.id)).first()
        people = []
        for n in range(SEEDED["first_message"]):
            people.append(Volunteer(
                created_at=first_day, stage="new", interests=[], signup_source="e2e-funnel",
                name=f"F{n}" if n < SEEDED["name"] else None, zip_code="11103" if n < SEEDED["place"] else None,
                availability=["sat:morning"] if n < SEEDED["availability"] else [],
                team_id=team_id if n < SEEDED["team"] else None))
        session.add_all(people)
        session.flush()
        session.add_all([Booking(shift_id=shift_id, volunteer_id=v.id, status="booked", attended=n < SEEDED["attended"])
                         for n, v in enumerate(people[:SEEDED["booked"]])])
    chromium.sign_in(page, stack.api_url, ORGANIZER, PASSWORD)
    page.wait_for_url("**/dashboard/inbox")
    page.goto(f"{stack.api_url}/dashboard/funnel?start=2020-03-01&end=2020-03-31")
    assert page.is_visible("svg.chart") and len(page.query_selector_all("svg.chart rect")) == len(SEEDED)
    shown = {row.get_attribute("data-stage"): int(row.query_selector(".count").text_content())
             for row in page.query_selector_all("table.figures tbody tr")}
    assert shown == SEEDED
    bar = page.text_content('svg.chart g[data-stage="team"] .figure')
    assert bar == "4 · 33%"


@pytest.fixture
def second_api(stack):
    port = free_port()
    env = {**stack.full_env, "API_PORT": str(port)}
    log = open(stack.workdir / "api-2.log", "ab")
    proc = subprocess.Popen(stack.commands()["api"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _healthy(url), timeout=60, what="second api")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _cookie(response: httpx.Response, name: str) -> str:
    # the stack's public URL is https, so its cookies are Secure: carried by hand over loopback http
    return re.search(rf"{name}=([^;]+)", response.headers.get("set-cookie", "")).group(1)


def _http_sign_in(url: str, email: str, password: str) -> httpx.Response:
    form = httpx.get(f"{url}/dashboard/login")
    csrf = _cookie(form, "onramp_login_csrf")
    return httpx.post(f"{url}/dashboard/login", data={"email": email, "password": password, "csrf_token": csrf},
                      headers={"Cookie": f"onramp_login_csrf={csrf}"})


def test_two_api_processes_share_sessions_throttling_and_the_inbox(stack, fakes, dashboard, second_api):
    one, two = stack.api_url, second_api
    signed = _http_sign_in(one, ORGANIZER, PASSWORD)
    assert signed.status_code == 303
    cookie = {"Cookie": f"onramp_session={_cookie(signed, 'onramp_session')}"}

    # live updates: a handoff opened through one process shows in the other's inbox
    supporter = Sms(one, stack.db_url, fakes["twilio"], 9303)
    supporter.say("someone threatened me outside the office")
    rows = httpx.get(f"{two}/dashboard/inbox/rows?folder=all", headers=cookie)
    assert rows.status_code == 200 and "threats" in rows.text

    # signing out on one process ends the session on the other
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', httpx.get(f"{two}/dashboard/inbox", headers=cookie).text).group(1)
    assert httpx.post(f"{two}/dashboard/logout", data={"csrf_token": csrf}, headers=cookie).status_code == 303
    assert httpx.get(f"{one}/dashboard/inbox", headers=cookie).status_code == 303

    # failed sign-ins counted on one process throttle the account on the other
    _add_user(stack, "guarded@example.org", "--role", "organizer")
    for _ in range(5):
        assert _http_sign_in(one, "guarded@example.org", "wrong guess").status_code == 401
    assert _http_sign_in(two, "guarded@example.org", PASSWORD).status_code == 429
