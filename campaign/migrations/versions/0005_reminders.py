"""reminders and follow-ups: outbox deadline, reason, cause, claim time; attendance on bookings

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', campaign.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shift_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', campaign.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_shift_id'), ['shift_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_booking_id_bookings'), 'bookings', ['booking_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbox_shift_id_shifts'), 'shifts', ['shift_id'], ['id'])
    # what was a cancellation by a send-time rule is now a skip with its reason
    op.execute("UPDATE outbox SET status = 'skipped', reason = last_error "
               "WHERE status = 'cancelled' AND last_error IN ('opted_out', 'unreachable')")

    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', campaign.models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('attendance_source', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('attendance_at', campaign.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('attendance_at')
        batch_op.drop_column('attendance_source')
        batch_op.drop_column('attendance')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_shift_id_shifts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbox_booking_id_bookings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_shift_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_booking_id'))
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('shift_id')
        batch_op.drop_column('booking_id')
        batch_op.drop_column('reason')
        batch_op.drop_column('deadline')
