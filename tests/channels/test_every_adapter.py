"""What every adapter must do, checked once over all of them: a bad or missing signature is a
403 and writes nothing, a request it cannot read is a 4xx and writes nothing, and the same
request fifty times at once is stored once. Each adapter's test module says how its provider
posts and signs (its `PROVIDER`, a tests/channels/harness.Provider)."""
import importlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.channels.harness import nothing_written, post, run_in, stored


def _providers():
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("test_*.py"))
    modules = [importlib.import_module(f"tests.channels.{name}") for name in names if (here / f"{name}.py").exists()]
    found = [module.PROVIDER for module in modules if hasattr(module, "PROVIDER")]
    return list({id(provider): provider for provider in found}.values())  # a module may import another's


PROVIDERS = _providers()
FORGED = [pytest.param(provider, label, id=f"{provider.name}-{label}") for provider in PROVIDERS for label in provider.forged]
MALFORMED = [pytest.param(provider, case, id=f"{provider.name}-{case}") for provider in PROVIDERS for case in provider.malformed]


@pytest.mark.parametrize("provider, label", FORGED)
def test_a_bad_or_missing_signature_is_403_and_writes_nothing(client, provider, label):
    payload = provider.valid(0)
    response = post(client, provider, payload, headers=provider.forged[label](provider.path, payload))
    assert response.status_code == 403
    assert nothing_written()


@pytest.mark.parametrize("provider, case", MALFORMED)
def test_a_request_the_adapter_cannot_read_is_a_4xx_and_writes_nothing(client, provider, case):
    assert 400 <= case.status < 500
    run_in(client, provider, case)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_the_same_request_fifty_times_at_once_is_stored_once(client, provider):
    payload = provider.valid(0)
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: post(client, provider, payload).status_code, range(50)))
    assert set(codes) == {200}
    assert len(stored()) == 1


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_distinct_requests_are_each_stored(client, provider):
    """The other half of deduplication: what looks alike but is not the same is not dropped."""
    for n in range(3):
        assert post(client, provider, provider.valid(n)).status_code == 200
    assert len(stored()) == 3


@pytest.fixture
def unconfigured_client(db, monkeypatch):
    """A campaign with no provider's credentials set: only the web chat is on."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.channels.harness import ENV
    from tests.support import databases

    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    databases.reset_caches()
    with TestClient(create_app(run_pipeline=False)) as client:
        yield client


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p.name in ("twilio", "telegram", "whatsapp_cloud")],
                         ids=lambda p: p.name)
def test_a_provider_that_is_not_configured_refuses_even_a_well_signed_request_and_writes_nothing(unconfigured_client,
                                                                                                 provider):
    response = post(unconfigured_client, provider, provider.valid(0))
    assert response.status_code == 403 and "not configured" in response.json()["error"]
    assert nothing_written()
