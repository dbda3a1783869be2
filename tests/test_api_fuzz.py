"""The REST API fuzzed from its own OpenAPI schema: whatever arrives, no 500, and every error is
the JSON error shape ({"error": ...})."""
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from onramp.settings import get_settings


def _app():
    from api.main import create_app

    return create_app(run_pipeline=False)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


def errors_are_json(ctx, response, case) -> None:
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body


@pytest.fixture
def fuzz_db(db_url, monkeypatch):
    """The demo campaign on SQLite only: the schema is the same on both databases and fuzzing
    each twice would double the time for nothing."""
    if not db_url.startswith("sqlite"):
        pytest.skip("fuzzed on SQLite only")
    from tests.support import databases

    monkeypatch.setenv("DATABASE_URL", db_url)
    databases.reset_caches()
    from campaign.db import session_scope
    from campaign.demo import load
    from campaign.migrate import upgrade

    upgrade(db_url)
    with session_scope() as session:
        load.load(session)
    yield
    databases.reset_caches()


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail_with_a_500(case, fuzz_db):
    case.call_and_validate(headers={"Authorization": f"Bearer {get_settings().service_token}"},
                           checks=[not_a_server_error], additional_checks=[errors_are_json])
