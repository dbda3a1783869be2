"""Changing and cancelling shifts: the planned reminders follow, and the people booked are told."""
from fastapi import APIRouter, HTTPException

from api.deps import SessionDep
from api.routes.volunteers import shift_out
from api.schemas import PathId, ShiftOut, ShiftPatch
from campaign import shifts
from campaign.models import Shift, utcnow
from campaign.schedule import cadence_from
from onramp.settings import get_settings

router = APIRouter(prefix="/v1/shifts", tags=["teams and shifts"])


def _shift(session: SessionDep, shift_id: PathId) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise HTTPException(404, f"shift {shift_id} does not exist")
    if shift.cancelled_at is not None:
        raise HTTPException(409, f"shift {shift_id} is cancelled")
    return shift


@router.patch("/{shift_id}", response_model=ShiftOut)
def change_shift(session: SessionDep, shift_id: PathId, patch: ShiftPatch):
    """Change the time, place or capacity. Reminders are re-planned and the people booked told.
    Fewer places than people booked: the latest bookings go to the waitlist (first come keeps its
    place) and are told; more places go to the waitlist in order of asking, and they are told."""
    shift = _shift(session, shift_id)
    changes = patch.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise HTTPException(422, "a field given must have a value")
    starts, ends = changes.get("starts_at", shift.starts_at), changes.get("ends_at")
    if ends is not None and ends <= starts:
        raise HTTPException(422, "ends_at must be after starts_at")
    shifts.change_shift(session, shift, cadence_from(get_settings()), starts_at=changes.get("starts_at"), ends_at=ends,
                        place=changes.get("place"), capacity=changes.get("capacity"))
    return shift_out(session, shift)


@router.post("/{shift_id}/cancel", response_model=ShiftOut)
def cancel_shift(session: SessionDep, shift_id: PathId):
    """Cancel the shift: its reminders are cancelled, and everyone booked is told and offered others."""
    shift = _shift(session, shift_id)
    if shift.starts_at <= utcnow():  # as the dashboard: what has started is past changing
        raise HTTPException(409, f"shift {shift_id} has already started")
    shifts.cancel_shift(session, shift, cadence_from(get_settings()))
    return shift_out(session, shift)
