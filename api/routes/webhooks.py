"""Provider webhooks: every adapter's routes, each served by the one endpoint of
api/routes/webhook_endpoint.py. An adapter whose credentials are not set keeps its paths, and
they refuse every request as an unverifiable one (403, nothing written), as they always have:
a provider pointed at a campaign that is not configured for it sees a signature failure."""
from fastapi import APIRouter, HTTPException

import bot.channels
from api.routes.webhook_endpoint import endpoint
from bot.channels.base import Adapter
from onramp.settings import Settings


def _unconfigured(adapter: type[Adapter]):
    async def refuse():
        raise HTTPException(403, f"{adapter.__name__.removesuffix('Adapter')} is not configured on this campaign")
    return refuse


def router(settings: Settings) -> APIRouter:
    webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)
    for adapter in bot.channels.ADAPTERS:  # read when the app is built (a test may add one)
        for route in adapter.routes:
            serve = endpoint(adapter, route) if adapter.enabled(settings) else _unconfigured(adapter)
            for path in (route.path, *route.aliases):
                webhooks.add_api_route(path, serve, methods=[route.method])
    return webhooks
