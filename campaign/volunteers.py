"""Who is writing: (channel, external id) → identity → volunteer, created on first contact."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaign.models import Identity, Volunteer


def find_identity(session: Session, channel: str, external_id: str) -> Identity | None:
    return session.scalars(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    ).one_or_none()


def identify(session: Session, channel: str, external_id: str, phone: str | None = None,
             signup_source: str | None = None) -> Identity:
    """The identity for this contact, creating it and its volunteer on first contact.

    The same phone number on another channel (SMS and WhatsApp) is the same volunteer.
    """
    identity = find_identity(session, channel, external_id)
    if identity is not None:
        if phone and identity.phone is None:
            link_phone(session, identity, phone)
        return identity
    volunteer = None
    if phone:
        other = session.scalars(select(Identity).where(Identity.phone == phone)).first()
        volunteer = other.volunteer if other else None
    try:
        with session.begin_nested():
            if volunteer is None:
                volunteer = Volunteer(signup_source=signup_source or channel, stage="new", availability=[], interests=[])
                session.add(volunteer)
                session.flush()
            identity = Identity(volunteer_id=volunteer.id, channel=channel, external_id=external_id, phone=phone)
            session.add(identity)
            session.flush()
    except IntegrityError:
        # Another request created this contact at the same moment; use theirs.
        identity = find_identity(session, channel, external_id)
        if identity is None:
            raise
    return identity


def link_phone(session: Session, identity: Identity, phone: str) -> None:
    """A contact now known to have this phone (a Telegram user shared their own contact): if the
    phone is already a volunteer's, this identity becomes theirs, so both channels reach one person."""
    identity.phone = phone
    other = session.scalars(select(Identity).where(Identity.phone == phone, Identity.id != identity.id)).first()
    if other is not None and other.volunteer_id != identity.volunteer_id:
        identity.volunteer_id = other.volunteer_id


def reach(session: Session, volunteer_id: int) -> Identity | None:
    """The identity to write to: the reachable one they wrote from last."""
    return session.scalars(
        select(Identity)
        .where(Identity.volunteer_id == volunteer_id, Identity.unreachable.is_(False))
        .order_by(Identity.last_inbound_at.desc().nulls_last(), Identity.id.desc())
    ).first()
