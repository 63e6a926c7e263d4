"""Optional capability modules: imported when present, skipped when the module itself is absent."""
from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(module: str) -> ModuleType | None:
    """The imported module, or None when it (or a parent package) is missing; other import errors propagate."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # a missing dependency *inside* a present module is a real error, not an absent capability
        if exc.name is None or not module.startswith(exc.name):
            raise
        return None
