"""The REST API as the action server and organizers use it: clear errors, nothing half-written."""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaign.db import session_scope
from campaign.models import Neighborhood, Volunteer
from onramp.settings import get_settings


@pytest.fixture
def client(demo):
    from api.main import create_app

    with TestClient(create_app(run_pipeline=False)) as client:
        client.headers["Authorization"] = f"Bearer {get_settings().service_token}"
        yield client


@pytest.fixture
def volunteer_id(demo):
    with session_scope() as session:
        volunteer = Volunteer(availability=[], interests=[])
        session.add(volunteer)
        session.flush()
        return volunteer.id


def test_the_api_needs_the_service_token(client):
    response = client.get("/v1/teams", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert "service token" in response.json()["error"]


def test_locate_turns_text_into_a_place(client):
    found = client.get("/v1/locate", params={"text": "I live in Jackson Hts"}).json()
    assert found["match"]["neighborhood"] == "Jackson Heights"
    nothing = client.get("/v1/locate", params={"text": "Narnia 90210"}).json()
    assert nothing == {"match": None, "unknown_zip": "90210", "borough": None}


def test_a_volunteer_is_assigned_by_zip_with_the_reason(client, volunteer_id):
    hood = client.get("/v1/locate", params={"text": "11372"}).json()["match"]
    patched = client.patch(f"/v1/volunteers/{volunteer_id}", json={
        "name": "Ana", "neighborhood_id": hood["neighborhood_id"], "zip_code": "11372",
        "availability": ["sat:morning"], "language": "es"})
    assert patched.status_code == 200, patched.text
    assigned = client.post(f"/v1/volunteers/{volunteer_id}/assignment", json={})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["reason"] == "covers 11372"
    volunteer = client.get(f"/v1/volunteers/{volunteer_id}").json()
    assert volunteer["team"]["id"] == hood["team_id"]
    assert (volunteer["language"], volunteer["neighborhood"], volunteer["availability"]) == ("es", "Jackson Heights", ["sat:morning"])
    listed = client.get("/v1/volunteers", params={"team_id": hood["team_id"]}).json()
    assert [v["id"] for v in listed["items"]] == [volunteer_id]


@pytest.mark.parametrize("patch, message", [
    ({"availability": ["someday:later"]}, "availability.0"),
    ({"zip_code": "ABCDE"}, "zip_code"),
    ({"name": ""}, "name"),
    ({"favorite_color": "red"}, "favorite_color"),
    ({"neighborhood_id": 999999}, "neighborhood_id 999999 does not exist"),
    ({"language": "tlh"}, "language 'tlh' is not one of"),
    ({"availability": None}, "availability cannot be null"),
    ({"neighborhood_id": 2**63}, "neighborhood_id"),
])
def test_bad_input_is_a_422_that_says_what_is_wrong_and_writes_nothing(client, volunteer_id, patch, message):
    response = client.patch(f"/v1/volunteers/{volunteer_id}", json={"name": "Kept", **patch} if "name" not in patch else patch)
    assert response.status_code == 422
    assert message in response.json()["error"]
    with session_scope() as session:
        assert session.get(Volunteer, volunteer_id).name is None  # nothing written half-way


def test_unknown_ids_are_404(client):
    assert client.get("/v1/volunteers/999999").status_code == 404
    assert client.get(f"/v1/volunteers/{2**63}").status_code == 422  # no id that large: a 422, not a database error
    assert client.get("/v1/teams/999999").json() == {"error": "team 999999 does not exist"}


def test_assigning_a_volunteer_without_a_place_says_why(client, volunteer_id):
    response = client.post(f"/v1/volunteers/{volunteer_id}/assignment", json={})
    assert response.status_code == 409
    assert "no known neighborhood or ZIP" in response.json()["error"]


def test_an_organizer_can_override_the_team(client, volunteer_id):
    teams = client.get("/v1/teams").json()
    response = client.post(f"/v1/volunteers/{volunteer_id}/assignment", json={"team_id": teams[-1]["id"], "reason": "lives with a lead"})
    assert response.json()["code"] == "override"
    assert client.get(f"/v1/volunteers/{volunteer_id}").json()["assignment_reason"] == "lives with a lead"


def test_shift_offers_and_booking(client, volunteer_id):
    with session_scope() as session:
        hood = session.scalars(select(Neighborhood).where(Neighborhood.name == "Astoria")).one()
    client.patch(f"/v1/volunteers/{volunteer_id}", json={"neighborhood_id": hood.id, "availability": [
        f"{d}:{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("morning", "afternoon", "evening")]})
    client.post(f"/v1/volunteers/{volunteer_id}/assignment", json={})
    offers = client.get(f"/v1/volunteers/{volunteer_id}/shift-offers").json()
    assert len(offers) == 3
    booked = client.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": offers[0]["id"]})
    assert booked.status_code == 201 and booked.json()["status"] == "booked"
    assert client.get(f"/v1/volunteers/{volunteer_id}").json()["stage"] == "booked"
    assert offers[0]["id"] not in [s["id"] for s in client.get(f"/v1/volunteers/{volunteer_id}/shift-offers").json()]
    assert client.post(f"/v1/volunteers/{volunteer_id}/bookings", json={"shift_id": 999999}).status_code == 404
    cancelled = client.post(f"/v1/volunteers/{volunteer_id}/bookings/cancel-next").json()
    assert cancelled["status"] == "cancelled"
    assert client.post(f"/v1/volunteers/{volunteer_id}/bookings/cancel-next").json() is None


def test_a_zip_in_eastern_arabic_digits_is_assigned_to_the_team_that_covers_it(client, volunteer_id):
    hood = client.get("/v1/locate", params={"text": "الرمز البريدي ١١٣٧٢"}).json()["match"]
    assert (hood["neighborhood"], hood["zip_code"]) == ("Jackson Heights", "11372")
    client.patch(f"/v1/volunteers/{volunteer_id}", json={"neighborhood_id": hood["neighborhood_id"],
                                                          "zip_code": hood["zip_code"]}).raise_for_status()
    assigned = client.post(f"/v1/volunteers/{volunteer_id}/assignment", json={})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["team"]["id"] == hood["team_id"]
    assert assigned.json()["reason"] == "covers 11372"


def test_a_borough_alone_comes_back_with_its_neighborhoods_a_page_at_a_time(client):
    first = client.get("/v1/locate", params={"text": "ব্রুকলিনে"}).json()
    assert first["match"] is None and first["borough"]["name"] == "Brooklyn"
    pages = first["borough"]["pages"]
    shown = []
    for page in range(pages):
        borough = client.get("/v1/locate", params={"text": "ব্রুকলিনে", "page": page}).json()["borough"]
        assert borough["page"] == page and 0 < len(borough["neighborhoods"]) <= 9  # a WhatsApp list keeps a row
        shown += [h["name"] for h in borough["neighborhoods"]]
    with session_scope() as session:
        from campaign.models import Team
        brooklyn = sorted(session.scalars(select(Neighborhood.name).join(Team).where(Team.borough == "Brooklyn")))
    assert shown == brooklyn and pages > 1
