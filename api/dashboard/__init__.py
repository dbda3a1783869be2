"""The organizer dashboard: server-rendered pages under /dashboard (Jinja2, no build step, no CDN)."""
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.dashboard.auth import NeedsSignIn
from api.dashboard.headers import DashboardHeaders
from api.dashboard.pages import accounts, conversations, funnel, inbox, outbox, security, shifts, sign_in, volunteers

STATIC = Path(__file__).resolve().parent / "static"
# in this order, as the pages were declared when they shared one router
PAGES = (sign_in, inbox, conversations, volunteers, shifts, funnel, outbox, accounts)


def install(app: FastAPI) -> None:
    for page in PAGES:
        app.include_router(page.router)
    app.include_router(security.router)  # two-step sign-in (#25)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.add_middleware(DashboardHeaders)

    @app.exception_handler(NeedsSignIn)
    async def sign_in_first(_: Request, __: NeedsSignIn) -> RedirectResponse:
        return RedirectResponse("/dashboard/login", status_code=303)
