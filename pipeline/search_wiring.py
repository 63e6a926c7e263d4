"""Wiring of the search side (embedder, vector index) into the worker; replaced once the index use cases land."""
from __future__ import annotations

from typing import Callable

from pipeline.bootstrap import Services
from pipeline.domain.events import Event


def index_handlers(svc: Services) -> dict[str, Callable[[Event], None]]:
    """Handlers for extraction.completed and document.deleted (none until the search issue lands)."""
    return {}
