"""A stand-in for Rasa's HTTP API (REST channel + tracker), speaking its wire format, for pipeline
tests that need to control timing. The real model is exercised in tests/e2e."""
import asyncio
import json
import random

import httpx


class FakeRasa:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.received: list[tuple[str, str]] = []  # (sender, text) in the order Rasa saw them
        self.events: dict[str, list[dict]] = {}
        self.active_form: str | None = None  # the form Rasa says is asking, if any

    def reply_for(self, text: str) -> list[dict]:
        return [{"custom": {"key": "what"}}, {"custom": {"key": "help", "params": {}}}]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            sender, text = body["sender"], body["message"]
            self.received.append((sender, text))
            if self.delay:
                await asyncio.sleep(random.uniform(0, self.delay))
            replies = self.reply_for(text)
            log = self.events.setdefault(sender, [])
            log.append({"event": "user", "text": text, "metadata": body.get("metadata") or {}})
            log.extend({"event": "bot", "text": None, "data": {"custom": r["custom"]}} for r in replies)
            return httpx.Response(200, json=[{"recipient_id": sender, **r} for r in replies])
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
