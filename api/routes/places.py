"""Free text to structured facts: where (locate) and when (availability)."""
from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.schemas import AvailabilityOut, BoroughOut, LocateOut, NeighborhoodChoice, PlaceOut, TextIn
from campaign import availability, turf

router = APIRouter(prefix="/v1", tags=["places and times"])


@router.get("/locate", response_model=LocateOut)
def locate(session: SessionDep, text: str = Query(..., min_length=1, max_length=2000),
           page: int = Query(0, ge=0, description="which page of a borough's neighborhoods")):
    """The neighborhood or ZIP code named in `text`; `match` is null when there is none. When
    the text names only a borough, `borough` lists its neighborhoods to offer as choices."""
    place, found = turf.place_or_borough(session, text)
    if place is not None:
        return LocateOut(match=PlaceOut(**place.__dict__))
    unknown = turf.unknown_zip(text)
    if found is None or unknown:
        return LocateOut(match=None, unknown_zip=unknown)
    pages = found.pages()
    page = min(page, pages - 1)
    return LocateOut(match=None, borough=BoroughOut(
        name=found.name, matched=found.matched, page=page, pages=pages, total=len(found.neighborhoods),
        neighborhoods=[NeighborhoodChoice(id=i, name=n) for i, n in found.page(page)]))


@router.post("/availability/parse", response_model=AvailabilityOut)
def parse_availability(body: TextIn):
    """Weekly slots ("sat:morning", ...) named in free text; [] when it names no time."""
    return AvailabilityOut(slots=availability.parse(body.text))
