"""indexes for the worker's due-rows query: pending rows in sending order, and a person's
earlier rows (the replies of a conversation go in order)

Without them the query sorted every pending row on each pass, and looked for a person's earlier
replies among all pending rows: its cost grew with the backlog, quadratically over a broadcast.

Revision ID: 0009
Revises: 0008
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_due', 'outbox', ['status', 'send_after', 'id'])
    op.create_index('ix_outbox_identity_id', 'outbox', ['identity_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_outbox_identity_id', table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
