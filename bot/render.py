"""An outbox row in its recipient's language (looked up at send time: the language can change)."""
from sqlalchemy.orm import Session

from bot import catalog
from bot.channels.base import Choice, Rendered
from campaign.models import OutboxRow, Volunteer
from onramp.settings import Settings


def render(session: Session, row: OutboxRow, settings: Settings) -> Rendered:
    volunteer = session.get(Volunteer, row.volunteer_id) if row.volunteer_id else None
    language = (volunteer.language if volunteer else None) or settings.default_language
    params = {"campaign": settings.campaign_name, **(row.params or {})}
    if row.key:
        text = catalog.render(row.key, params, language, settings.campaign_timezone)
    else:
        text = row.text or ""
    if (row.params or {}).get("first_sms_notice"):
        text = f'{text}\n{catalog.render("sms_stop_notice", params, language, settings.campaign_timezone)}'
    choices = [
        Choice(catalog.render(c["key"], {**params, **(c.get("params") or {})}, language, settings.campaign_timezone), c["payload"])
        for c in row.choices or []
    ]
    return Rendered(text=text, language=language, choices=choices)
