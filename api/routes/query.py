"""/v1/query (questions over the caller's leases, with cited sources) and /v1/leases (portfolio filter)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request

from api.deps import current_org, require_org, services
from pipeline.domain.errors import NotFound, ValidationFailed
from pipeline.index.conditions import asset_type_is, governed_by, renewal_option
from pipeline.index.portfolio import SORT_KEYS, filter_leases
from pipeline.usecases.ask import ask

bp = Blueprint("query", __name__, url_prefix="/v1")
MAX_QUESTION_CHARS = 2000


def _retriever():  # type: ignore[no-untyped-def]
    from pipeline.adapters.chroma_search import build_retriever

    svc = services()
    return svc.lazy("retriever", lambda: build_retriever(svc.settings))


@bp.post("/query")
@require_org
def query() -> Response:
    """Answer {question, document_ids?, top_k?} from the caller's documents: answer, mode and sources."""
    from pipeline.adapters.chroma_search import build_llm, extractions_lookup

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("send a JSON object with a 'question'")
    question = body.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
        raise ValidationFailed(f"'question' must be a non-empty string of at most {MAX_QUESTION_CHARS} characters")
    doc_ids = body.get("document_ids")
    if doc_ids is not None and (not isinstance(doc_ids, list) or not all(isinstance(d, str) for d in doc_ids)
                                or len(doc_ids) > 500):
        raise ValidationFailed("'document_ids' must be a list of at most 500 document ids")
    top_k = body.get("top_k", 5)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 50:
        raise ValidationFailed("'top_k' must be an integer between 1 and 50")
    svc = services()
    org = current_org()
    if doc_ids:
        with svc.uow_factory() as uow:
            for d in doc_ids:
                uow.documents.get(org, d)  # NotFound (404) for unknown or another organisation's ids
    answer = ask(org, question, document_ids=doc_ids, top_k=top_k, retriever=_retriever(),
                 extractions_lookup=extractions_lookup(svc.uow_factory),
                 llm=svc.lazy("answer_llm", lambda: build_llm(svc.settings)))
    return jsonify(answer.to_dict())


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"'{name}' must be a date YYYY-MM-DD") from exc


def _float_arg(name: str) -> float | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ValidationFailed(f"'{name}' must be a number") from exc


@bp.get("/leases")
@require_org
def leases() -> Response:
    """The caller's leases filtered by expiry window, monthly rent range, risk flags, governing law, asset type
    and renewal option (the conditions portfolio questions are parsed into), sorted."""
    from pipeline.domain.model import ASSET_TYPES, RISK_FLAG_TYPES

    conditions = []
    if request.args.get("governing_law"):
        conditions.append(governed_by(request.args["governing_law"]))
    asset = request.args.get("asset_type")
    if asset:
        if asset not in ASSET_TYPES:
            raise ValidationFailed(f"'asset_type' must be one of {', '.join(ASSET_TYPES)}")
        conditions.append(asset_type_is(asset))
    if request.args.get("renewal_option") is not None:
        if request.args["renewal_option"] != "true":
            raise ValidationFailed("'renewal_option' can only be 'true'")
        conditions.append(renewal_option())

    flags = request.args.getlist("flag")
    unknown = [f for f in flags if f not in RISK_FLAG_TYPES]
    if unknown:
        raise ValidationFailed(f"unknown flag {unknown[0]!r}")
    sort = request.args.get("sort", "expiration_date")
    if sort.lstrip("-") not in SORT_KEYS:
        raise ValidationFailed(f"'sort' must be one of {', '.join(SORT_KEYS)} (prefix - for descending)")
    org = current_org()
    rows = []
    with services().uow_factory() as uow:
        for ext in uow.extractions.list_latest(org):
            try:
                doc = uow.documents.get(org, ext.document_id)
            except NotFound:
                continue
            rows.append((doc, ext.result))
    kept = filter_leases(rows, expires_before=_date_arg("expires_before"), expires_after=_date_arg("expires_after"),
                         min_rent=_float_arg("min_rent"), max_rent=_float_arg("max_rent"), flag=flags or None,
                         conditions=conditions, sort=sort)
    out = []
    for doc, result in kept:
        out.append({"document_id": doc.id, "filename": doc.filename, "kind": result.kind,
                    "tenant": result.field("tenant").value, "premises_address": result.field("premises_address").value,
                    "expiration_date": result.field("expiration_date").value,
                    "base_rent_monthly": result.field("base_rent_monthly").value,
                    "currency": result.field("currency").value,
                    "risk_flags": sorted({f.type for f in result.risk_flags})})
    return jsonify({"leases": out, "count": len(out)})
