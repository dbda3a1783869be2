"""A fake of Twilio's Messages API (2010-04-01), speaking its wire format: form-encoded requests
with HTTP basic auth, JSON answers and errors with Twilio's codes.

    python -m tests.fakes.twilio --port 8101
"""
import base64
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.base import Recorder, Running, control_routes, maybe_slow, serve_from_command_line

ERRORS = {
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "21211": (400, "The 'To' number is not a valid phone number."),
    "429": (429, "Too Many Requests"),
    "500": (500, "Internal Server Error"),
    "503": (503, "Service Unavailable"),
}


def create_app(recorder: Recorder | None = None) -> FastAPI:
    recorder = recorder or Recorder()
    app = FastAPI()
    app.state.recorder = recorder
    control_routes(app, recorder)

    @app.post("/2010-04-01/Accounts/{account}/Messages.json")
    async def create_message(account: str, request: Request):
        auth = request.headers.get("authorization", "")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth.startswith("Basic ") else ""
        if user != account:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        form = dict(await request.form())
        recorder.arrived(form)
        try:
            mode = recorder.next_mode(form.get("To"))
            await maybe_slow(mode, recorder)
            if mode in ERRORS:
                status, message = ERRORS[mode]
                code = int(mode) if len(mode) == 5 else (20429 if status == 429 else 20500)
                headers = {"Retry-After": "1"} if status == 429 else {}
                return JSONResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                     "status": status}, status_code=status, headers=headers)
            sid = "SM" + uuid.uuid4().hex
            recorder.accepted({"sid": sid, **form}, form.get("To"))
            return JSONResponse(status_code=201, content={
                "sid": sid, "account_sid": account, "to": form.get("To"), "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"), "status": "queued",
                "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01", "price": None,
                "error_code": None, "error_message": None, "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
                "date_created": "Tue, 24 Nov 2026 00:00:00 +0000", "date_updated": "Tue, 24 Nov 2026 00:00:00 +0000",
                "date_sent": None, "num_media": "0", "price_unit": "USD", "subresource_uris": {},
            })
        finally:
            recorder.answered()

    return app


def running() -> Running:
    return Running.fake(create_app)


if __name__ == "__main__":
    serve_from_command_line(create_app(), "Twilio")
