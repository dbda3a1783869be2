"""The organizer dashboard: server-rendered pages under /dashboard (Jinja2, no build step, no CDN)."""
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.dashboard.auth import NeedsSignIn
from api.dashboard.headers import DashboardHeaders
from api.dashboard.routes import router

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.add_middleware(DashboardHeaders)

    @app.exception_handler(NeedsSignIn)
    async def sign_in_first(_: Request, __: NeedsSignIn) -> RedirectResponse:
        return RedirectResponse("/dashboard/login", status_code=303)
