"""channel names that say which provider: Twilio's WhatsApp is twilio_whatsapp (was whatsapp), and
a signup through Meta's WhatsApp Cloud API is whatsapp_cloud (both were signup_source whatsapp)

Revision ID: 0008
Revises: 0007
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD, NEW = 'whatsapp', 'twilio_whatsapp'
CHANNEL_COLUMNS = [('identities', 'channel'), ('messages', 'channel'), ('outbox', 'channel'),
                   ('delivery_events', 'channel'), ('provider_messages', 'channel'),
                   ('volunteers', 'first_contact_channel'),
                   ('volunteers', 'consent_source')]


def upgrade() -> None:
    # signup_source first: which WhatsApp it was is told by the channel of the first contact (a
    # web chat's source is whatever its link said, and stays)
    op.execute("UPDATE volunteers SET signup_source = CASE WHEN first_contact_channel = 'whatsapp_cloud' "
               f"THEN 'whatsapp_cloud' ELSE '{NEW}' END "
               f"WHERE signup_source = '{OLD}' AND first_contact_channel IN ('{OLD}', 'whatsapp_cloud')")
    for table, column in CHANNEL_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = '{NEW}' WHERE {column} = '{OLD}'")


def downgrade() -> None:
    op.execute(f"UPDATE volunteers SET signup_source = '{OLD}' "
               f"WHERE signup_source = first_contact_channel AND first_contact_channel IN ('{NEW}', 'whatsapp_cloud')")
    for table, column in CHANNEL_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = '{OLD}' WHERE {column} = '{NEW}'")
