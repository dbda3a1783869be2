"""Steps 2 and 5: identify the contact and persist the message; the webhook answers after this."""
from sqlalchemy.orm import Session

from bot.pipeline import keywords
from bot.channels.received import Inbound
from campaign.models import Message, utcnow
from campaign.inbox import store_inbound
from campaign.volunteers import identify


def clean(text: str) -> str:
    """Text any database can store: a lone surrogate becomes U+FFFD (a valid pair becomes its
    character), and NUL characters go."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\x00", "")


def receive(session: Session, message: Inbound) -> tuple[int, bool]:
    """Store the message (a repeat of a provider id is a no-op); returns (message id, created)."""
    identity = identify(session, message.channel, message.external_id, phone=message.phone,
                        signup_source=message.signup_source)
    payload = {"button": message.payload} if message.payload else {}
    if message.event:
        payload["event"] = message.event
    if message.language_hint:
        payload["language_hint"] = message.language_hint
    if message.location is not None:
        payload["location"] = list(message.location)
    if message.media:
        payload["media"] = str(message.media)
    message_id, created = store_inbound(session, identity, message.channel, message.provider_id, clean(message.text), payload)
    if created:
        volunteer = identity.volunteer
        if volunteer.first_contact_at is None:  # the consent record: how the person first reached us
            volunteer.first_contact_channel, volunteer.first_contact_at = message.channel, utcnow()
            volunteer.first_contact_text = clean(message.text)[:500]
        if not message.payload:  # a tap is never a keyword
            keywords.apply(session, session.get(Message, message_id), identity, volunteer)
    return message_id, created
