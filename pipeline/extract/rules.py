"""The offline rule-based extractor: deterministic, no network, every value cited on its page."""
from __future__ import annotations

import logging
import time

from pipeline.domain.model import (FIELD_NAMES, ExtractionResult, FieldStatus, FieldValue, RentPeriod, RiskFlag,
                                   Warning_)
from pipeline.extract import amendments, confidence, dates, flags, parties, premises, rent, terms
from pipeline.extract.doctext import DocText, Hit
from pipeline.extract.normalise import day_first_by_context
from pipeline.extract.verify import grounded_citations
from pipeline.parse.classify import classify_document
from pipeline.parse.model import ParsedDocument

log = logging.getLogger(__name__)

VERSION = "rules-2"  # bumped with the #13 rules rework: stored rules-1 extractions are re-extracted


class RuleExtractor:
    """Lease terms, rent schedule and risk flags from regular-expression rules over the page text."""

    name = "rules"
    version = VERSION

    def __init__(self, review_threshold: float = 0.6):
        self.review_threshold = review_threshold

    def extract(self, doc: ParsedDocument) -> ExtractionResult:
        """Extract every field with citations, the rent schedule, risk flags and warnings."""
        t0 = time.perf_counter()
        dt = DocText(doc)
        result = ExtractionResult(extractor=self.name, extractor_version=self.version)
        if not dt.text.strip():
            result.fields = {n: FieldValue.missing() for n in FIELD_NAMES}
            result.warnings.append(Warning_("no_text", "The document has no readable text."))
            return result
        verdict = classify_document(doc)
        kind = verdict.kind
        result.kind = kind
        if kind == "not_a_lease":
            # no invented terms: a document that is not a lease gets no fields, no schedule and no flags
            result.fields = {n: FieldValue.missing(0.02) for n in FIELD_NAMES}
            result.warnings.append(Warning_("not_a_lease", f"Not a lease ({verdict.reason}); no terms extracted."))
            return result

        day_first = day_first_by_context(dt.text)
        hits: dict[str, Hit | None] = {}
        hits["landlord"] = parties.extract_party(dt, "landlord")
        hits["tenant"] = parties.extract_party(dt, "tenant")
        address = premises.extract_address(dt)
        hits["premises_address"] = address
        hits["suite"] = premises.extract_suite(dt, address.start if address else None)
        area = premises.extract_area(dt)
        hits["leased_area_sqft"] = area
        commencement = dates.extract_commencement(dt, day_first)
        term = dates.extract_term(dt)
        hits["commencement_date"] = commencement
        hits["term_months"] = term
        hits["expiration_date"] = dates.extract_expiration(dt, commencement, term, day_first)
        if kind == "amendment":
            for name in amendments.AMENDMENT_NULL_FIELDS:
                hits[name] = None
        exp = hits["expiration_date"]
        rf = rent.analyse_rent(dt, area, commencement.value if commencement and kind == "lease" else None,
                               exp.value if exp else None, term.value if term and kind == "lease" else None, day_first)
        hits["base_rent_monthly"] = rf.base
        hits["free_rent_months"] = rf.free_months
        hits["escalation"] = rf.escalation
        hits["currency"] = terms.extract_currency(dt, rf.base)
        deposit = terms.extract_deposit(dt)
        hits["security_deposit"] = deposit
        # an amendment filed after the lease describes later terms: the original lease's own options come first
        option, renewal_terms = terms.extract_renewal(dt, amendments.appended_amendment_start(dt) if kind == "lease" else None)
        hits["renewal_option"] = option
        hits["renewal_terms"] = renewal_terms if option is not None and option.value else None
        hits["governing_law"] = terms.extract_governing_law(dt, address)
        if kind == "lease" or hits.get("expense_recovery_type", None) is not None:
            hits["expense_recovery_type"] = terms.extract_expense_type(dt)
        hits["asset_type"] = terms.extract_asset_type(dt)

        for name in list(FIELD_NAMES):
            result.fields[name] = self._field(dt, name, hits.get(name))
        loc = terms.letter_of_credit(dt)
        if loc is not None and result.fields["security_deposit"].status == FieldStatus.NOT_FOUND:
            c = grounded_citations(dt, [(loc.start, loc.end)])
            result.fields["security_deposit"].raw = "letter of credit: " + (c[0].quote if c else "")

        for s_iso, e_iso, monthly, psf, spans in rf.schedule:
            result.rent_schedule.append(RentPeriod(start=s_iso, end=e_iso, monthly_rent=monthly, annual_psf=psf,
                                                   citations=grounded_citations(dt, spans)))
        for message, spans in rf.mismatches:
            result.warnings.append(Warning_("rent_mismatch", message, grounded_citations(dt, spans)))

        for fh in flags.find_flags(dt):
            cites = grounded_citations(dt, [(fh.start, fh.end)])
            if not cites:
                continue
            result.risk_flags.append(RiskFlag(type=fh.rule.type, severity=fh.rule.severity,
                                              explanation=fh.rule.explanation, confidence=fh.rule.confidence,
                                              citations=cites))
        result.usage = {"seconds": round(time.perf_counter() - t0, 4), "chars": len(dt.text)}
        return result

    def _field(self, dt: DocText, name: str, hit: Hit | None) -> FieldValue:
        if hit is None or hit.value is None:
            return FieldValue.missing(confidence.NOT_FOUND_CONFIDENCE)
        cites = grounded_citations(dt, [(hit.start, hit.end)] + list(hit.extra))
        if not cites or cites[0].quote.strip() == "":
            log.debug("dropping %s: its quote could not be located", name)
            return FieldValue.missing(confidence.NOT_FOUND_CONFIDENCE)
        raw = hit.raw if hit.raw is not None else cites[0].quote
        fv = FieldValue(value=hit.value, raw=" ".join(raw.split())[:300], confidence=confidence.calibrate(name, hit.score),
                        status=FieldStatus.FOUND, citations=cites)
        return confidence.apply_threshold(fv, self.review_threshold)
