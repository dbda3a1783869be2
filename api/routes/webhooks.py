"""Provider webhooks: every enabled adapter's routes, each served by the one endpoint of
api/routes/webhook_endpoint.py."""
from fastapi import APIRouter

from api.routes.webhook_endpoint import endpoint
from bot.channels import enabled
from onramp.settings import Settings


def router(settings: Settings) -> APIRouter:
    webhooks = APIRouter(prefix="/webhooks", tags=["webhooks"], include_in_schema=False)
    for adapter in enabled(settings):
        for route in adapter.routes:
            for path in (route.path, *route.aliases):
                webhooks.add_api_route(path, endpoint(adapter, route), methods=[route.method])
    return webhooks
