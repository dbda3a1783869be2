import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign import accounts
from campaign.db import session_scope
from campaign.models import Team

PASSWORD = "correct horse battery"


def make_account(email: str, role: str, team_slug: str | None = None) -> None:
    with session_scope() as session:
        accounts.add(session, email, PASSWORD, role, team_slug)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD):
    token = csrf_of(client.get("/dashboard/login").text)
    return client.post("/dashboard/login", data={"email": email, "password": password, "csrf_token": token},
                       follow_redirects=False)


@pytest.fixture
def teams(db):
    """Two teams are all these tests need (the whole demo campaign takes longer to load)."""
    with session_scope() as session:
        session.add_all([Team(slug="astoria", name="Astoria", languages=["en", "es"]),
                         Team(slug="flatbush", name="Flatbush", languages=["en", "fr"])])
    return db


@pytest.fixture
def app(teams):
    from api.main import create_app

    return create_app(run_pipeline=False)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def organizer(client):
    make_account("org@example.org", "organizer")
    assert sign_in(client, "org@example.org").status_code == 303
    return client


def team_slugs() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(Team.slug).order_by(Team.id)))
