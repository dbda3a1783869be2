"""A fake of Meta's Graph API for WhatsApp Cloud messages, speaking its wire format:
POST /<version>/<phone-number-id>/messages with a bearer token, JSON in and out, errors as
{"error": {"message", "type", "code", "fbtrace_id"}}.

    python -m tests.fakes.graph --port 8103
"""
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.base import Recorder, Running, control_routes, maybe_slow, serve_from_command_line

ERRORS = {
    "429": (429, 130429, "Rate limit hit"),
    "500": (500, 131000, "Something went wrong"),
    "131047": (400, 131047, "Re-engagement message"),
    "400": (400, 100, "Invalid parameter"),
}


def create_app(recorder: Recorder | None = None) -> FastAPI:
    recorder = recorder or Recorder()
    app = FastAPI()
    app.state.recorder = recorder
    control_routes(app, recorder)

    @app.post("/{version}/{phone_number_id}/messages")
    async def send(version: str, phone_number_id: str, request: Request):
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190,
                                           "fbtrace_id": "A1"}}, status_code=401)
        body = await request.json()
        mode = recorder.next_mode()
        await maybe_slow(mode, recorder)
        if mode in ERRORS:
            status, code, message = ERRORS[mode]
            return JSONResponse({"error": {"message": f"({code}) {message}", "type": "OAuthException", "code": code,
                                           "error_data": {"messaging_product": "whatsapp", "details": message},
                                           "fbtrace_id": "AbCdEf"}}, status_code=status)
        wamid = "wamid." + uuid.uuid4().hex.upper()
        recorder.accepted({"id": wamid, "phone_number_id": phone_number_id, **body}, body.get("to"))
        return {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": wamid}]}

    return app


def running() -> Running:
    return Running.fake(create_app)


if __name__ == "__main__":
    serve_from_command_line(create_app(), "the WhatsApp Cloud API (Graph)")
