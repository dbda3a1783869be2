"""The stamp on each message's metadata: an HMAC, under SERVICE_TOKEN, of its canonical JSON.

The action server acts only on a stamped message, and passes the stamp on with its /v1 writes;
the API accepts those writes only for a message of that volunteer that is being processed now.
A POST to the action server naming someone else's volunteer id, or replaying an old stamp,
changes nothing. actions/api.py computes the same canonical form (it cannot import the app).
"""
import hashlib
import hmac
import json

FIELD = "stamp"
HEADER = "X-Onramp-Stamp"


def canonical(metadata: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes on both sides whatever the JSON library."""
    unsigned = {key: value for key, value in metadata.items() if key != FIELD}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(metadata: dict, key: str) -> dict:
    """The metadata with its stamp."""
    mac = hmac.new(key.encode("utf-8"), canonical(metadata), hashlib.sha256).hexdigest()
    return {**metadata, FIELD: mac}


def valid(metadata: dict, key: str) -> bool:
    given = metadata.get(FIELD)
    if not isinstance(given, str):
        return False
    expected = hmac.new(key.encode("utf-8"), canonical(metadata), hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, expected)
