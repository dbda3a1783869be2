"""Run one of the onboarding form's extractors in Rasa's Python (the action server's), against a
recording stand-in for the API given by ONRAMP_API_URL; prints {"slots": ..., "calls": [...]}.

    .venv-rasa/bin/python tests/support/run_extractor.py  < {"extractor", "text", "metadata", "slots", "intent"}
"""
import asyncio
import json
import sys

from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


async def main(job: dict) -> dict:
    calls = []

    async def answer(request: web.Request) -> web.Response:
        calls.append(f"{request.method} {request.path}")
        if request.path == "/v1/locate":
            return web.json_response({"match": None, "unknown_zip": None})
        if request.path == "/v1/availability/parse":
            return web.json_response({"slots": []})
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(job["port"])).start()
    from actions.onboarding import ValidateOnboardingForm
    tracker = Tracker(sender_id="s", slots=job.get("slots", {}), events=[], paused=False, followup_action=None,
                      active_loop={"name": "onboarding_form"}, latest_action_name="action_listen",
                      latest_message={"text": job["text"], "metadata": job["metadata"],
                                      "intent": {"name": job.get("intent", "inform"), "confidence": 0.9}, "entities": []})
    extractor = getattr(ValidateOnboardingForm(), job["extractor"])
    slots = await extractor(CollectingDispatcher(), tracker, {})
    await runner.cleanup()
    return {"slots": slots, "calls": calls}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.load(sys.stdin)))))
