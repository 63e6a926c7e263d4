"""Routes of the existing Atlas web app, at the root paths it calls (see ../shared/COMPAT.md)."""
from api.legacy import document_routes, drive_routes, errors, extraction_routes  # noqa: F401  (registers the routes)
from api.legacy.blueprint import bp

__all__ = ["bp"]
