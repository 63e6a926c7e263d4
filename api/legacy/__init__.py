"""Routes of the existing Atlas web app, at the root paths it calls (see ../shared/COMPAT.md)."""
from api.legacy import (  # noqa: F401  (registers the routes)
    document_routes, drive_routes, errors, extraction_routes, file_routes, key_terms_routes, ledger_routes,
    query_routes)
from api.legacy.blueprint import bp

__all__ = ["bp"]
