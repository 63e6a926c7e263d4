"""The lease domain: documents, their versioned extractions, cited field values and risk flags."""
from __future__ import annotations

import enum
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

FIELD_NAMES: tuple[str, ...] = (
    "landlord", "tenant", "premises_address", "suite", "leased_area_sqft",
    "commencement_date", "expiration_date", "term_months", "base_rent_monthly",
    "currency", "security_deposit", "renewal_option", "renewal_terms", "governing_law",
    "expense_recovery_type", "free_rent_months", "escalation", "asset_type",
)

RISK_FLAG_TYPES: tuple[str, ...] = (
    "early_termination", "uncapped_operating_expenses", "ambiguous_maintenance",
    "excessive_service_charges", "hidden_fees", "restrictive_use", "non_compete",
    "ambiguous_language", "landlord_termination_right", "tenant_insurance_burden",
    "broad_indemnification", "unfavorable_renewal", "holdover_penalty",
    "sublease_restriction", "assignment_restriction",
)

EXPENSE_RECOVERY_TYPES = ("nnn", "net", "gross", "modified_gross", "base_year")
ASSET_TYPES = ("office", "retail", "industrial", "multifamily", "medical", "mixed_use", "land", "other")


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A fresh opaque identifier (UUID4 string: the web app checks ids contain '-')."""
    return str(uuid.uuid4())


class DocumentStatus(str, enum.Enum):
    """Where a document is in the pipeline."""

    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class FieldStatus(str, enum.Enum):
    """Whether a field was found, absent, or found but below the review threshold."""

    FOUND = "found"
    NOT_FOUND = "not_found"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Citation:
    """Exact words on a 1-based page; start/end are character offsets into that page's text."""

    page: int
    start: int
    end: int
    quote: str
    bbox: tuple[float, float, float, float] | None = None
    document_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (bbox and document only when known)."""
        out: dict[str, Any] = {"page": self.page, "start": self.start, "end": self.end, "quote": self.quote}
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
        if self.document_id is not None:
            out["document_id"] = self.document_id
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Citation":
        """Inverse of to_dict."""
        bbox = d.get("bbox")
        return cls(page=int(d["page"]), start=int(d.get("start", 0)), end=int(d.get("end", 0)),
                   quote=d.get("quote", ""), bbox=tuple(bbox) if bbox else None,
                   document_id=d.get("document_id"))


@dataclass
class FieldValue:
    """One extracted term: normalised value, the raw words, confidence and where it was read."""

    value: Any = None
    raw: str | None = None
    confidence: float = 0.0
    status: FieldStatus = FieldStatus.NOT_FOUND
    citations: list[Citation] = field(default_factory=list)

    @classmethod
    def missing(cls, confidence: float = 0.05) -> "FieldValue":
        """A field the document does not state."""
        return cls(value=None, raw=None, confidence=confidence, status=FieldStatus.NOT_FOUND)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the eval prediction format, plus raw)."""
        return {"value": self.value, "raw": self.raw, "confidence": round(float(self.confidence), 4),
                "status": self.status.value, "citations": [c.to_dict() for c in self.citations]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FieldValue":
        """Inverse of to_dict."""
        return cls(value=d.get("value"), raw=d.get("raw"), confidence=float(d.get("confidence", 0.0)),
                   status=FieldStatus(d.get("status", "not_found")),
                   citations=[Citation.from_dict(c) for c in d.get("citations", [])])


@dataclass
class RentPeriod:
    """One step of the rent schedule (monthly contractual rent before abatement)."""

    start: str | None
    end: str | None
    monthly_rent: float
    annual_psf: float | None = None
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"start": self.start, "end": self.end, "monthly_rent": self.monthly_rent,
                "annual_psf": self.annual_psf, "citations": [c.to_dict() for c in self.citations]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RentPeriod":
        """Inverse of to_dict."""
        return cls(start=d.get("start"), end=d.get("end"), monthly_rent=float(d["monthly_rent"]),
                   annual_psf=d.get("annual_psf"),
                   citations=[Citation.from_dict(c) for c in d.get("citations", [])])


@dataclass
class RiskFlag:
    """A clause a tenant's reviewer should look at, with why and where."""

    type: str
    severity: str = "medium"
    explanation: str = ""
    confidence: float = 0.5
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"type": self.type, "severity": self.severity, "explanation": self.explanation,
                "confidence": round(float(self.confidence), 4),
                "citations": [c.to_dict() for c in self.citations]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RiskFlag":
        """Inverse of to_dict."""
        return cls(type=d["type"], severity=d.get("severity", "medium"), explanation=d.get("explanation", ""),
                   confidence=float(d.get("confidence", 0.5)),
                   citations=[Citation.from_dict(c) for c in d.get("citations", [])])


@dataclass
class Warning_:
    """A non-fatal observation about a document (e.g. rent_mismatch, not_a_lease)."""

    code: str
    message: str
    citations: list[Citation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"code": self.code, "message": self.message, "citations": [c.to_dict() for c in self.citations]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Warning_":
        """Inverse of to_dict."""
        return cls(code=d["code"], message=d.get("message", ""),
                   citations=[Citation.from_dict(c) for c in d.get("citations", [])])


@dataclass
class ExtractionResult:
    """What an extractor returns for one document: every field, the schedule, flags and warnings."""

    fields: dict[str, FieldValue] = field(default_factory=dict)
    rent_schedule: list[RentPeriod] = field(default_factory=list)
    risk_flags: list[RiskFlag] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    kind: str = "lease"  # lease | amendment | not_a_lease
    extractor: str = "rules"
    extractor_version: str = "0"
    usage: dict[str, Any] = field(default_factory=dict)
    reviews: list[dict[str, Any]] = field(default_factory=list)  # audit trail of human corrections and undos

    def field(self, name: str) -> FieldValue:
        """The value of a field, or a not-found placeholder."""
        return self.fields.get(name) or FieldValue.missing()

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the eval prediction format with extra keys."""
        return {
            "kind": self.kind,
            "extractor": self.extractor,
            "extractor_version": self.extractor_version,
            "fields": {name: self.field(name).to_dict() for name in
                       list(FIELD_NAMES) + [n for n in self.fields if n not in FIELD_NAMES]},
            "rent_schedule": [p.to_dict() for p in self.rent_schedule],
            "risk_flags": [f.to_dict() for f in self.risk_flags],
            "warnings": [w.to_dict() for w in self.warnings],
            "usage": self.usage,
            "reviews": self.reviews,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExtractionResult":
        """Inverse of to_dict."""
        return cls(
            fields={k: FieldValue.from_dict(v) for k, v in d.get("fields", {}).items()},
            rent_schedule=[RentPeriod.from_dict(p) for p in d.get("rent_schedule", [])],
            risk_flags=[RiskFlag.from_dict(f) for f in d.get("risk_flags", [])],
            warnings=[Warning_.from_dict(w) for w in d.get("warnings", [])],
            kind=d.get("kind", "lease"), extractor=d.get("extractor", "rules"),
            extractor_version=str(d.get("extractor_version", "0")), usage=d.get("usage", {}),
            reviews=list(d.get("reviews", [])),
        )


@dataclass
class Document:
    """An uploaded file of one organisation and where it is in the pipeline."""

    id: str
    org_id: str
    filename: str
    content_hash: str
    size_bytes: int
    media_type: str
    blob_key: str
    status: DocumentStatus = DocumentStatus.QUEUED
    error_code: str | None = None
    error_message: str | None = None
    page_count: int | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    amends_document_id: str | None = None
    parsed_key: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        d = asdict(self)
        d["status"] = self.status.value
        d["created_at"] = self.created_at.isoformat()
        d["updated_at"] = self.updated_at.isoformat()
        d.pop("blob_key")
        d.pop("parsed_key")
        return d


@dataclass
class Extraction:
    """One stored version of a document's extraction (versions only grow; corrections are versions too)."""

    id: str
    document_id: str
    org_id: str
    version: int
    result: ExtractionResult
    extractor_version: str
    content_hash: str
    created_by: str = "system"
    created_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return {"id": self.id, "document_id": self.document_id, "version": self.version,
                "extractor_version": self.extractor_version, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(), **self.result.to_dict()}


@dataclass
class Organisation:
    """A tenant of Atlas: every row and vector belongs to exactly one."""

    id: str
    name: str
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class ApiKey:
    """A hashed API key of an organisation (the clear key is shown once)."""

    id: str
    org_id: str
    prefix: str
    key_hash: str
    created_at: datetime = field(default_factory=utcnow)
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
