"""The outbox as organizers see it: the rows not sent yet or in trouble, and the moves
campaign.outbox_status allows by hand (retry, cancel), each written to the access log."""
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from api.dashboard.auth import FormDep, Viewer, organizers_only
from api.dashboard.templating import page
from api.deps import SessionDep
from api.schemas import PathId
from campaign import accounts, outbox, outbox_status
from campaign.models import OutboxRow, Volunteer, utcnow
from campaign.outbox_status import OutboxStatus

router = APIRouter(prefix="/dashboard", include_in_schema=False)

# what an organizer may do to a row: the moves campaign.outbox_status allows by hand
RETRYABLE = tuple(s for s in outbox_status.sources(OutboxStatus.PENDING, by_hand=True)
                  if s not in outbox_status.sources(OutboxStatus.PENDING))
CANCELLABLE = tuple(outbox_status.sources(OutboxStatus.CANCELLED, by_hand=True))
OUTBOX_SHOWN = ("pending", "waiting", "failed", "unknown")


@router.get("/outbox")
def outbox_page(request: Request, session: SessionDep, who: Viewer = Depends(organizers_only), status: str = "",
                notice: str | None = None):
    return _outbox(request, session, who, status, notice)


def _outbox(request: Request, session, who: Viewer, status: str = "", notice: str | None = None, error: str | None = None,
            status_code: int = 200):
    query = select(OutboxRow).where(OutboxRow.status.in_((status,) if status in OUTBOX_SHOWN else OUTBOX_SHOWN))
    rows = session.scalars(query.order_by(OutboxRow.send_after.desc()).limit(200)).all()
    counts = dict(session.execute(select(OutboxRow.status, func.count()).where(OutboxRow.status.in_(OUTBOX_SHOWN))
                                  .group_by(OutboxRow.status)).all())
    names = dict(session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_({r.volunteer_id for r in rows}))).all())
    return page(request, "outbox.html", who, status_code=status_code, rows=rows, counts=counts, status=status, notice=notice,
                error=error, names=names, retryable=RETRYABLE, cancellable=CANCELLABLE)


STATUS_WORDS = {"pending": "scheduled", "sending": "being sent right now", "waiting": "held"}


def _refused(request: Request, session, who: Viewer, row: OutboxRow, doing: str):
    """The outbox page again, saying why this row cannot be retried or cancelled (409)."""
    session.rollback()
    status = session.scalar(select(OutboxRow.status).where(OutboxRow.id == row.id))
    why = f"Row {row.id} is {STATUS_WORDS.get(status, status)}, so it cannot be {doing}: nothing was changed."
    return _outbox(request, session, who, error=why, status_code=409)


def _outbox_row(session, row_id: int) -> OutboxRow:
    row = session.get(OutboxRow, row_id)
    if row is None:
        raise HTTPException(404, "no such outbox row")
    return row


@router.post("/outbox/{row_id}/retry")
def outbox_retry(request: Request, session: SessionDep, form: FormDep, row_id: PathId, who: Viewer = Depends(organizers_only)):
    row = _outbox_row(session, row_id)
    if row.status not in RETRYABLE:
        return _refused(request, session, who, row, "retried")
    if row.status == "unknown" and form.get("confirm") != "yes":
        return page(request, "confirm_retry.html", who, row=row, status_code=409)
    was = row.status
    # only from the status read: a worker that claimed the row meanwhile keeps it
    moved = outbox.move_where(
        session, OutboxStatus.PENDING, OutboxRow.id == row.id, only_from={OutboxStatus(was)}, by_hand=True,
        reason=f"retried by {who.account.email}", send_after=utcnow(),
        last_error=f"retried from {was} by {who.account.email}; was: {row.last_error or ''}"[:2000])
    if not moved:
        return _refused(request, session, who, row, "retried")
    accounts.record_access(session, who.account, "outbox_retried", f"outbox {row.id} ({was})")
    return RedirectResponse("/dashboard/outbox?notice=retried", status_code=303)


@router.post("/outbox/{row_id}/cancel")
def outbox_cancel(request: Request, session: SessionDep, form: FormDep, row_id: PathId, who: Viewer = Depends(organizers_only)):
    row = _outbox_row(session, row_id)
    if row.status not in CANCELLABLE:
        return _refused(request, session, who, row, "cancelled")
    was = row.status
    moved = outbox.move_where(session, OutboxStatus.CANCELLED, OutboxRow.id == row.id, only_from={OutboxStatus(was)},
                              by_hand=True, reason=f"cancelled by {who.account.email}",
                              last_error=f"cancelled by {who.account.email}")
    if not moved:
        return _refused(request, session, who, row, "cancelled")
    accounts.record_access(session, who.account, "outbox_cancelled", f"outbox {row.id} ({was})")
    return RedirectResponse("/dashboard/outbox?notice=cancelled", status_code=303)
