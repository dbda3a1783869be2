"""The outbox, for organizers: every planned and sent message, with filters, and cancelling one."""
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from api.deps import SessionDep
from api.routes.volunteers import scheduled_out
from api.schemas import Moment, PathId, QueryId, ScheduledOut
from campaign import outbox
from campaign.models import OutboxRow, Volunteer
from campaign.outbox_status import OutboxStatus
from campaign.schedule import cadence_from
from onramp.settings import get_settings

router = APIRouter(prefix="/v1/outbox", tags=["outbox"])


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(422, f"{name}: give a time zone, e.g. 2026-12-01T09:00:00-05:00")
    return value


@router.get("", response_model=list[ScheduledOut])
def list_rows(session: SessionDep, kind: str | None = None, status: OutboxStatus | None = None,
              team_id: QueryId | None = None, since: Moment | None = Query(None, alias="from"),
              until: Moment | None = Query(None, alias="to"), limit: int = Query(100, ge=1, le=1000)):
    """Rows by send time, filtered by kind, status, the recipient's team, and send time from/to."""
    query = select(OutboxRow).order_by(OutboxRow.send_after, OutboxRow.id).limit(limit)
    if kind is not None:
        query = query.where(OutboxRow.kind == kind)
    if status is not None:
        query = query.where(OutboxRow.status == status)
    if team_id is not None:
        query = query.join(Volunteer, Volunteer.id == OutboxRow.volunteer_id).where(Volunteer.team_id == team_id)
    if _aware("from", since) is not None:
        query = query.where(OutboxRow.send_after >= since)
    if _aware("to", until) is not None:
        query = query.where(OutboxRow.send_after < until)
    zone = cadence_from(get_settings()).zone
    return [scheduled_out(row, zone) for row in session.scalars(query)]


@router.post("/{row_id}/cancel", response_model=ScheduledOut)
def cancel_row(session: SessionDep, row_id: PathId):
    """Cancel one row that has not gone yet; 409 when it has (or is being sent)."""
    row = session.get(OutboxRow, row_id)
    if row is None:
        raise HTTPException(404, f"outbox row {row_id} does not exist")
    if not outbox.cancel(session, row, "cancelled_by_organizer"):
        raise HTTPException(409, f"outbox row {row_id} is {row.status}: too late to cancel")
    return scheduled_out(row, cadence_from(get_settings()).zone)
