"""What the index should hold, read from the database: every document's status and latest extraction id."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pipeline.adapters import sql_tables as t
from pipeline.usecases.index import DocumentState, Key


def document_state(engine: Any) -> dict[Key, DocumentState]:
    """(organisation, document) → status and latest extraction id ("" without one), for every document."""
    d, e = t.documents, t.extractions
    latest = (select(e.c.document_id, func.max(e.c.version).label("v")).group_by(e.c.document_id).subquery())
    ext = (select(e.c.document_id, e.c.id).join(latest, (e.c.document_id == latest.c.document_id)
                                                & (e.c.version == latest.c.v)).subquery())
    q = select(d.c.org_id, d.c.id, d.c.status, ext.c.id.label("extraction_id")).outerjoin(
        ext, ext.c.document_id == d.c.id)
    with engine.connect() as conn:
        return {(r.org_id, r.id): DocumentState(status=r.status, version=r.extraction_id or "")
                for r in conn.execute(q)}
