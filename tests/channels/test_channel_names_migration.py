"""Migration 0008 renames what was stored under the old channel names: Twilio's WhatsApp was
"whatsapp" (now twilio_whatsapp), and a signup through either WhatsApp had signup_source
"whatsapp" (now twilio_whatsapp or whatsapp_cloud, by the channel of the first contact)."""
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.db import make_engine
from campaign.delivery import record
from campaign.inbox import store_inbound
from campaign.migrate import alembic_config, upgrade
from campaign.models import DeliveryEvent, Identity, Message, OutboxRow, Volunteer, utcnow
from campaign.outbox import enqueue
from campaign.volunteers import identify


def _stored(engine):
    with Session(engine) as session:
        return {
            "identities": sorted(session.scalars(select(Identity.channel))),
            "messages": sorted(session.scalars(select(Message.channel))),
            "outbox": sorted(session.scalars(select(OutboxRow.channel))),
            "delivery_events": sorted(session.scalars(select(DeliveryEvent.channel))),
            "volunteers": sorted(session.execute(select(Volunteer.first_contact_channel, Volunteer.signup_source,
                                                        Volunteer.consent_source)).all(), key=str),
        }


def test_the_old_channel_names_are_renamed_and_back(db_url):
    # the data is written with today's models (at head, which they match), under the old names,
    # then the schema goes back to 0007, the revision before this one: what a database of then held
    upgrade(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        for channel, external_id, source in [("whatsapp", "+17185550123", "whatsapp"), ("whatsapp_cloud", "+17185550124", "whatsapp"),
                                             ("webchat", "w-1", "whatsapp"), ("sms", "+17185550125", "sms")]:
            identity = identify(session, channel, external_id, signup_source=source)
            identity.volunteer.first_contact_channel, identity.volunteer.first_contact_at = channel, utcnow()
            store_inbound(session, identity, channel, f"in-{external_id}", "hola")
            enqueue(session, identity, key="ask_name")
            record(session, channel, f"out-{external_id}", "sent")
        identify(session, "whatsapp", "+17185550123").volunteer.consent_source = "whatsapp"
        session.commit()
    command.downgrade(alembic_config(db_url), "0007")
    before = _stored(engine)

    upgrade(db_url)
    after = _stored(engine)
    for table in ("identities", "messages", "outbox", "delivery_events"):
        assert after[table] == sorted(["twilio_whatsapp", "whatsapp_cloud", "webchat", "sms"]), table
    assert after["volunteers"] == sorted([("twilio_whatsapp", "twilio_whatsapp", "twilio_whatsapp"),
                                          ("whatsapp_cloud", "whatsapp_cloud", None),
                                          ("webchat", "whatsapp", None),  # a web chat link's own words stay
                                          ("sms", "sms", None)], key=str)

    command.downgrade(alembic_config(db_url), "0007")
    assert _stored(engine) == before
    engine.dispose()
