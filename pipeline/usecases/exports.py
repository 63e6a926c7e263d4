"""Portfolio exports: the abstract as CSV / XLSX (a row per lease), critical dates as an ICS calendar."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable

import icalendar
import openpyxl

from pipeline.domain.model import FIELD_NAMES, Document, Extraction

COLUMNS: tuple[str, ...] = ("document_id", "filename", "kind", "version", "reviewed") + tuple(
    n for n in FIELD_NAMES if n != "escalation") + ("needs_review", "risk_flags")


@dataclass(frozen=True)
class LeaseRecord:
    """One document with its latest extraction."""

    document: Document
    extraction: Extraction


def latest_records(org_id: str, *, uow_factory: Callable) -> list[LeaseRecord]:
    """The organisation's documents that have an extraction, oldest upload first."""
    with uow_factory() as uow:
        extractions = {e.document_id: e for e in uow.extractions.list_latest(org_id)}
        docs = [uow.documents.get(org_id, doc_id) for doc_id in extractions]
    return [LeaseRecord(d, extractions[d.id]) for d in sorted(docs, key=lambda d: (d.created_at, d.id))]


def abstract_row(rec: LeaseRecord) -> dict[str, Any]:
    """The flat abstract of one lease (values only; citations stay in the JSON export)."""
    result = rec.extraction.result
    row: dict[str, Any] = {"document_id": rec.document.id, "filename": rec.document.filename, "kind": result.kind,
                           "version": rec.extraction.version, "reviewed": bool(result.reviews)}
    for name in COLUMNS:
        if name in FIELD_NAMES:
            row[name] = result.field(name).value
    row["needs_review"] = ";".join(n for n in FIELD_NAMES if result.field(n).status.value == "needs_review")
    row["risk_flags"] = ";".join(sorted({f.type for f in result.risk_flags}))
    return row


def _cell(value: Any) -> Any:
    """A spreadsheet-safe value: no formula injection from document text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(records: Iterable[LeaseRecord]) -> str:
    """CSV text with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _cell(v) for k, v in abstract_row(rec).items()})
    return out.getvalue()


def to_xlsx(records: Iterable[LeaseRecord]) -> bytes:
    """An XLSX workbook with one sheet 'Abstract'."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Abstract"
    ws.append(list(COLUMNS))
    for rec in records:
        row = abstract_row(rec)
        ws.append([_cell(row[c]) for c in COLUMNS])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def critical_dates(rec: LeaseRecord) -> list[tuple[date, str, str]]:
    """(date, summary, uid suffix) of a lease's critical dates: expiration, rent steps, renewal notice."""
    result = rec.extraction.result
    name = result.field("tenant").value or rec.document.filename
    out: list[tuple[date, str, str]] = []
    expiry = _date(result.field("expiration_date").value)
    if expiry:
        out.append((expiry, f"Lease expires: {name}", "expiration"))
        notice = _notice_months(result.field("renewal_terms").value)
        if result.field("renewal_option").value and notice:
            out.append((_months_before(expiry, notice), f"Renewal notice deadline ({notice} months): {name}",
                        "renewal-notice"))
    for i, period in enumerate(result.rent_schedule[1:], start=1):
        start = _date(period.start)
        if start:
            out.append((start, f"Rent step to {period.monthly_rent:,.2f}/month: {name}", f"rent-step-{i}"))
    return out


def to_ics(records: Iterable[LeaseRecord], *, org_id: str) -> bytes:
    """An iCalendar (RFC 5545) file with an all-day event per critical date."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Atlas lease abstraction//critical dates//EN")
    cal.add("version", "2.0")
    stamp = datetime.now(timezone.utc)
    for rec in records:
        for day, summary, suffix in critical_dates(rec):
            ev = icalendar.Event()
            ev.add("uid", f"{rec.document.id}-{suffix}@atlas.{org_id}")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", day)
            ev.add("dtend", day + timedelta(days=1))
            ev.add("summary", summary)
            ev.add("description", f"{rec.document.filename} (extraction version {rec.extraction.version})")
            cal.add_component(ev)
    return cal.to_ical()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _notice_months(terms: Any) -> int | None:
    """The notice period in months stated in the renewal terms, when it is stated that way."""
    if not isinstance(terms, str):
        return None
    m = re.search(r"(\d{1,2})\s*(?:\(\w+\)\s*)?months?['’]?\s*(?:prior\s+)?(?:written\s+)?notice", terms, re.I)
    return int(m.group(1)) if m else None


def _months_before(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 - months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(f"no date {months} months before {day}")


def reviewed_records(org_id: str, *, uow_factory: Callable) -> list[LeaseRecord]:
    """Documents whose latest extraction a person has reviewed (corrected at least once)."""
    return [r for r in latest_records(org_id, uow_factory=uow_factory) if r.extraction.result.reviews]


def truth_line(rec: LeaseRecord, file: str, *, amends: str | None = None) -> dict[str, Any]:
    """A reviewed abstract in the truth format of eval/FORMAT.md (evidence from each value's first citation)."""
    result = rec.extraction.result
    fields = {n: result.field(n).value for n in FIELD_NAMES if n != "escalation"}
    evidence = {n: {"page": fv.citations[0].page, "quote": fv.citations[0].quote}
                for n in fields if (fv := result.field(n)).value is not None and fv.citations}
    flags = [{"type": f.type, "page": f.citations[0].page, "quote": f.citations[0].quote}
             for f in result.risk_flags if f.citations]
    schedule = [{"start": p.start, "end": p.end, "monthly_rent": p.monthly_rent} for p in result.rent_schedule]
    reviewers = sorted({r["by"] for r in result.reviews})
    return {"file": file, "kind": result.kind, "fields": fields, "evidence": evidence, "rent_schedule": schedule,
            "risk_flags": flags, "amends": amends,
            "notes": f"exported from Atlas extraction version {rec.extraction.version}; reviewed by "
                     f"{', '.join(reviewers)}; fields not corrected are the extractor's values as accepted"}
