"""dashboard: accounts, sessions, sign-in throttling, access log, funnel stage events (back-filled),
handoff ownership and Rasa state, attendance on bookings

Revision ID: 0006
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

UTC = campaign.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('contact_volunteer_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('telegram', sa.String(length=64), nullable=True),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_accounts_team_id_teams')),
        sa.ForeignKeyConstraint(['contact_volunteer_id'], ['volunteers.id'], name=op.f('fk_accounts_contact_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
        sa.UniqueConstraint('email', name=op.f('uq_accounts_email')),
    )
    op.create_table('dashboard_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('ended_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_dashboard_sessions_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_dashboard_sessions_token_hash')),
    )
    op.create_index(op.f('ix_dashboard_sessions_account_id'), 'dashboard_sessions', ['account_id'])
    op.create_table('sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
    )
    for column in ('email', 'address', 'at'):
        op.create_index(op.f(f'ix_sign_in_failures_{column}'), 'sign_in_failures', [column])
    op.create_table('access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_access_log_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    )
    op.create_index(op.f('ix_access_log_account_id'), 'access_log', ['account_id'])
    op.create_index(op.f('ix_access_log_at'), 'access_log', ['at'])
    op.create_table('stage_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('reached_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_stage_events_volunteer_id_volunteers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_events')),
    )
    for column in ('volunteer_id', 'stage', 'reached_at'):
        op.create_index(op.f(f'ix_stage_events_{column}'), 'stage_events', [column])

    with op.batch_alter_table('handoffs') as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('topic', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('assigned_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answered_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('alert_outbox_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('resume_mode', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('closed_by_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rasa_paused_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('rasa_resumed_at', UTC, nullable=True))
        batch_op.create_foreign_key(op.f('fk_handoffs_assigned_account_id_accounts'), 'accounts', ['assigned_account_id'], ['id'])
        batch_op.create_foreign_key(op.f('fk_handoffs_closed_by_account_id_accounts'), 'accounts', ['closed_by_account_id'], ['id'])
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.add_column(sa.Column('attended', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('attendance_marked_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attendance_marked_at', UTC, nullable=True))
        batch_op.create_foreign_key(op.f('fk_bookings_attendance_marked_by_accounts'), 'accounts', ['attendance_marked_by'], ['id'])

    # Back-fill: the stages people have reached today, dated as well as the rows allow.
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT id, 'first_message', created_at FROM volunteers")
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT id, 'name', updated_at FROM volunteers WHERE name IS NOT NULL")
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT id, 'place', updated_at FROM volunteers "
               "WHERE neighborhood_id IS NOT NULL OR zip_code IS NOT NULL")
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT id, 'availability', updated_at FROM volunteers "
               "WHERE availability IS NOT NULL AND CAST(availability AS TEXT) NOT IN ('[]', 'null')")
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT id, 'team', COALESCE(assigned_at, updated_at) "
               "FROM volunteers WHERE team_id IS NOT NULL")
    op.execute("INSERT INTO stage_events (volunteer_id, stage, reached_at) SELECT volunteer_id, 'booked', MIN(created_at) "
               "FROM bookings WHERE status = 'booked' GROUP BY volunteer_id")


def downgrade() -> None:
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.drop_constraint(op.f('fk_bookings_attendance_marked_by_accounts'), type_='foreignkey')
        for column in ('attendance_marked_at', 'attendance_marked_by', 'attended'):
            batch_op.drop_column(column)
    with op.batch_alter_table('handoffs') as batch_op:
        batch_op.drop_constraint(op.f('fk_handoffs_closed_by_account_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_handoffs_assigned_account_id_accounts'), type_='foreignkey')
        for column in ('rasa_resumed_at', 'rasa_paused_at', 'closed_by_account_id', 'resume_mode', 'outcome',
                       'alert_outbox_id', 'answered_at', 'assigned_account_id', 'topic', 'urgent'):
            batch_op.drop_column(column)
    for table in ('stage_events', 'access_log', 'sign_in_failures', 'dashboard_sessions', 'accounts'):
        op.drop_table(table)
