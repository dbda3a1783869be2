"""What the pipeline reads in a message's text before Rasa sees it: the place it names, or a ZIP
code no team covers, and the weekly times it names.

The reading travels in the message's stamped metadata (`FIELD`), so the form's actions
(actions/onboarding.py) take it from the tracker instead of asking /v1/locate and
/v1/availability/parse about the same text again, two or three HTTP calls on every answer. The
stamp (bot/stamp.py) covers it: an action trusts only a reading the app signed. The numbers are
those of the endpoints: the same functions, on the same text (stripped, as Rasa keeps it, and cut
at the endpoints' 2,000 characters).
"""
from dataclasses import asdict

from sqlalchemy.orm import Session

from campaign import availability, turf

FIELD = "read"
MAX_TEXT = 2000


def read(session: Session, text: str, locate=None) -> dict:
    """{"match": the place (as /v1/locate's) or None, "unknown_zip": str or None, "slots": [...]};
    {} for a button payload or an empty text (the form reads neither). `locate`: turf.locate
    bound to this session, when the caller has located texts already (the pipeline has)."""
    text = text.strip()[:MAX_TEXT]
    if not text or text.startswith("/"):
        return {}
    place = locate(text) if locate is not None else turf.locate(session, text)
    return {
        "match": None if place is None else asdict(place),  # /v1/locate's PlaceOut holds the same fields
        "unknown_zip": None if place is not None else turf.unknown_zip(text),
        "slots": availability.parse(text),
    }
