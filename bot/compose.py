"""An outbox row composed as the message its channel sends: the catalog text in its recipient's
language (looked up at send time: the language can change), its choices, and a WhatsApp template
when the channel's reply window is closed. (bot/catalog.render turns one catalog key into text.)"""
from sqlalchemy.orm import Session

from sqlalchemy import func, select

from bot import catalog, langid_offer
from bot.channels import numbers_choices, reply_window
from bot.channels.base import Choice, Rendered, Sender, Template
from bot.language import LANGUAGE_GUESSED
from campaign.models import Identity, Message, OutboxRow, Volunteer, utcnow
from onramp.settings import Settings


def compose(session: Session, row: OutboxRow, settings: Settings) -> Rendered:
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
    identity = session.get(Identity, row.identity_id) if row.identity_id else None
    last, now, window = identity.last_inbound_at if identity else None, utcnow(), reply_window(row.channel)
    # an organizer's reply (campaign/handoffs.py) is a human's; everything else the bot's
    sender = Sender.HUMAN if (row.params or {}).get("organizer") else Sender.BOT
    window_open = window.open_for(sender, last, now)
    template = None
    if window_open is False and row.key and window.open_for(Sender.TEMPLATE, last, now) is not False:
        # an approved template per message and language (WHATSAPP_TEMPLATES), e.g. reminder_day_before:es
        approved = settings.whatsapp_templates.get(f"{row.key}:{language}")
        if approved:
            template = Template(approved, language, catalog.variables(row.key, params, language, settings.campaign_timezone))
    return Rendered(text=text, language=language, choices=choices, window_open=window_open, template=template)


def _language_offer(session: Session, row: OutboxRow, text: str, choices: list[Choice], language: str,
                    settings: Settings) -> tuple[str, list[Choice]]:
    """The first reply to a message whose language was only guessed carries the offer to switch."""
    source = session.get(Message, row.source_message_id)
    offer = (source.payload or {}).get(langid_offer.OFFER) if source else None
    if not offer:
        return text, choices
    first = session.scalar(select(func.min(OutboxRow.seq)).where(
        OutboxRow.source_message_id == row.source_message_id, OutboxRow.kind == "reply"))
    if row.kind != "reply" or row.seq != first:
        return text, choices
    return langid_offer.decorate(text, choices, offer, numbers_choices(row.channel), language,
                                 settings.languages, settings.campaign_timezone)
