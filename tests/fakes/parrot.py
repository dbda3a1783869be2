"""A fake of Parrot, the made-up provider of the example adapter (tests/channels/example_adapter.py):
POST /v1/messages {"to", "text"} with a bearer token; {"id"} or {"error": {"code", "message"}}."""
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.base import Recorder, Running, control_routes, maybe_slow

ERRORS = {"4001": (400, "unsubscribed"), "4004": (400, "number gone"), "4290": (429, "slow down"), "500": (500, "oops")}


def create_app(recorder: Recorder | None = None) -> FastAPI:
    recorder = recorder or Recorder()
    app = FastAPI()
    control_routes(app, recorder)

    @app.post("/v1/messages")
    async def send(request: Request):
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"error": {"code": 4010, "message": "who are you"}}, status_code=401)
        body, mode = await request.json(), recorder.next_mode()
        await maybe_slow(mode, recorder)
        if mode in ERRORS:
            status, message = ERRORS[mode]
            return JSONResponse({"error": {"code": int(mode), "message": message}}, status_code=status)
        recorder.accepted({"id": "pm_" + uuid.uuid4().hex, **body}, body.get("to"))
        return JSONResponse({"id": recorder.sent[-1]["id"]}, status_code=201)

    return app


def running() -> Running:
    return Running.fake(create_app)
