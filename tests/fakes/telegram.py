"""A fake of the Telegram Bot API (https://core.telegram.org/bots/api), speaking its wire format:
POST /bot<token>/<method> with form or JSON parameters, answers {"ok": ..., "result": ...}.

    python -m tests.fakes.telegram --port 8102
"""
import json
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.base import Recorder, Running, control_routes, maybe_slow, serve_from_command_line

ERRORS = {
    "403": (403, "Forbidden: bot was blocked by the user", None),
    "429": (429, "Too Many Requests: retry after 1", {"retry_after": 1}),
    "400": (400, "Bad Request: chat not found", None),
    "500": (500, "Internal Server Error", None),
}


def create_app(recorder: Recorder | None = None) -> FastAPI:
    recorder = recorder or Recorder()
    app = FastAPI()
    app.state.recorder = recorder
    app.state.webhook = {}
    control_routes(app, recorder)

    @app.post("/bot{token}/{method}")
    async def call(token: str, method: str, request: Request):
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            params = {k: v for k, v in (await request.form()).items()}
        for key in ("reply_markup", "allowed_updates"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if method == "getMe":
            return {"ok": True, "result": {"id": 4242, "is_bot": True, "first_name": "Onramp", "username": "onramp_test_bot",
                                           "can_join_groups": False, "can_read_all_group_messages": False,
                                           "supports_inline_queries": False}}
        if method == "setWebhook":
            app.state.webhook = params
            return {"ok": True, "result": True, "description": "Webhook was set"}
        if method != "sendMessage":
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)
        mode = recorder.next_mode()
        await maybe_slow(mode, recorder)
        if mode in ERRORS:
            status, description, parameters = ERRORS[mode]
            body = {"ok": False, "error_code": status, "description": description}
            if parameters:
                body["parameters"] = parameters
            return JSONResponse(body, status_code=status)
        message_id = len(recorder.sent) + 1
        recorder.accepted({"message_id": message_id, **params}, str(params.get("chat_id")))
        return {"ok": True, "result": {"message_id": message_id, "date": int(time.time()),
                                       "chat": {"id": int(params["chat_id"]), "type": "private"},
                                       "from": {"id": 4242, "is_bot": True, "first_name": "Onramp"},
                                       "text": params.get("text", "")}}

    return app


def running() -> Running:
    return Running.fake(create_app)


if __name__ == "__main__":
    serve_from_command_line(create_app(), "the Telegram Bot API")
