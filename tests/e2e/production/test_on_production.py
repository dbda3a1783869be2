"""The end-to-end sign-up, restart and burst tests, on the production profile's stack (the
`stack` and `fakes` fixtures of this package), plus what only this profile has. The sign-ups
run in fewer variants than on the embedded stack, to keep `make test` short."""
import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.e2e import test_channels as channels
from tests.e2e import test_signup as signup
from tests.e2e.test_restart import (  # noqa: F401  (collected here again, on this package's stack)
    test_kill_9_during_a_burst_of_200_sms_loses_nothing_and_answers_each_once,
    test_killing_the_api_loses_nothing_and_answers_nothing_twice,
)
from tests.support.chat import Chat


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_full_sign_up_in_the_supporters_language(stack, api, language):
    signup.test_a_full_sign_up_in_the_supporters_language(stack, api, language)


@pytest.mark.parametrize("channel, language", [("sms", "en"), ("whatsapp_cloud", "es")])
def test_a_full_sign_up_over_each_channel(stack, fakes, api, channel, language):
    channels.test_a_full_sign_up_over_each_channel(stack, fakes, api, channel, language)


def test_production_runs_several_of_each_process_with_conversations_in_postgresql_and_redis_up(stack):
    chat = Chat(stack.api_url, stack.db_url)
    assert chat.keys(chat.say("hi I want to volunteer"), "en") == ["welcome", "ask_name"]
    assert len(stack.pids("worker")) == 2
    api = stack.processes("api")
    workers = [child for child in api[0].children() if any("spawn_main" in part for part in child.cmdline())]
    assert len(api) == 1 and len(workers) == 2  # uvicorn's two worker processes
    health = httpx.get(f"{stack.api_url}/healthz", timeout=5).json()
    assert health == {"ok": True, "database": "ok", "rasa": "ok", "redis": "ok"}
    metrics = httpx.get(f"{stack.api_url}/metrics", timeout=5).text
    assert "onramp_redis_up 1.0" in metrics and "onramp_rasa_up 1.0" in metrics
    with create_engine(stack.db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events WHERE type_name = 'user'")).scalar() > 0
