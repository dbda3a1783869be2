"""Open offers: the choices a contact was shown, so that an answer is read against them.

Whoever offers (the bot's reply, a reminder from the worker, an organizer) records the choices
when the message is sent. A payload is accepted only when an open offer of that contact holds
it; anything else is text. Typed answers ("2", "the first one", "no puedo") are resolved
against the latest offer, never against the words alone.
"""
import json
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.models import OpenOffer, utcnow

# How long an answer to an offer is still read against it.
DEFAULT_TTL = timedelta(days=7)


class OfferStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"  # the person answered it
    SUPERSEDED = "superseded"  # a newer offer from the same source replaced it
    CLOSED = "closed"  # what it offered is gone (a cancelled shift)


# A choice's mark when what it offered is gone: it stays in its place (so "2" still names the
# second choice shown, and the assistant says that shift is no longer open) but a tap on it is
# not an answer any more.
WITHDRAWN = "withdrawn"


def record(session: Session, *, identity_id: int, volunteer_id: int | None, choices: list[dict], source: str,
           subject_kind: str | None = None, subject_id: int | None = None, outbox_id: int | None = None,
           expires_at: datetime | None = None) -> OpenOffer | None:
    """Record what was shown; a newer offer from the same source supersedes the older open one
    (a reminder's choices stay open while the bot asks something else). None without choices."""
    choices = [{"payload": c["payload"], "title": c.get("title", "")} for c in choices if c.get("payload")]
    if not choices:
        return None
    session.execute(
        update(OpenOffer)
        .where(OpenOffer.identity_id == identity_id, OpenOffer.source == source, OpenOffer.status == OfferStatus.OPEN)
        .values(status=OfferStatus.SUPERSEDED)
    )
    offer = OpenOffer(identity_id=identity_id, volunteer_id=volunteer_id, source=source, subject_kind=subject_kind,
                      subject_id=subject_id, outbox_id=outbox_id, choices=choices, status=OfferStatus.OPEN,
                      created_at=utcnow(), expires_at=expires_at or utcnow() + DEFAULT_TTL)
    session.add(offer)
    session.flush()
    return offer


def _open(identity_id: int):
    return (select(OpenOffer)
            .where(OpenOffer.identity_id == identity_id, OpenOffer.status == OfferStatus.OPEN,
                   OpenOffer.expires_at > utcnow())
            .order_by(OpenOffer.id.desc()))


def latest(session: Session, identity_id: int) -> OpenOffer | None:
    """The newest open offer of this contact: what "2" or "yes" answers."""
    return session.scalars(_open(identity_id).limit(1)).first()


def match_payload(session: Session, identity_id: int, payload: str) -> tuple[OpenOffer, dict] | None:
    """The open offer and the choice that carry exactly this payload; None when it was never offered
    (or was withdrawn)."""
    for offer in session.scalars(_open(identity_id).limit(20)):
        for choice in offer.choices or []:
            if choice.get("payload") == payload and not choice.get(WITHDRAWN):
                return offer, choice
    return None


def take(offer: OpenOffer) -> None:
    offer.status = OfferStatus.TAKEN


def shift_of(choice: dict) -> int | None:
    """The shift a choice books (`/affirm{"shift_id": 7}`), if any."""
    payload = choice.get("payload") or ""
    if "{" not in payload:
        return None
    try:
        entities = json.loads(payload[payload.index("{"):])
    except ValueError:
        return None
    shift_id = entities.get("shift_id") if isinstance(entities, dict) else None
    return shift_id if isinstance(shift_id, int) else None


def offered_shift_ids(session: Session, volunteer_id: int) -> set[int]:
    """Every shift named in an offer this person was shown (open or answered, not expired)."""
    ids: set[int] = set()
    offers = session.scalars(select(OpenOffer).where(OpenOffer.volunteer_id == volunteer_id,
                                                     OpenOffer.expires_at > utcnow()))
    for offer in offers:
        if offer.subject_kind == "shift" and offer.subject_id is not None:
            ids.add(offer.subject_id)
        ids.update(shift_id for choice in offer.choices or [] if (shift_id := shift_of(choice)) is not None)
    return ids


def withdraw_shift(session: Session, shift_id: int) -> int:
    """A cancelled shift leaves every open offer, in the caller's transaction: an offer about it
    alone is closed; in an offer of several, its choice is withdrawn and the others still stand.
    Returns how many offers changed."""
    changed = 0
    for offer in session.scalars(select(OpenOffer).where(OpenOffer.status == OfferStatus.OPEN,
                                                         OpenOffer.expires_at > utcnow())):
        choices = [{**c, WITHDRAWN: True} if shift_of(c) == shift_id else c for c in offer.choices or []]
        about_it = offer.subject_kind == "shift" and offer.subject_id == shift_id
        if choices == offer.choices and not about_it:
            continue
        offer.choices = choices  # a new list, so that the JSON column is written
        if about_it or all(c.get(WITHDRAWN) for c in choices):
            offer.status = OfferStatus.CLOSED
        changed += 1
    session.flush()
    return changed
