"""Roles: a lead sees only their team, in every query; admins read who looked at whom."""
import csv
import io

from sqlalchemy import select

from campaign import handoffs
from campaign.db import session_scope
from campaign.models import AccessLogEntry, Identity, Team, Volunteer
from tests.dashboard.conftest import make_account, sign_in, team_slugs
from onramp.settings import get_settings


def _volunteer(name: str, team_slug: str, phone: str) -> tuple[int, int]:
    with session_scope() as session:
        team = session.scalars(select(Team).where(Team.slug == team_slug)).one()
        volunteer = Volunteer(name=name, language="es", team_id=team.id, stage="assigned", availability=[], interests=[],
                              signup_source="sms")
        session.add(volunteer)
        session.flush()
        session.add(Identity(volunteer_id=volunteer.id, channel="sms", external_id=phone, phone=phone))
        handoff = handoffs.open_for(session, volunteer.id, "asked", summary="quiero hablar con alguien", settings=get_settings())
        return volunteer.id, handoff.id


def _csv_names(text: str) -> list[str]:
    return [row["name"] for row in csv.DictReader(io.StringIO(text))]


def test_a_lead_sees_their_teams_volunteer_and_gets_404_for_another_teams(client):
    mine, other = team_slugs()[:2]
    ana, ana_handoff = _volunteer("Ana Mine", mine, "+17185550101")
    bo, bo_handoff = _volunteer("Bo Other", other, "+17185550102")
    make_account("lead@example.org", "lead", mine)
    assert sign_in(client, "lead@example.org").status_code == 303

    assert "Ana Mine" in client.get(f"/dashboard/volunteers/{ana}").text
    assert client.get(f"/dashboard/volunteers/{bo}").status_code == 404
    assert client.get(f"/dashboard/volunteers.csv?id={bo}").status_code == 404
    assert _csv_names(client.get(f"/dashboard/volunteers.csv?id={ana}").text) == ["Ana Mine"]
    assert _csv_names(client.get("/dashboard/volunteers.csv").text) == ["Ana Mine"]
    assert client.get(f"/dashboard/conversations/{bo_handoff}").status_code == 404
    assert client.get(f"/dashboard/conversations/{ana_handoff}").status_code == 200

    listing = client.get("/dashboard/volunteers?q=e").text  # the search matches both names
    assert "Ana Mine" in listing and "Bo Other" not in listing
    inbox = client.get("/dashboard/inbox/rows?folder=all").text
    assert "Ana Mine" in inbox and "Bo Other" not in inbox
    assert client.get("/dashboard/outbox").status_code == 403
    assert client.get("/dashboard/accounts").status_code == 403


def test_an_organizer_sees_every_team(organizer):
    mine, other = team_slugs()[:2]
    _volunteer("Ana Mine", mine, "+17185550103")
    _volunteer("Bo Other", other, "+17185550104")
    assert sorted(_csv_names(organizer.get("/dashboard/volunteers.csv").text)) == ["Ana Mine", "Bo Other"]
    assert organizer.get("/dashboard/accounts").status_code == 403  # admins only


def test_every_person_view_and_export_is_logged_and_an_admin_reads_the_log(organizer, app):
    from fastapi.testclient import TestClient

    ana, _ = _volunteer("Ana Logged", team_slugs()[0], "+17185550105")
    organizer.get(f"/dashboard/volunteers/{ana}")
    organizer.get("/dashboard/volunteers.csv?language=es")
    with session_scope() as session:
        log = [(e.account.email, e.action, e.subject) for e in session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))]
    assert log[0] == ("org@example.org", "person_viewed", f"volunteer {ana}")
    assert log[1][:2] == ("org@example.org", "csv_exported") and "language='es'" in log[1][2]
    make_account("admin@example.org", "admin")
    with TestClient(app) as admin:
        sign_in(admin, "admin@example.org")
        page = admin.get("/dashboard/accounts").text
    assert "person_viewed" in page and f"volunteer {ana}" in page and "csv_exported" in page


def test_the_export_never_hands_a_spreadsheet_a_formula(client):
    """Names and sources come from strangers (OWASP's CSV injection rule): a cell that starts
    with = + - @, a tab or a carriage return is exported as text, with a leading apostrophe.
    Before, "=HYPERLINK(...)" went out as it was, and the spreadsheet ran it."""
    mine = team_slugs()[0]
    names = ['=HYPERLINK("http://evil.example","click")', "+1 555", "-2+3", "@SUM(A1)", "\tTab", "Ana =ok"]
    for n, name in enumerate(names):
        _volunteer(name, mine, f"+1718555020{n}")
    make_account("org@example.org", "organizer")
    assert sign_in(client, "org@example.org").status_code == 303
    assert sorted(_csv_names(client.get("/dashboard/volunteers.csv").text)) == sorted(
        ["'" + name for name in names[:-1]] + ["Ana =ok"])
