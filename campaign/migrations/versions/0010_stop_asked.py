"""a pending revocation: when the bot asked "do you want to stop?" about a message that may have
withdrawn consent (#24); automated messages are held until the person answers

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stop_asked_at', campaign.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('stop_asked_at')
