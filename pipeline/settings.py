"""One settings object, read from the environment (and a local .env) once and passed down."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


LOOPBACK = ("127.0.0.1", "::1", "localhost")  # where unauthenticated legacy calls may be trusted


class UnsafeSettings(RuntimeError):
    """Production refuses to start; the message names the setting."""


class Settings(BaseSettings):
    """Every knob of Atlas; field names map to environment variables (seed names kept)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False, populate_by_name=True)

    # runtime
    flask_env: str = Field("development", alias="FLASK_ENV")
    runtime: Literal["embedded", "gcp"] = Field("embedded", alias="ATLAS_RUNTIME")
    data_dir: Path = Field(Path("var"), alias="ATLAS_DATA_DIR")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("ATLAS_HOST", "INDEX_SERVER_HOST"),
                      alias="ATLAS_HOST")
    index_server_port: int = Field(5602, alias="INDEX_SERVER_PORT")
    port: int = Field(5601, alias="PORT")
    debug: bool = Field(False, alias="ATLAS_DEBUG")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    worker_threads: int = Field(1, alias="ATLAS_WORKER_THREADS")
    embedded_worker: bool = Field(True, alias="ATLAS_EMBEDDED_WORKER")
    single_box: bool = Field(False, alias="ATLAS_SINGLE_BOX")

    # security
    # the old backend's index-server authkey: accepted so old environments load, used by nothing (no index server)
    index_server_key: str | None = Field(None, alias="INDEX_SERVER_KEY")
    api_key_pepper: str = Field("atlas-dev-pepper-not-for-production", alias="ATLAS_API_KEY_PEPPER")
    cors_origins: str = Field("http://localhost:3000,http://localhost:3001", alias="CORS_ORIGINS")
    legacy_api: bool = Field(True, alias="ATLAS_LEGACY_API")
    legacy_trust_user_id: bool = Field(False, alias="ATLAS_LEGACY_TRUST_USER_ID")
    rate_limit_per_minute: int = Field(600, alias="ATLAS_RATE_LIMIT_PER_MINUTE")
    # memory:// is per process; several instances share limits through e.g. redis://host:6379
    rate_limit_storage_uri: str = Field("memory://", alias="ATLAS_RATE_LIMIT_STORAGE_URI")
    shutdown_grace_s: float = Field(20.0, alias="ATLAS_SHUTDOWN_GRACE_S")

    # postgres (seed names)
    postgres_host: str | None = Field(None, alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, alias="POSTGRES_PORT")
    postgres_user: str | None = Field(None, alias="POSTGRES_USER")
    postgres_password: str | None = Field(None, alias="POSTGRES_PASSWORD")
    postgres_db: str | None = Field(None, alias="POSTGRES_DB")
    instance_connection_name: str | None = Field(None, alias="INSTANCE_CONNECTION_NAME")
    db_iam_auth: bool = Field(False, alias="DB_IAM_AUTH")
    db_pool_size: int = Field(5, alias="DB_POOL_SIZE")

    # limits
    max_upload_bytes: int = Field(50 * 1024 * 1024, alias="ATLAS_MAX_UPLOAD_BYTES")
    max_pages: int = Field(1000, alias="ATLAS_MAX_PAGES")
    max_page_pixels: int = Field(60_000_000, alias="ATLAS_MAX_PAGE_PIXELS")
    parse_timeout_s: float = Field(300.0, alias="ATLAS_PARSE_TIMEOUT_S")
    max_text_chars: int = Field(20_000_000, alias="ATLAS_MAX_TEXT_CHARS")
    ocr_workers: int = Field(2, alias="ATLAS_OCR_WORKERS")

    # extraction / LLM
    extractor: Literal["rules", "llm"] = Field("rules", alias="ATLAS_EXTRACTOR")
    review_threshold: float = Field(0.6, alias="ATLAS_REVIEW_THRESHOLD")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    llm_timeout_s: float = Field(60.0, alias="ATLAS_LLM_TIMEOUT_S")
    llama_cloud_api_key: str | None = Field(None, alias="LLAMA_CLOUD_API_KEY")
    embedder: Literal["minilm", "openai"] = Field("minilm", alias="ATLAS_EMBEDDER")
    # onnx-int8: MiniLM built locally to int8 ONNX on first use (checked against fp32, else torch); torch: as shipped
    embed_runtime: Literal["onnx-int8", "torch"] = Field("onnx-int8", alias="ATLAS_EMBED_RUNTIME")
    # built models, shared by every data directory of the machine (one build per model version, not per data dir)
    embed_cache_dir: Path = Field(Path.home() / ".cache" / "atlas", alias="ATLAS_EMBED_CACHE_DIR")

    # observability
    phoenix_collector_endpoint: str | None = Field(None, alias="PHOENIX_COLLECTOR_ENDPOINT")
    phoenix_client_headers: str | None = Field(None, alias="PHOENIX_CLIENT_HEADERS")

    # google cloud
    gcp_project: str | None = Field(None, alias="GOOGLE_CLOUD_PROJECT")
    gcs_bucket: str | None = Field(None, alias="ATLAS_GCS_BUCKET")
    pubsub_topic_prefix: str = Field("atlas", alias="ATLAS_PUBSUB_TOPIC_PREFIX")
    gcp_region: str = Field("europe-west1", alias="ATLAS_GCP_REGION")
    extract_job_name: str = Field("atlas-extract", alias="ATLAS_EXTRACT_JOB")
    index_job_name: str = Field("atlas-index", alias="ATLAS_INDEX_JOB")
    chroma_dir: Path | None = Field(None, alias="ATLAS_CHROMA_DIR")

    # webhooks: private/loopback/plain-http endpoints only when allowed (default: outside production)
    webhook_allow_private: bool | None = Field(None, alias="ATLAS_WEBHOOK_ALLOW_PRIVATE")

    # legacy web app
    legacy_wait_s: float = Field(100.0, alias="ATLAS_LEGACY_WAIT_S")
    # requests waiting on the pipeline at once (each holds an HTTP thread); must stay below `serve --threads`
    legacy_max_waits: int = Field(4, alias="ATLAS_LEGACY_MAX_WAITS", ge=1)
    google_client_id: str | None = Field(None, alias="GOOGLE_CLIENT_ID")
    google_client_secret: str | None = Field(None, alias="GOOGLE_CLIENT_SECRET")
    google_redirect_uri: str = Field("http://localhost:5601/api/google-drive/auth/callback",
                                     alias="GOOGLE_REDIRECT_URI")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @property
    def is_production(self) -> bool:
        """FLASK_ENV=production."""
        return self.flask_env.lower() == "production"

    @property
    def webhooks_may_call_private(self) -> bool:
        """ATLAS_WEBHOOK_ALLOW_PRIVATE, defaulting to true in development and false in production."""
        return (not self.is_production) if self.webhook_allow_private is None else self.webhook_allow_private

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS split on commas."""
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL, else POSTGRES_* , else SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        if self.instance_connection_name:
            return "postgresql+pg8000://"  # the Cloud SQL connector supplies connections (bootstrap)
        if self.postgres_host and self.postgres_db:
            auth = self.postgres_user or "postgres"
            if self.postgres_password:
                auth += f":{self.postgres_password}"
            return (f"postgresql+pg8000://{auth}@{self.postgres_host}:{self.postgres_port}/"
                    f"{self.postgres_db}")
        return f"sqlite:///{self.data_dir / 'atlas.db'}"

    @property
    def chroma_path(self) -> Path:
        """Where Chroma generations live."""
        return self.chroma_dir or (self.data_dir / "chroma")

    def check_production(self) -> None:
        """Refuse unsafe settings when FLASK_ENV=production; names the offending setting."""
        if not self.is_production:
            return
        problems = []
        if self.api_key_pepper == Settings.model_fields["api_key_pepper"].default or len(self.api_key_pepper) < 16:
            problems.append("ATLAS_API_KEY_PEPPER must be set to a secret of at least 16 characters")
        if "*" in self.cors_origin_list:
            problems.append("CORS_ORIGINS must not contain '*' (credentials are allowed)")
        if self.debug:
            problems.append("ATLAS_DEBUG must be off")
        if self.sqlalchemy_url.startswith("sqlite") and not self.single_box:
            problems.append("DATABASE_URL/POSTGRES_* must point at Postgres, not SQLite "
                            "(set ATLAS_SINGLE_BOX=true for the one-container deployment)")
        if self.google_client_id and self.legacy_api and (
                not self.google_redirect_uri.startswith("https://")
                or self.google_redirect_uri == Settings.model_fields["google_redirect_uri"].default):
            problems.append("GOOGLE_REDIRECT_URI must be the public https:// callback of this API "
                            "(…/api/google-drive/auth/callback), not the localhost default")
        if self.legacy_trust_user_id and self.host not in LOOPBACK:
            problems.append("ATLAS_LEGACY_TRUST_USER_ID must be off on a public address")
        if problems:
            raise UnsafeSettings("refusing to start in production: " + "; ".join(problems))

    def check_bind(self, host: str) -> None:
        """Refuse, in production, to serve unauthenticated legacy calls on any address but loopback's own."""
        if self.is_production and self.legacy_trust_user_id and host not in LOOPBACK:
            raise UnsafeSettings(f"refusing to start in production: ATLAS_LEGACY_TRUST_USER_ID must be off when "
                                 f"binding {host} (allowed only on {', '.join(LOOPBACK)})")


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides (tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
