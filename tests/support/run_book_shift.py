"""Run the assistant's action_book_shift in Rasa's Python (the action server's), against a
stand-in for the API on a free port that refuses the booking with 409 and the given body, as the
API does for a cancelled or started shift; prints {"keys": [...said...], "calls": [...]}.

    .venv-rasa/bin/python tests/support/run_book_shift.py  < {"shift_id", "metadata", "refusal", "offers"}
"""
import asyncio
import json
import os
import socket
import sys

from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(job: dict) -> dict:
    calls = []

    async def answer(request: web.Request) -> web.Response:
        calls.append(f"{request.method} {request.path}")
        if request.method == "POST" and request.path.endswith("/bookings"):
            return web.json_response(job["refusal"], status=409)
        if request.path.endswith("/shift-offers"):
            return web.json_response(job["offers"])
        if request.path.endswith("/shift-alternatives"):
            return web.json_response([])
        return web.json_response({})

    port = _free_port()
    os.environ["ONRAMP_API_URL"] = f"http://127.0.0.1:{port}"  # read when the actions are imported, below
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    from actions.shifts import BookShift

    # a plain "yes" to the one shift offered: the slot names it
    tracker = Tracker(sender_id="s", slots={"offered_shift_id": job["shift_id"]}, events=[], paused=False,
                      followup_action=None, active_loop={}, latest_action_name="action_listen",
                      latest_message={"text": "/affirm", "metadata": job["metadata"],
                                      "intent": {"name": "affirm", "confidence": 1.0}, "entities": []})
    dispatcher = CollectingDispatcher()
    await BookShift().run(dispatcher, tracker, {})
    await runner.cleanup()
    return {"keys": [(m.get("custom") or {}).get("key") for m in dispatcher.messages], "calls": calls}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.load(sys.stdin)))))
