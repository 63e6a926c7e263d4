"""legacy web app tables: users, registrations, the activity ledger, uploads and Google Drive

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:31:50.099033
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_heads',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('block_number', sa.Integer(), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_table('legacy_uploads',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=400), nullable=False),
    sa.Column('blob_key', sa.String(length=256), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'token')
    )
    with op.batch_alter_table('legacy_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_uploads_org_name', ['org_id', 'filename'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_id'), ['org_id'], unique=False)

    op.create_table('google_drive_credentials',
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('token_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('user_email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('google_drive_files',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('drive_file_id', sa.String(length=200), nullable=False),
    sa.Column('drive_file_name', sa.Text(), nullable=False),
    sa.Column('mime_type', sa.String(length=200), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('drive_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_synced', sa.DateTime(timezone=True), nullable=True),
    sa.Column('local_file_path', sa.Text(), nullable=True),
    sa.Column('web_view_link', sa.Text(), nullable=True),
    sa.Column('parent_folder_id', sa.String(length=200), nullable=True),
    sa.Column('document_id', sa.String(length=64), nullable=True),
    sa.Column('index_status', sa.String(length=16), nullable=False),
    sa.Column('index_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'drive_file_id', name='uq_drive_files_user_file')
    )
    op.create_table('google_drive_syncs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('sync_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('files_processed', sa.Integer(), nullable=False),
    sa.Column('files_failed', sa.Integer(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('google_drive_syncs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_google_drive_syncs_user_id'), ['user_id'], unique=False)

    op.create_table('legacy_documents',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('file_path', sa.Text(), nullable=False),
    sa.Column('source_document_id', sa.String(length=64), nullable=True),
    sa.Column('sharing_type', sa.String(length=32), nullable=False),
    sa.Column('asset_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('ownership_type', sa.String(length=32), nullable=False),
    sa.Column('license_fee', sa.Float(), nullable=False),
    sa.Column('revenue_generated', sa.Float(), nullable=False),
    sa.Column('shared_emails', sa.JSON(), nullable=False),
    sa.Column('extracted_data', sa.JSON(), nullable=False),
    sa.Column('risk_flags', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legacy_documents', schema=None) as batch_op:
        batch_op.create_index('ix_legacy_documents_org', ['org_id'], unique=False)
        batch_op.create_index('ix_legacy_documents_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('blockchain_activities',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('block_number', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=66), nullable=False),
    sa.Column('tx_hash', sa.String(length=66), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('activity_type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('extra_data', sa.JSON(), nullable=False),
    sa.Column('revenue_impact', sa.Float(), nullable=False),
    sa.Column('gas_used', sa.Integer(), nullable=False),
    sa.Column('timestamp', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['legacy_documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'block_number', name='uq_activities_org_block')
    )
    with op.batch_alter_table('blockchain_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blockchain_activities_document_id'), ['document_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('blockchain_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blockchain_activities_document_id'))

    op.drop_table('blockchain_activities')
    with op.batch_alter_table('legacy_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_documents_user_created')
        batch_op.drop_index('ix_legacy_documents_org')

    op.drop_table('legacy_documents')
    with op.batch_alter_table('google_drive_syncs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_google_drive_syncs_user_id'))

    op.drop_table('google_drive_syncs')
    op.drop_table('google_drive_files')
    op.drop_table('google_drive_credentials')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_org_id'))

    op.drop_table('users')
    with op.batch_alter_table('legacy_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_legacy_uploads_org_name')

    op.drop_table('legacy_uploads')
    op.drop_table('ledger_heads')
