"""An outbox row in its recipient's language (looked up at send time: the language can change)."""
from datetime import timedelta

from sqlalchemy.orm import Session

from bot import catalog
from bot.channels.base import Choice, Rendered, Template
from campaign.models import Identity, OutboxRow, Volunteer, utcnow
from onramp.settings import Settings

# WhatsApp's customer-service window: free-form messages only this long after the person wrote
WHATSAPP_WINDOW = timedelta(hours=24)
WINDOWED_CHANNELS = {"whatsapp", "whatsapp_cloud"}


def render(session: Session, row: OutboxRow, settings: Settings) -> Rendered:
    volunteer = session.get(Volunteer, row.volunteer_id) if row.volunteer_id else None
    language = (volunteer.language if volunteer else None) or settings.default_language
    params = {"campaign": settings.campaign_name, **(row.params or {})}
    if row.key:
        text = catalog.render(row.key, params, language, settings.campaign_timezone)
    else:
        text = row.text or ""
    choices = [
        Choice(catalog.render(c["key"], {**params, **(c.get("params") or {})}, language, settings.campaign_timezone), c["payload"])
        for c in row.choices or []
    ]
    identity = session.get(Identity, row.identity_id) if row.identity_id else None
    last = identity.last_inbound_at if identity else None
    window_open = last is not None and utcnow() - last < WHATSAPP_WINDOW
    template = None
    if not window_open and row.channel in WINDOWED_CHANNELS and row.key:
        # an approved template per message and language (WHATSAPP_TEMPLATES), e.g. reminder_day_before:es
        approved = settings.whatsapp_templates.get(f"{row.key}:{language}")
        if approved:
            template = Template(approved, language, catalog.variables(row.key, params, language, settings.campaign_timezone))
    return Rendered(text=text, language=language, choices=choices, window_open=window_open, template=template)
