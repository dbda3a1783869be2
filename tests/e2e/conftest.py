import pytest

from onramp.settings import ROOT
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not (ROOT / "models/onramp.tar.gz").exists():
        pytest.fail("no trained model at models/onramp.tar.gz: run the tests with `make test`, which trains it")
    stack = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack.up()
    finally:
        stack.down()


@pytest.fixture
def api(stack):
    import httpx

    from onramp.settings import get_settings

    with httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {get_settings().service_token}"}) as client:
        yield client
