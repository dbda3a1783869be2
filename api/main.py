"""The FastAPI application: webhooks, the REST API and the web chat, plus the inbound runner."""
import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api import dashboard, errors, metrics
from api.body_limit import BodyLimit
from api.deps import require_service_token
from api.routes import outbox, places, shifts, teams, volunteers, webchat, webhooks
from bot.pipeline.runner import InboundRunner
from campaign import db
from onramp.settings import get_settings

log = logging.getLogger(__name__)


def create_app(run_pipeline: bool = True) -> FastAPI:
    settings = get_settings()
    # Here, not only in `onramp api`: uvicorn or gunicorn loading api.main:create_app directly
    # must refuse the README's development token on a public URL just the same.
    settings.refuse_weak_secrets()
    db.configure(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = None
        if run_pipeline:
            app.state.runner = InboundRunner(settings)
            task = asyncio.create_task(app.state.runner.run_forever())
        yield
        if task is not None:
            app.state.runner.stop()
            await asyncio.wait([task], timeout=5)

    app = FastAPI(
        title="Onramp",
        version="0.1.0",
        description="Onboards supporters into local teams and shifts. The /v1 API takes "
        "'Authorization: Bearer <SERVICE_TOKEN>'.",
        lifespan=lifespan,
    )
    errors.install(app)
    protected = [Depends(require_service_token)]
    for router in (volunteers.router, teams.router, shifts.router, outbox.router, places.router):
        app.include_router(router, dependencies=protected)
    app.include_router(webchat.router)
    app.include_router(webhooks.router(settings))
    dashboard.install(app)
    app.include_router(metrics.router)  # /healthz and /metrics
    # Before everything else: a body over api/bodies.py MAX_BODY, too slow or too deeply nested
    # is refused before any route, token, sign-in or signature check runs (api/body_limit.py).
    app.add_middleware(BodyLimit, seconds=settings.request_read_seconds)

    return app
