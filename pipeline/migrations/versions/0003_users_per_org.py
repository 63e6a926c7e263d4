"""legacy users per organisation (the app's user id and the email unique within one), Drive sign-in attempts

users.id stays the primary key the other tables reference, now an internal key; the app's id moves to app_id
(existing rows: app_id = id). Two organisations may each have a user "alice" with alice@example.com.
google_drive_oauth_states holds each started Google sign-in (PKCE verifier) until its one callback.

Revision ID: 0003_users_per_org
Revises: 0002
Create Date: 2026-12-02 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_users_per_org'
down_revision = '0002'
branch_labels = None
depends_on = None


def _users_0002() -> sa.Table:
    """users as 0002 made it, minus the unnamed UNIQUE(email) (SQLite cannot drop it by name: the table is copied)."""
    return sa.Table(
        'users', sa.MetaData(),
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('org_id', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.Index('ix_users_org_id', 'org_id'),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        with op.batch_alter_table('users', copy_from=_users_0002(), recreate='always') as batch_op:
            batch_op.add_column(sa.Column('app_id', sa.String(length=128), nullable=True))
    else:
        op.drop_constraint('users_email_key', 'users', type_='unique')
        op.add_column('users', sa.Column('app_id', sa.String(length=128), nullable=True))
    op.execute("UPDATE users SET app_id = id")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('app_id', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint('uq_users_org_app_id', ['org_id', 'app_id'])
        batch_op.create_unique_constraint('uq_users_org_email', ['org_id', 'email'])
    op.create_table('google_drive_oauth_states',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('nonce')
    )


def downgrade() -> None:
    op.drop_table('google_drive_oauth_states')
    # only possible while no two organisations share an email or an app id
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_org_email', type_='unique')
        batch_op.drop_constraint('uq_users_org_app_id', type_='unique')
        batch_op.drop_column('app_id')
        batch_op.create_unique_constraint('users_email_key', ['email'])
