"""Request dependencies: the settings, a database session per request, and the service-token check."""
import base64
import json
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy.orm import Session

from api.schemas import PathId
from bot import stamp
from campaign import inbox
from campaign.db import session_scope
from campaign.models import Message
from onramp.settings import Settings, get_settings

# Routes take the settings as a dependency and hand them (or what they need of them) to the domain.
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with session_scope() as session:
        yield session


def require_service_token(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = f"Bearer {settings.service_token}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(401, "send the service token as 'Authorization: Bearer <SERVICE_TOKEN>'")


# scope="function": the transaction commits when the route returns, before the response is sent,
# so whoever got the answer (the action server, say) reads what was written.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def check_stamp(volunteer_id: PathId, session: SessionDep, settings: SettingsDep,
                x_onramp_stamp: Annotated[str | None, Header(include_in_schema=False)] = None) -> None:
    """A write the action server makes for a volunteer carries the stamp of the message it is
    handling: it must be genuine, name this volunteer, and be for a message being processed now
    (received, handed to Rasa, not finished), so an old stamp cannot be replayed. Calls without
    a stamp come from operators holding the service token."""
    if x_onramp_stamp is None:
        return
    try:
        metadata = json.loads(base64.urlsafe_b64decode(x_onramp_stamp.encode("ascii")))
    except (ValueError, UnicodeError) as error:
        raise HTTPException(403, "the X-Onramp-Stamp header is not a stamped message") from error
    if not isinstance(metadata, dict) or not stamp.valid(metadata, settings.service_token):
        raise HTTPException(403, "the message stamp is not valid")
    if metadata.get("volunteer_id") != volunteer_id:
        raise HTTPException(403, "the stamped message is not from this volunteer")
    message = session.get(Message, metadata.get("message_id")) if isinstance(metadata.get("message_id"), int) else None
    if message is None or message.volunteer_id != volunteer_id or not inbox.being_processed(message):
        raise HTTPException(403, "the stamped message is not being processed now")


StampChecked = Depends(check_stamp)

