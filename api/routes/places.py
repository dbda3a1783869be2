"""Free text to structured facts: where (locate) and when (availability)."""
from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.schemas import AvailabilityOut, LocateOut, PlaceOut, TextIn
from campaign import availability, turf

router = APIRouter(prefix="/v1", tags=["places and times"])


@router.get("/locate", response_model=LocateOut)
def locate(session: SessionDep, text: str = Query(..., min_length=1, max_length=2000)):
    """The neighborhood or ZIP code named in `text`; `match` is null when there is none."""
    place = turf.locate(session, text)
    if place is None:
        return LocateOut(match=None, unknown_zip=turf.unknown_zip(text))
    return LocateOut(match=PlaceOut(**place.__dict__))


@router.post("/availability/parse", response_model=AvailabilityOut)
def parse_availability(body: TextIn):
    """Weekly slots ("sat:morning", ...) named in free text; [] when it names no time."""
    return AvailabilityOut(slots=availability.parse(body.text))
