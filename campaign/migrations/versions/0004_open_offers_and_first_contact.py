"""open offers, the subject of an outbox row, and how a person first reached us

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('open_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', campaign.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', campaign.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_open_offers_identity_id_identities')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_open_offers_outbox_id_outbox')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_open_offers_volunteer_id_volunteers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_offers'))
    )
    with op.batch_alter_table('open_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_offers_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_offers_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_offers_volunteer_id'), ['volunteer_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_contact_channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('first_contact_at', campaign.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_contact_text', sa.Text(), nullable=True))

    # People who wrote before this record existed: their first inbound message is their first contact.
    op.execute("""
        UPDATE volunteers SET
          first_contact_channel = (SELECT m.channel FROM messages m WHERE m.volunteer_id = volunteers.id
                                   AND m.direction = 'in' ORDER BY m.id LIMIT 1),
          first_contact_at = (SELECT m.created_at FROM messages m WHERE m.volunteer_id = volunteers.id
                              AND m.direction = 'in' ORDER BY m.id LIMIT 1),
          first_contact_text = (SELECT m.body FROM messages m WHERE m.volunteer_id = volunteers.id
                                AND m.direction = 'in' ORDER BY m.id LIMIT 1)
        WHERE first_contact_at IS NULL
    """)


def downgrade() -> None:
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('first_contact_text')
        batch_op.drop_column('first_contact_at')
        batch_op.drop_column('first_contact_channel')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_kind')
    op.drop_table('open_offers')
