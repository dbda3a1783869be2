"""Request dependencies: a database session per request, and the service-token check."""
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy.orm import Session

from campaign.db import session_scope
from onramp.settings import get_settings


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with session_scope() as session:
        yield session


def require_service_token(authorization: Annotated[str | None, Header()] = None) -> None:
    expected = f"Bearer {get_settings().service_token}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(401, "send the service token as 'Authorization: Bearer <SERVICE_TOKEN>'")


# scope="function": the transaction commits when the route returns, before the response is sent,
# so whoever got the answer (the action server, say) reads what was written.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
