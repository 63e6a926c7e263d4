"""Tables of the legacy web app, on the core `metadata` so one schema (and one migration chain) holds everything."""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String,
                        Table, Text, UniqueConstraint)

from pipeline.adapters.sql_tables import metadata

users = Table(
    "users", metadata,
    # internal key the other tables reference (rows made before 0003_users_per_org: the app's id)
    Column("id", String(128), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("app_id", String(128), nullable=False),  # the app's better-auth user id, unique per organisation
    UniqueConstraint("org_id", "app_id", name="uq_users_org_app_id"),
    UniqueConstraint("org_id", "email", name="uq_users_org_email"),
)

uploads = Table(
    "legacy_uploads", metadata,
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("token", String(400), primary_key=True),  # uploaded_documents/<sha256>/<display name>
    Column("blob_key", String(256), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("filename", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_legacy_uploads_org_name", "org_id", "filename"),
)

registrations = Table(
    "legacy_documents", metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("source_document_id", String(64)),  # the pipeline document when file_path is a known upload
    Column("sharing_type", String(32), nullable=False),
    Column("asset_type", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("ownership_type", String(32), nullable=False),
    Column("license_fee", Float, nullable=False),
    Column("revenue_generated", Float, nullable=False),
    Column("shared_emails", JSON, nullable=False),
    Column("extracted_data", JSON, nullable=False),
    Column("risk_flags", JSON, nullable=False),
    Column("created_at", Float, nullable=False),  # epoch seconds, as the app reads them
    Column("updated_at", Float, nullable=False),
    Index("ix_legacy_documents_user_created", "user_id", "created_at"),
    Index("ix_legacy_documents_org", "org_id"),
)

activities = Table(
    "blockchain_activities", metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", String(64), ForeignKey("legacy_documents.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("block_number", Integer, nullable=False),
    Column("prev_hash", String(66), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("action", String(64), nullable=False),
    Column("activity_type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_name", String(200)),
    Column("details", Text, nullable=False),
    Column("extra_data", JSON, nullable=False),
    Column("revenue_impact", Float, nullable=False),
    Column("gas_used", Integer, nullable=False),
    Column("timestamp", Float, nullable=False),
    UniqueConstraint("org_id", "block_number", name="uq_activities_org_block"),
)

ledger_heads = Table(
    "ledger_heads", metadata,
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("block_number", Integer, nullable=False),
    Column("tx_hash", String(66), nullable=False),
)

drive_credentials = Table(
    "google_drive_credentials", metadata,
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"),
           primary_key=True),
    Column("token_ciphertext", LargeBinary, nullable=False),  # Fernet token of the OAuth credentials JSON
    Column("user_email", String(320)),
    Column("display_name", String(200)),
    Column("revoked", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

drive_oauth_states = Table(  # sign-ins started and not yet finished: one use each, then deleted
    "google_drive_oauth_states", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

drive_files = Table(
    "google_drive_files", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    Column("org_id", String(64), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("drive_file_id", String(200), nullable=False),
    Column("drive_file_name", Text, nullable=False),
    Column("mime_type", String(200)),
    Column("file_size", Integer),
    Column("drive_modified_time", DateTime(timezone=True)),
    Column("last_synced", DateTime(timezone=True)),
    Column("local_file_path", Text),
    Column("web_view_link", Text),
    Column("parent_folder_id", String(200)),
    Column("document_id", String(64)),
    Column("index_status", String(16), nullable=False),
    Column("index_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "drive_file_id", name="uq_drive_files_user_file"),
)

drive_syncs = Table(
    "google_drive_syncs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False,
           index=True),
    Column("sync_type", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("files_processed", Integer, nullable=False),
    Column("files_failed", Integer, nullable=False),
    Column("error_message", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
)
