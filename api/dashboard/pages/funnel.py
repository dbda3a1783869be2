"""The funnel: how far the people who first wrote in a span of dates got, as a table and a chart."""
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.dashboard import charts
from api.dashboard.auth import ViewerDep
from api.dashboard.templating import page
from api.deps import SessionDep
from campaign import funnel
from campaign.models import FUNNEL_STAGES, utcnow

router = APIRouter(prefix="/dashboard", include_in_schema=False)

# a funnel's dates: within them, the day after the end and the default start (30 days before the
# end) are dates too (9999-12-31 + 1 day is not), and the database can compare them
FunnelDate = Annotated[date, Query(ge=date(1970, 1, 31), le=date(9999, 12, 30))]


@router.get("/funnel")
def funnel_page(request: Request, session: SessionDep, who: ViewerDep, start: FunnelDate | None = None,
                end: FunnelDate | None = None, split: str = ""):
    end = end or utcnow().date()
    start = start or end - timedelta(days=30)
    split = split if split in funnel.SPLITS else ""
    result = funnel.cohort(session, datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC),
                           scope=who.people(), split=split or None)
    return page(request, "funnel.html", who, funnel=result, start=start, end=end, split=split, splits=funnel.SPLITS,
                chart=charts.funnel_svg(result), labels=STAGE_LABELS)


STAGE_LABELS = {"first_message": "First message", "name": "Name", "place": "Place", "availability": "Availability",
                "team": "Team", "booked": "Booked", "attended": "Attended"}
assert set(STAGE_LABELS) == set(FUNNEL_STAGES)
charts.LABELS.update(STAGE_LABELS)
