"""/v1 exports: the portfolio abstract as CSV or XLSX, critical dates as ICS, one lease as JSON."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.deps import current_org, require_org, services
from pipeline.domain.errors import NotFound
from pipeline.usecases.exports import latest_records, to_csv, to_ics, to_xlsx

bp = Blueprint("exports", __name__, url_prefix="/v1")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.get("/exports/abstract.csv")
@require_org
def abstract_csv() -> Response:
    """A row per document with its latest extraction (values only)."""
    return _download(to_csv(latest_records(current_org(), uow_factory=services().uow_factory)),
                     "text/csv", "atlas-abstract.csv")


@bp.get("/exports/abstract.xlsx")
@require_org
def abstract_xlsx() -> Response:
    """The same abstract as an Excel workbook."""
    return _download(to_xlsx(latest_records(current_org(), uow_factory=services().uow_factory)),
                     XLSX, "atlas-abstract.xlsx")


@bp.get("/exports/critical-dates.ics")
@require_org
def critical_dates_ics() -> Response:
    """Expirations, renewal-notice deadlines and rent steps as an iCalendar file."""
    org = current_org()
    return _download(to_ics(latest_records(org, uow_factory=services().uow_factory), org_id=org),
                     "text/calendar", "atlas-critical-dates.ics")


@bp.get("/documents/<doc_id>/export.json")
@require_org
def lease_json(doc_id: str) -> Response:
    """One document with its latest extraction (fields with citations, schedule, flags, review trail)."""
    with services().uow_factory() as uow:
        doc = uow.documents.get(current_org(), doc_id)
        ext = uow.extractions.latest(current_org(), doc_id)
    if ext is None:
        raise NotFound(f"document {doc_id} has no extraction yet")
    resp = jsonify({"document": doc.to_dict(), "extraction": ext.to_dict()})
    resp.headers["Content-Disposition"] = f'attachment; filename="{doc_id}.json"'
    return resp
