"""A stand-in for Rasa's HTTP API (our input channel, bot/assistant/onramp_channel.py, and the
tracker API), speaking their wire formats and checking the JWT the way Rasa does, for pipeline
tests that need to control timing. The real model is exercised in tests/e2e."""
import asyncio
import json
import random

import httpx
import jwt


class FakeRasa:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.received: list[tuple[str, str]] = []  # (sender, text) in the order Rasa saw them
        self.events: dict[str, list[dict]] = {}
        self.active_form: str | None = None  # the form Rasa says is asking, if any

    def reply_for(self, text: str) -> list[dict]:
        return [{"custom": {"key": "what"}}, {"custom": {"key": "help", "params": {}}}]

    def intent_for(self, text: str) -> dict:
        return {"name": "volunteer" if "volunteer" in text else "nlu_fallback", "confidence": 0.91}

    @staticmethod
    def _authorized(request: httpx.Request) -> bool:
        from onramp.settings import get_settings

        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            payload = jwt.decode(token, get_settings().rasa_jwt_secret_value, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            return False
        return scheme == "Bearer" and (payload.get("user") or {}).get("role") == "admin"

    def _turn(self, sender: str, message_id) -> dict | None:
        """The channel's answer for a message it handled before, read from its tracker."""
        log = self.events.get(sender, [])
        starts = [i for i, e in enumerate(log) if e["event"] == "user" and e["metadata"].get("message_id") == message_id]
        if not starts:
            return None
        replies = []
        for event in log[starts[-1] + 1:]:
            if event["event"] == "user":
                break
            if event["event"] == "bot":
                replies.append({"custom": event["data"]["custom"]})
        return {"replies": replies, "intent": log[starts[-1]]["parse_data"]["intent"], "events": 1 + len(replies),
                "latest_event_time": None, "seen": True}

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return httpx.Response(401, json={"error": "NotAuthenticated"})
        if request.method == "POST" and request.url.path == "/webhooks/onramp/message":
            body = json.loads(request.content)
            sender, text, metadata = body["sender"], body["message"], body.get("metadata") or {}
            seen = self._turn(sender, metadata.get("message_id")) if body.get("check_seen") else None
            if seen is not None:
                return httpx.Response(200, json=seen)
            self.received.append((sender, text))
            if self.delay:
                await asyncio.sleep(random.uniform(0, self.delay))
            replies = self.reply_for(text)
            intent = self.intent_for(text)
            log = self.events.setdefault(sender, [])
            log.append({"event": "user", "text": text, "metadata": metadata, "parse_data": {"intent": intent}})
            log.extend({"event": "bot", "text": None, "data": {"custom": r["custom"]}} for r in replies)
            return httpx.Response(200, json={"replies": [{"recipient_id": sender, **r} for r in replies], "intent": intent,
                                             "events": 1 + len(replies), "latest_event_time": None, "seen": False})
        if request.method == "POST" and request.url.path.endswith("/tracker/events"):
            sender = request.url.path.split("/")[2]
            self.events.setdefault(sender, []).extend(json.loads(request.content))
            return httpx.Response(200, json={"sender_id": sender})
        if request.method == "GET" and request.url.path.startswith("/conversations/"):
            sender = request.url.path.split("/")[2]
            return httpx.Response(200, json={"sender_id": sender, "events": self.events.get(sender, []),
                                             "active_loop": {"name": self.active_form} if self.active_form else {}})
        return httpx.Response(404, json={"error": "not found"})

    def client(self):
        from bot.rasa_client import RasaClient
        from onramp.settings import get_settings

        transport = httpx.MockTransport(self.handler)
        return RasaClient(get_settings(), httpx.AsyncClient(transport=transport, base_url="http://rasa"))
