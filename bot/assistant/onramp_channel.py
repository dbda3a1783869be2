"""The app's input channel into Rasa: one POST runs one message and answers with everything the
app needs of that turn, so it never reads the tracker back over HTTP.

POST /webhooks/onramp/message  {"sender", "message", "metadata", "check_seen"}
  -> {"replies": [...], "intent": {"name", "confidence"} | null, "seen": bool,
      "events": <how many tracker events the turn holds>, "latest_event_time": <timestamp> | null}

`metadata` (the app's signed stamp with its message_id, bot/stamp.py) goes into the tracker as is.
With `check_seen`, a retry, the tracker is looked up first for a user event carrying the same
message_id: if Rasa already handled it (the app crashed between Rasa's answer and its own
commit), the replies it gave then are returned, with "seen": true, and the message is not run
again.

Rasa's `--jwt-secret` guards its HTTP API but not the blueprints of input channels, so this one
checks the Authorization header itself, with Rasa's own sanic-jwt set up from that same secret:
an admin token, as the app sends (bot/rasa_client.auth_headers). A Rasa started without a JWT
secret refuses every request here (fail closed).

Runs in Rasa's process (Python 3.10, Rasa's venv): Rasa and the standard library only, never the app.
"""
import logging
from collections import Counter
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


async def _authorized(request: Request) -> bool:
    if not request.app.config.get("USE_JWT"):
        return False
    auth = request.app.ctx.auth
    try:
        if not await auth.is_authenticated(request):
            return False
        payload = await auth.extract_payload(request)
    except Exception:  # a malformed header is a refusal, not a server error
        return False
    return (payload.get("user") or {}).get("role") == "admin"


def _turn(tracker: Optional[DialogueStateTracker], message_id: Any) -> Optional[Dict[Text, Any]]:
    """The turn of the user event stamped `message_id`: its parse, the bot's messages after it
    (until the next user message), how many events it holds and the latest one's time. Only the
    turn's own events are turned into dicts (a long conversation holds many more)."""
    if tracker is None:
        return None
    events = list(tracker.events)
    start = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and (event.metadata or {}).get("message_id") == message_id:
            start = index
            break
    if start is None:
        return None
    turn = [events[start].as_dict()]
    for event in events[start + 1:]:
        if isinstance(event, UserUttered):
            break
        turn.append(event.as_dict())
    user = turn[0]
    replies = []
    for event in turn:
        if event.get("event") != "bot":
            continue
        data = event.get("data") or {}
        reply: Dict[Text, Any] = {"text": event["text"]} if event.get("text") else {}
        if data.get("custom"):
            reply["custom"] = data["custom"]
        replies.append(reply)
    intent = (user.get("parse_data") or {}).get("intent") or {}
    return {
        "replies": replies,
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")} if intent.get("name") else None,
        "events": len(turn),
        "latest_event_time": turn[-1].get("timestamp"),
    }


# The tracker Rasa saved at the end of a turn this channel is running, kept by `_observe_saves`
# (only for senders in `_running`: a save from elsewhere, the events API, is not kept). A turn is
# answered from it instead of from the tracker store read back, which parses and validates every
# event of the conversation again: a few ms of Rasa's one process, on every message.
_saved: Dict[Text, DialogueStateTracker] = {}
_running: Counter = Counter()


def _observe_saves(agent: Any) -> None:
    """Wrap the agent's tracker store once so that each tracker it saves is kept for its turn's
    answer. The same store object serves the processor (Agent hands it over), so every turn's
    save passes here."""
    store = agent.tracker_store
    if store is None or getattr(store, "_onramp_observed", False):
        return
    save = store.save

    async def observed(tracker: DialogueStateTracker, *args: Any, **kwargs: Any) -> None:
        await save(tracker, *args, **kwargs)
        if _running[tracker.sender_id]:
            _saved[tracker.sender_id] = tracker

    store.save = observed
    store._onramp_observed = True


class OnrampInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "onramp"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel = Blueprint("onramp_webhook", __name__)

        @channel.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @channel.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not await _authorized(request):
                return response.json({"error": "NotAuthenticated"}, status=401)
            body = request.json or {}
            sender, text = body.get("sender"), body.get("message")
            metadata = body.get("metadata") or {}
            if not sender or text is None:
                return response.json({"error": "sender and message are required"}, status=400)
            agent = request.app.ctx.agent
            message_id = metadata.get("message_id")
            if body.get("check_seen") and message_id is not None:
                async with agent.lock_store.lock(sender):
                    tracker = await agent.tracker_store.retrieve_full_tracker(sender)
                seen = _turn(tracker, message_id)
                if seen is not None:
                    return response.json({**seen, "seen": True})
            _observe_saves(agent)
            collector = CollectingOutputChannel()
            _running[sender] += 1
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:
                # unlike Rasa's REST channel (which answers what it has, often nothing), say the
                # turn failed: the app keeps the message and asks again (with check_seen)
                logger.exception("onramp channel: the message of %s failed", sender)
                return response.json({"error": "the message could not be handled"}, status=500)
            finally:
                _running[sender] -= 1
                if _running[sender]:  # another turn of this sender still runs: it takes the tracker
                    saved = _saved.get(sender)
                else:
                    del _running[sender]
                    saved = _saved.pop(sender, None)
            # the tracker just saved holds this turn (or a later one of the same sender, which
            # holds it too: the turn is found by its message_id); else it is read back
            done = _turn(saved, message_id) or _turn(await agent.tracker_store.retrieve(sender), message_id) or {}
            return response.json({
                "replies": collector.messages,
                "intent": done.get("intent"),
                "events": done.get("events", 0),
                "latest_event_time": done.get("latest_event_time"),
                "seen": False,
            })

        return channel
