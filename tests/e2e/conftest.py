import pytest

from onramp.settings import ROOT
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def fakes():
    """The providers' fakes, one of each for the session, in this process."""
    from tests.fakes import graph, telegram, twilio

    with twilio.running() as tw, telegram.running() as tg, graph.running() as gr:
        yield {"twilio": tw, "telegram": tg, "graph": gr}


@pytest.fixture(scope="session")
def stack(tmp_path_factory, fakes):
    from tests.support.channel_chat import SECRETS

    if not (ROOT / "models/onramp.tar.gz").exists():
        pytest.fail("no trained model at models/onramp.tar.gz: run the tests with `make test`, which trains it")
    stack = Stack(tmp_path_factory.mktemp("stack"))
    stack.env.update(SECRETS)
    # every test supporter writes from 127.0.0.1: the per-address web chat limit is for the public
    stack.env.update({"WEBCHAT_MESSAGE_RATE": "100000/minute", "WEBCHAT_SESSION_RATE": "100000/minute"})
    stack.env.update({"TWILIO_API_BASE": fakes["twilio"].url, "TELEGRAM_API_BASE": fakes["telegram"].url,
                      "GRAPH_API_BASE": fakes["graph"].url})
    # reminders made due at once (tests/e2e/test_reminders.py) go at whatever hour the suite runs
    stack.env.update({"SEND_WINDOW_START": "00:00", "SEND_WINDOW_END": "23:59:59"})
    # a send interrupted by kill -9 is settled after this (more than a provider call can take)
    stack.env.update({"OUTBOX_VISIBILITY_TIMEOUT_SECONDS": "30"})
    try:
        stack.up()
        # many supporters of the session book the same demo shifts (the first Saturday in
        # Jackson Heights): room for all of them, so each sign-up ends booked, not waitlisted
        import sqlalchemy as sa

        engine = sa.create_engine(stack.db_url)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE shifts SET capacity = 1000"))
        engine.dispose()
        yield stack
    finally:
        stack.down()


@pytest.fixture
def api(stack):
    import httpx

    with httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.env['SERVICE_TOKEN']}"}) as client:
        yield client
