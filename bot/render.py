"""An outbox row in its recipient's language (looked up at send time: the language can change)."""
from sqlalchemy.orm import Session

from sqlalchemy import func, select

from bot import catalog, langid_offer
from bot.channels.base import Choice, Rendered
from bot.language import LANGUAGE_GUESSED
from campaign.models import Message, OutboxRow, Volunteer
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
    if volunteer is not None and volunteer.language_source == LANGUAGE_GUESSED and row.source_message_id:
        text, choices = _language_offer(session, row, text, choices, language, settings)
    return Rendered(text=text, language=language, choices=choices)


def _language_offer(session: Session, row: OutboxRow, text: str, choices: list[Choice], language: str,
                    settings: Settings) -> tuple[str, list[Choice]]:
    """The first reply to a message whose language was only guessed carries the offer to switch."""
    from bot.pipeline.process import NUMBERED_CHANNELS

    source = session.get(Message, row.source_message_id)
    offer = (source.payload or {}).get(langid_offer.OFFER) if source else None
    if not offer:
        return text, choices
    first = session.scalar(select(func.min(OutboxRow.seq)).where(
        OutboxRow.source_message_id == row.source_message_id, OutboxRow.kind == "reply"))
    if row.kind != "reply" or row.seq != first:
        return text, choices
    return langid_offer.decorate(text, choices, offer, row.channel in NUMBERED_CHANNELS, language,
                                 settings.languages, settings.campaign_timezone)
