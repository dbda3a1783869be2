"""Settings reach code one way: the edges (routes through a FastAPI dependency, the worker, the
pipeline, the CLI) read them and pass them in; the domain never looks them up itself. The action
server, which cannot import the app, reads its few variables in one small object."""
import io
import tokenize
from pathlib import Path

from actions.settings import DEFAULT_SERVICE_TOKEN as ACTIONS_DEFAULT_TOKEN
from actions.settings import Settings as ActionSettings
from onramp.settings import DEFAULT_SERVICE_TOKEN, ROOT

# Alembic's env.py is a process of its own (alembic upgrade): an edge.
EDGES = {"campaign/migrations/env.py"}
READS_THE_ENVIRONMENT = {"environ", "getenv"}


def names_in(path: Path) -> list[tuple[int, str]]:
    """The names the code uses (comments and strings are not read)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(token.start[0], token.string) for token in tokens if token.type == tokenize.NAME]


def test_no_code_in_the_domain_looks_the_settings_up_itself():
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "campaign").rglob("*.py"))
             if str(path.relative_to(ROOT)) not in EDGES
             for line, name in names_in(path) if name == "get_settings"]
    assert found == []


def test_the_action_server_reads_the_environment_in_its_settings_module_only():
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for path in sorted((ROOT / "actions").glob("*.py"))
             if path.name != "settings.py"
             for line, name in names_in(path) if name in READS_THE_ENVIRONMENT]
    assert found == []


def test_the_action_server_calls_the_api_that_onramp_run_tells_it_of_with_the_apps_token(monkeypatch):
    from onramp.cli.run import rasa_environment
    from onramp.settings import get_settings

    monkeypatch.setenv("API_PORT", "8123")
    monkeypatch.setenv("SERVICE_TOKEN", "a-long-enough-service-token-for-this-test")
    get_settings.cache_clear()
    try:
        read = ActionSettings.from_environ(rasa_environment())
    finally:
        get_settings.cache_clear()
    assert (read.api_url, read.token) == ("http://127.0.0.1:8123", "a-long-enough-service-token-for-this-test")


def test_the_action_server_without_its_variables_talks_to_a_local_api_with_the_apps_default_token():
    read = ActionSettings.from_environ({})
    assert (read.api_url, read.token, read.timeout, read.retry_seconds) == ("http://127.0.0.1:8000", DEFAULT_SERVICE_TOKEN, 10.0, 30.0)
    assert ACTIONS_DEFAULT_TOKEN == DEFAULT_SERVICE_TOKEN


def test_a_trailing_slash_on_the_api_url_does_not_double_the_slash_of_each_path():
    read = ActionSettings.from_environ({"ONRAMP_API_URL": "http://api.internal:9000/", "ONRAMP_API_TIMEOUT": "2.5"})
    assert (read.api_url, read.timeout) == ("http://api.internal:9000", 2.5)
