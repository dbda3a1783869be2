"""a second step for dashboard sign-ins (#25): an account's TOTP secret and last accepted step,
its one-time recovery codes (argon2 hashes), sign-ins waiting for their code, and the roles
that must have it

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import campaign.models.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UTC = campaign.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_pending_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('totp_enrolled_at', UTC, nullable=True))
    op.create_table('sign_in_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('ended_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sign_in_steps_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_steps')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_steps_token_hash')),
    )
    op.create_index(op.f('ix_sign_in_steps_account_id'), 'sign_in_steps', ['account_id'])
    op.create_table('recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=200), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('used_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_recovery_codes_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    op.create_index(op.f('ix_recovery_codes_account_id'), 'recovery_codes', ['account_id'])
    op.create_table('second_factor_required',
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('since', UTC, nullable=False),
        sa.PrimaryKeyConstraint('role', name=op.f('pk_second_factor_required')),
    )


def downgrade() -> None:
    for table in ('second_factor_required', 'recovery_codes', 'sign_in_steps'):
        op.drop_table(table)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        for column in ('totp_enrolled_at', 'totp_last_step', 'totp_pending_secret', 'totp_secret'):
            batch_op.drop_column(column)
