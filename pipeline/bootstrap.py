"""Composition root: the only place that picks embedded or cloud adapters."""
from __future__ import annotations

import functools
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """The ports and settings a process needs; built once, passed down explicitly."""

    settings: Settings
    engine: Any
    uow_factory: Callable
    blobs: Any
    queue: Any
    bus: Any
    parse: Callable
    check_upload: Callable
    extractor: Any
    classify: Callable | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def lazy(self, name: str, factory: Callable[[], Any]) -> Any:
        """A component built on first use (embedder, vector index) and kept; built once even across threads."""
        if name not in self.extras:
            with self._lock:
                if name not in self.extras:
                    self.extras[name] = factory()
        return self.extras[name]


def quiet_third_parties(settings: Settings | None = None) -> None:
    """Offline defaults that must hold before heavy libraries are imported (caches stay in the data dir)."""
    if settings is not None:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(settings.data_dir / "cache" / "torchinductor"))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build_extractor(settings: Settings) -> Any:
    """The configured extractor: rules (default) or the LLM with rules as fallback."""
    from pipeline.extract.rules import RuleExtractor

    rules = RuleExtractor(review_threshold=settings.review_threshold)
    if settings.extractor == "llm":
        from pipeline.extract.llm import build_llm_extractor

        return build_llm_extractor(settings, fallback=rules)
    return rules


def build(settings: Settings, *, migrate: bool = False) -> Services:
    """Wire the adapters for the configured runtime."""
    quiet_third_parties(settings)
    from pipeline.adapters.sql_engine import make_engine
    from pipeline.adapters.sql_engine import migrate as run_migrations
    from pipeline.adapters.sql_uow import SqlEventQueue, SqlUnitOfWorkFactory
    from pipeline.parse import ParseLimits, parse_document
    from pipeline.parse.classify import classify_lease
    from pipeline.parse.formats import check_upload

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    limits = ParseLimits(max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages,
                         max_page_pixels=settings.max_page_pixels, timeout_s=settings.parse_timeout_s,
                         max_text_chars=settings.max_text_chars, ocr_workers=settings.ocr_workers)
    creator = None
    url = settings.sqlalchemy_url
    if settings.runtime == "gcp" and settings.instance_connection_name:
        from pipeline.adapters.cloudsql_engine import cloudsql_creator, engine_url

        creator = cloudsql_creator(settings)
        url = engine_url(settings)  # the connector supplies host, user and database
    engine = make_engine(url, pool_size=settings.db_pool_size, creator=creator)
    if migrate:
        run_migrations(engine)
    uow_factory = SqlUnitOfWorkFactory(engine)
    queue = SqlEventQueue(engine)

    if settings.runtime == "gcp":
        from pipeline.adapters.gcs_blobstore import GcsBlobStore
        from pipeline.adapters.pubsub_bus import PubSubEventBus

        blobs: Any = GcsBlobStore.from_settings(settings)
        bus: Any = PubSubEventBus.from_settings(settings)
    else:
        from pipeline.adapters.fs_blobstore import FsBlobStore

        blobs = FsBlobStore(settings.data_dir / "blobs")
        bus = queue  # embedded: the outbox table is the queue
    return Services(
        settings=settings, engine=engine, uow_factory=uow_factory, blobs=blobs, queue=queue, bus=bus,
        parse=functools.partial(parse_document, limits=limits),
        check_upload=functools.partial(check_upload, limits=limits),
        extractor=build_extractor(settings), classify=classify_lease,
    )
