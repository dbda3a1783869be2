"""How every dashboard page is drawn: the Jinja2 template environment, its filters, and page()."""
from datetime import datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.dashboard.auth import Viewer
from campaign.models import utcnow
from onramp.settings import get_settings

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
PAGE_SIZE = 30  # a table shows the first rows; search, filters and the CSV reach everyone


def page(request: Request, name: str, who: Viewer | None, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"who": who, "now": utcnow(), **context}, status_code=status_code)


def waited(since: datetime) -> str:
    minutes = int((utcnow() - since).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


templates.env.filters["waited"] = waited
templates.env.filters["local"] = lambda value: value.astimezone(_zone()).strftime("%a %d %b %H:%M") if value else ""


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(get_settings().campaign_timezone)
