"""provider ids in their own rows: one per provider call of an outbox row (a long SMS takes
several), found by an index; the comma-joined outbox.provider_id goes

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

UTC = campaign.models.base.UTCDateTime(timezone=True)

outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('channel', sa.String), sa.column('status', sa.String),
                  sa.column('provider_id', sa.String), sa.column('created_at', UTC), sa.column('claimed_at', UTC),
                  sa.column('sent_at', UTC))
parts = sa.table('provider_messages', sa.column('outbox_id', sa.Integer), sa.column('part', sa.Integer),
                 sa.column('channel', sa.String), sa.column('provider_id', sa.String), sa.column('started_at', UTC),
                 sa.column('accepted_at', UTC))


def upgrade() -> None:
    op.create_table('provider_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('provider_id', sa.String(length=128), nullable=True),
        sa.Column('started_at', UTC, nullable=False),
        sa.Column('accepted_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_provider_messages_outbox_id_outbox')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_messages')),
        sa.UniqueConstraint('outbox_id', 'part', name=op.f('uq_provider_messages_outbox_id_part')),
    )
    op.create_index('ix_provider_messages_channel_provider_id', 'provider_messages', ['channel', 'provider_id'])

    bind = op.get_bind()
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.channel, outbox.c.status, outbox.c.provider_id,
                                  outbox.c.created_at, outbox.c.claimed_at, outbox.c.sent_at)
                        .where(outbox.c.provider_id.is_not(None) | (outbox.c.status == 'sending'))).all()
    values = []
    for row in rows:
        started = row.claimed_at or row.created_at
        ids = [sid.strip() for sid in (row.provider_id or '').split(',') if sid.strip()]
        values += [dict(outbox_id=row.id, part=n, channel=row.channel, provider_id=sid, started_at=started,
                        accepted_at=row.sent_at or started) for n, sid in enumerate(ids)]
        if row.status == 'sending' and not ids:
            # in flight under the old code, which kept no record of its calls: its call may
            # have started, so it stays at most once (unknown after the visibility timeout)
            values.append(dict(outbox_id=row.id, part=0, channel=row.channel, provider_id=None, started_at=started,
                               accepted_at=None))
    if values:
        bind.execute(parts.insert(), values)

    # a plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): batch mode would copy the outbox
    # table, which other tables' foreign keys refer to
    op.drop_index('ix_outbox_provider_id', table_name='outbox')
    op.drop_column('outbox', 'provider_id')


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_provider_id'), ['provider_id'], unique=False)

    bind = op.get_bind()
    joined: dict[int, list[str]] = {}
    for row in bind.execute(sa.select(parts.c.outbox_id, parts.c.provider_id)
                            .where(parts.c.provider_id.is_not(None)).order_by(parts.c.outbox_id, parts.c.part)):
        joined.setdefault(row.outbox_id, []).append(row.provider_id)
    for outbox_id, ids in joined.items():
        bind.execute(outbox.update().where(outbox.c.id == outbox_id).values(provider_id=','.join(ids)[:128]))

    op.drop_index('ix_provider_messages_channel_provider_id', table_name='provider_messages')
    op.drop_table('provider_messages')
