"""Rent math in code: schedule tables, monthly/annual/per-RSF statements, % escalations, abatement, mismatch checks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pipeline.extract import clauses
from pipeline.extract.doctext import DocText, Hit
from pipeline.extract.premises import SQM_TO_SQFT
from pipeline.extract.normalise import (COUNT_RE, MONEY_RE, add_months, end_of_term, find_dates, find_money,
                                        parse_count, parse_percent, round_cents)

_DATE_ANY = (r"(?:(?:the\s+)?[0-3]?\d(?:st|nd|rd|th)?\s+day\s+of\s+[A-Z][a-z]+\.?,?\s+\d{4}|[A-Z][a-z]+\.?\s+[0-3]?\d(?:st|nd|rd|th)?,?\s+\d{4}|"
             r"[0-3]?\d\s+[A-Z][a-z]+,?\s+\d{4}|[01]?\d/[0-3]?\d/\d{4}|\d{4}-\d\d-\d\d)")
_MONEY = r"(?:US\$|C\$|CA\$|USD|CAD|GBP|EUR|£|€|\$|PS(?=\d))\s?\d[\d,]*(?:\.\d{1,2})?"
_ROW_RE = re.compile(
    rf"(?P<period>(?P<d1>{_DATE_ANY})\s*(?:-|to|through|thru)\s*(?P<d2>{_DATE_ANY})"
    rf"|(?:Months?|Mos\.?)\s+(?P<m1>\d+)\s*(?:-|to|through)\s*(?P<m2>\d+)"
    rf"|(?:Lease\s+|Rental\s+)?Years?\s+(?P<y1>\d+)(?:\s*(?:-|to|through)\s*(?P<y2>\d+))?)"
    rf"\s*[:\-]?\s*(?P<amt>{_MONEY})(?P<psfmark>\s*(?:per\s+(?:rentable\s+)?(?:square\s+foot|sq\.?\s*ft\.?|RSF|SF)|/\s*RSF|psf))?"
    rf"(?:\s+(?P<amt2>{_MONEY}))?", re.I)

_BASIS_PSF = re.compile(r"per\s+(?:rentable\s+|usable\s+)?(?:square\s+(?:foot|feet)|sq\.?\s*ft|rsf|sf)\b|psf|/\s*rsf|rate\s+per", re.I)
_BASIS_ANNUAL = re.compile(r"annual|per\s+annum|per\s+year|yearly|annually|a\s+year", re.I)
_BASIS_MONTHLY = re.compile(r"monthly|per\s+month|per\s+calendar\s+month|a\s+month|each\s+month|installment", re.I)
_NOT_RENT = re.compile(r"late|parking|allowance|deposit|fee\b|charge|example|insurance|per\s+space|storage|"
                       r"liability|limit|occurrence|aggregate|penalty|interest|utility|utilities|broker|commission|"
                       r"purchase\s+price|guarant|letter\s+of\s+credit|reimburs|cost\s+of|attorney|damages", re.I)


@dataclass
class Step:
    """One row of a stated rent table."""

    start: date | None
    end: date | None
    amount: float
    basis: str  # monthly | annual | psf (annual per square foot)
    span: tuple[int, int]
    first_month: int | None = None
    last_month: int | None = None
    monthly_given: float | None = None


@dataclass
class RentFindings:
    """Everything rent.py read and computed for one document."""

    base: Hit | None = None
    schedule: list[tuple[str | None, str | None, float, float | None, list[tuple[int, int]]]] = field(default_factory=list)
    escalation: Hit | None = None
    free_months: Hit | None = None
    mismatches: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)


def _basis(text: str) -> str | None:
    if _BASIS_PSF.search(text):
        return "psf"
    if _BASIS_ANNUAL.search(text):
        return "annual"
    if _BASIS_MONTHLY.search(text):
        return "monthly"
    return None


def _money_value(s: str) -> float:
    return float(re.sub(r"[^\d.]", "", s.replace("PS", "")).rstrip("."))


def parse_table(dt: DocText, day_first: bool) -> list[Step]:
    """The first run of consecutive rent-table rows (dates, 'Months 1 - 12' or 'Lease Year 1' then an amount)."""
    runs: list[list[re.Match[str]]] = []
    for m in _ROW_RE.finditer(dt.text):
        if runs and m.start() - runs[-1][-1].end() <= 120:
            runs[-1].append(m)
        else:
            runs.append([m])
    rent_runs = [r for r in runs if re.search(r"rent|rate|rental", dt.text[max(0, r[0].start() - 220):r[0].start()], re.I)]
    if not rent_runs:
        return []
    best = rent_runs[0]
    header = dt.text[max(0, best[0].start() - 220):best[0].start()]
    basis = _basis(header[-120:]) or _basis(header)
    steps = []
    for m in best:
        amt = _money_value(m.group("amt"))
        row_basis = "psf" if m.group("psfmark") else basis
        start = end = None
        fm = lm = None
        if m.group("d1"):
            ds = list(find_dates(m.group("d1") + " | " + m.group("d2"), day_first))
            if len(ds) == 2:
                start, end = ds[0][0], ds[1][0]
        elif m.group("m1"):
            fm, lm = int(m.group("m1")), int(m.group("m2"))
        else:
            y1 = int(m.group("y1"))
            y2 = int(m.group("y2") or y1)
            fm, lm = (y1 - 1) * 12 + 1, y2 * 12
        monthly_given = None
        if m.group("amt2"):
            monthly_given, implied = _second_column(amt, _money_value(m.group("amt2")), start, end, fm, lm)
            row_basis = implied or row_basis
        steps.append(Step(start, end, amt, row_basis or "monthly", (m.start(), m.end()), fm, lm, monthly_given))
    return steps


def _second_column(amt: float, amt2: float, start: date | None, end: date | None, first_month: int | None,
                   last_month: int | None) -> tuple[float | None, str | None]:
    """(monthly rent, basis of the first amount) read from how a row's two amounts relate, not from column order.

    'annual | monthly' (a = 12 b), 'monthly | annual' (b = 12 a) and 'monthly | period total' (b = a x months).
    """
    def close(x: float, y: float) -> bool:
        return abs(x - y) <= max(0.02, 0.002 * max(x, y))

    if amt2 > 0 and close(amt, 12 * amt2):
        return round_cents(amt2), "annual"
    if close(amt2, 12 * amt):
        return round_cents(amt), "monthly"
    months = (last_month - first_month + 1) if first_month and last_month else None
    if months is None and start and end:
        months = (end.year - start.year) * 12 + end.month - start.month + (1 if end.day >= start.day - 1 else 0)
    if months and close(amt2, amt * months):
        return round_cents(amt), "monthly"
    return None, None


def _statements(dt: DocText) -> list[tuple[float, str, int, int]]:
    """Rent amounts stated in prose with their basis: (amount, basis, start, end), those in rent clauses first.

    Inside a clause headed or labelled as rent the amount needs no 'rent' word next to it ('installments of
    $4,250.00 each month' under a RENT heading).
    """
    out = []
    rent_clauses = clauses.clauses(dt, "rent")
    for amount, _cur, s, e in find_money(dt.text):
        before = dt.text[max(0, s - 160):s]
        after = dt.text[e:e + 90]
        near_before = before[-110:]
        clause = clauses.within(s, rent_clauses)
        if clause is None and not re.search(r"\brent(?:al)?\b|lease\s+payments?|rental", near_before, re.I):
            continue
        clause_before = re.split(r"[.;]\s", near_before)[-1]
        if clause is not None and clause.kind == "label":
            clause_before = clause.title + ": " + dt.text[clause.start:s]  # a summary line: its label is the context
        if _NOT_RENT.search(clause_before[-70:]) or _NOT_RENT.search(after[:25]):
            continue
        if re.search(r"example|were\s+paid|if\s+rent\s+of", before[-120:], re.I):
            continue
        if "=" in _line(dt, s, e):
            continue  # a cell of a computation row ('$7,269,481 x 0.09825 = ...'), not a statement of the rent
        after_clause = re.split(r"[.;]\s", after)[0]
        basis = _basis(after_clause[:60]) or _basis(clause_before)
        if basis is None:
            continue
        if basis == "psf" and not _BASIS_PSF.search(after_clause[:60]):
            continue
        if basis in ("monthly", "annual") and _PER_SQM.search(re.split(r"[.;]\s", dt.text[e:e + 200])[0]):
            basis = "psm_" + basis  # a rate per square metre, multiplied by the area below
        out.append((amount, basis, s, e))
    out.sort(key=lambda st: (clauses.within(st[2], rent_clauses) is None, st[2]))
    return out


def _line(dt: DocText, s: int, e: int) -> str:
    """The raw line holding the span."""
    lo = max(dt.raw.rfind("\n", 0, s), dt.raw.rfind("\f", 0, s)) + 1
    hi_n, hi_f = dt.raw.find("\n", e), dt.raw.find("\f", e)
    hi = min(x for x in (hi_n, hi_f, len(dt.raw)) if x >= 0)
    return dt.raw[lo:hi]


_NUM = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d{2})?(?![\d])|(?<![\d.,])\d{4,7}\.\d{2}(?!\d)")


def _annual_monthly_pair(dt: DocText) -> Hit | None:
    """A rent-table line holding a yearly figure and its twelfth (in either order): the twelfth is the monthly rent."""
    for m in re.finditer(r"(?m)^[^\n]*$", dt.raw):
        nums = list(_NUM.finditer(m.group(0)))
        for a, b in zip(nums, nums[1:]):
            x, y = (float(n.group(0).replace(",", "")) for n in (a, b))
            small, big = (b, a) if x > y else (a, b)
            lo, hi = min(x, y), max(x, y)
            if lo <= 0 or abs(hi - 12 * lo) > max(0.02, 0.001 * hi):
                continue
            if not re.search(r"\brent", dt.text[max(0, m.start() - 600):m.start()], re.I):
                continue
            s, e = m.start() + small.start(), m.start() + small.end()
            bs, be = m.start() + big.start(), m.start() + big.end()
            return Hit(round_cents(lo), s, e, 0.7, raw=m.group(0).strip(), extra=[(bs, be)])
    return None


# Below this a 'monthly rent' is a rate read on the wrong basis (a peppercorn rent is read separately as 0).
MIN_MONTHLY_RENT = 50.0


def _plausible_area(area: float | None) -> bool:
    """An area a rate can be multiplied by: present and of a size premises have."""
    return area is not None and 100 <= area <= 10_000_000


def _to_monthly(amount: float, basis: str, area: float | None) -> float | None:
    """Monthly rent from an amount and its basis; None when an input is missing or implausible (never guessed)."""
    if basis == "monthly":
        return round_cents(amount)
    if basis == "annual":
        return round_cents(amount / 12)
    if not _plausible_area(area):
        return None
    if basis == "psf" and 0.25 <= amount <= 1000:
        return round_cents(amount * area / 12)
    if basis.startswith("psm_"):
        monthly_rate = amount if basis == "psm_monthly" else amount / 12
        return round_cents(monthly_rate * area / SQM_TO_SQFT)
    return None


_PER_SQM = re.compile(r"per\s+(?:1\s*|one\s+)?(?:sq\.?\s*m\b|sqm\b|square\s+met(?:er|re)|m2\b)", re.I)
_PEPPERCORN = re.compile(r"\b(?:rent|rental)\b[^.;]{0,80}?\b(?:a|one)\s+peppercorn|\bpeppercorn\s+rent", re.I)


def _peppercorn(dt: DocText) -> Hit | None:
    """A peppercorn (nominal) rent is a rent of zero."""
    m = _PEPPERCORN.search(dt.text)
    if m is None:
        return None
    return Hit(0.0, m.start(), m.end(), 0.75, raw=dt.raw[m.start():m.end()])


def _escalation(dt: DocText) -> Hit | None:
    m = re.search(rf"(?:rent|rental)[^.]{{0,160}}?\b(?:increase|escalate|be\s+increased|adjust)\w*\s+(?:annually\s+)?(?:by\s+)?"
                  rf"({COUNT_RE}\s+percent\s*(?:\(\s*\d+(?:\.\d+)?\s*%\s*\))?|\d+(?:\.\d+)?\s*%)", dt.text, re.I)
    if not m:
        m = re.search(r"(?:on\s+each\s+anniversary|annually|each\s+(?:lease\s+)?year)[^.]{0,120}?"
                      r"(\w+(?:[\s-]\w+)?\s+percent\s*\(\s*\d+(?:\.\d+)?\s*%\s*\)|\d+(?:\.\d+)?\s*%)", dt.text, re.I)
        if not m or not re.search(r"rent", dt.text[max(0, m.start() - 200):m.end()], re.I):
            return None
    s, e = dt.sentence_bounds(m.start(1), 300)
    sentence = dt.text[s:e]
    if re.search(r"operating|expense|late|interest|cap|holdover|hold\s+over|fee", sentence, re.I) and \
            not re.search(r"anniversary", sentence, re.I):
        return None
    pct = parse_percent(m.group(1))
    if pct is None or pct <= 0 or pct > 25:
        return None
    return Hit({"type": "percent", "percent": pct, "frequency": "annual"}, m.start(1), m.end(1), 0.75, raw=m.group(0))


def _free_rent(dt: DocText) -> Hit | None:
    pats = [
        rf"(?:abated|abatement|free|waived|rent-free|rent\s+free)[^.]{{0,80}}?\bfirst\s+({COUNT_RE})\s+(?:\(\s*\d+\s*\)\s+)?(?:full\s+)?(?:calendar\s+)?months?",
        rf"\bfirst\s+({COUNT_RE})\s+(?:full\s+)?(?:calendar\s+)?months?[^.]{{0,80}}?\b(?:shall\s+be\s+)?(?:abated|free|waived)",
        rf"({COUNT_RE})\s+(?:full\s+)?(?:calendar\s+)?months?'?s?\s+(?:of\s+)?(?:free\s+rent|rent[\s-]free|base\s+rent\s+abatement|abated\s+rent)",
        rf"rent[\s-]free\s+period\s+of\s+({COUNT_RE})\s+months?",
    ]
    for p in pats:
        for m in re.finditer(p, dt.text, re.I):
            s, e = dt.sentence_bounds(m.start(), 300)
            sentence = dt.text[s:e]
            if re.search(r"casualty|damage|condemnation|untenantable|for\s+discussion|illustrative|not\s+binding", sentence, re.I):
                continue
            n = parse_count(m.group(1))
            if n and 0 < n <= 36:
                return Hit(int(n) if n == int(n) else n, m.start(1), m.end(), 0.8)
    return None


def analyse_rent(dt: DocText, area: Hit | None, commencement: str | None, expiration: str | None,
                 term_months: int | None, day_first: bool = False) -> RentFindings:
    """Read the rent table/statements and build the schedule of monthly rent before abatement."""
    out = RentFindings()
    area_v = float(area.value) if area is not None else None
    start_date = date.fromisoformat(commencement) if commencement else None
    steps = parse_table(dt, day_first)
    statements = _statements(dt)
    out.escalation = _escalation(dt)
    out.free_months = _free_rent(dt)

    if steps:
        # a rate per square foot without a usable area gives no rent: nothing is computed from a missing input
        steps = [st for st in steps if st.basis != "psf" or st.monthly_given or _plausible_area(area_v)]
    if steps:
        first = steps[0]
        for st in steps:
            monthly = st.monthly_given if st.monthly_given else _to_monthly(st.amount, st.basis, area_v)
            if monthly is None:
                continue
            s_iso = st.start.isoformat() if st.start else None
            e_iso = st.end.isoformat() if st.end else None
            if st.start is None and st.first_month and start_date:
                s_iso = add_months(start_date, st.first_month - 1).isoformat()
                e_iso = date.fromordinal(add_months(start_date, st.last_month).toordinal() - 1).isoformat()
            psf = round(st.amount, 2) if st.basis == "psf" else (round(monthly * 12 / area_v, 2) if area_v else None)
            spans = [st.span] + ([(area.start, area.end)] if st.basis == "psf" and area else [])
            out.schedule.append((s_iso, e_iso, monthly, psf, spans))
        if out.schedule and out.schedule[0][2] < MIN_MONTHLY_RENT:
            # a monthly rent of a few dollars: the table's amounts are rates (per square foot) read on the wrong
            # basis; nothing is produced from an implausible value
            out.schedule = []
        if out.schedule:
            s_iso, _, monthly, _, spans = out.schedule[0]
            amt_span = _amount_span(dt, first.span)
            out.base = Hit(monthly, amt_span[0], amt_span[1], 0.85 if first.basis == "monthly" else 0.8,
                           raw=dt.raw[first.span[0]:first.span[1]],
                           extra=[(area.start, area.end)] if first.basis == "psf" and area else [])
    # a rent stated as money per month or year outranks one computed from a rate and an area
    direct = [st for st in statements if st[1] in ("monthly", "annual")]
    chosen = next((st for st in direct + statements
                   if (_to_monthly(st[0], st[1], area_v) or 0) >= MIN_MONTHLY_RENT), None)
    if out.base is None and chosen is not None:
        amount, basis, s, e = chosen
        monthly = _to_monthly(amount, basis, area_v)
        if monthly is not None:
            out.base = Hit(monthly, s, e, 0.8 if basis == "monthly" else 0.72, raw=dt.raw[s:e],
                           extra=[(area.start, area.end)] if basis != "monthly" and basis != "annual" and area else [])
            if start_date is not None:
                end_date = date.fromisoformat(expiration) if expiration else (
                    end_of_term(start_date, term_months) if term_months else None)
                pct = out.escalation.value["percent"] if out.escalation else None
                _build_schedule(out, monthly, start_date, end_date, pct, area_v, (s, e))
    if out.base is None:
        out.base = _annual_monthly_pair(dt) or _peppercorn(dt)
    _check_mismatch(out, statements, steps, area_v)
    return out


def _amount_span(dt: DocText, span: tuple[int, int]) -> tuple[int, int]:
    m = MONEY_RE.search(dt.text, span[0], span[1])
    return (m.start(), m.end()) if m else span


def _build_schedule(out: RentFindings, monthly: float, start: date, end: date | None, pct: float | None,
                    area: float | None, span: tuple[int, int]) -> None:
    if end is None:
        return
    cur = start
    rent = monthly
    spans = [span] + ([(out.escalation.start, out.escalation.end)] if pct and out.escalation else [])
    while cur <= end:
        nxt = add_months(cur, 12) if pct else date.fromordinal(end.toordinal() + 1)
        step_end = min(end, date.fromordinal(nxt.toordinal() - 1))
        psf = round(rent * 12 / area, 2) if area else None
        out.schedule.append((cur.isoformat(), step_end.isoformat(), rent, psf, spans))
        if not pct:
            break
        rent = round_cents(rent * (1 + pct / 100))
        cur = nxt
        if len(out.schedule) > 60:
            break


def _check_mismatch(out: RentFindings, statements: list[tuple[float, str, int, int]], steps: list[Step],
                    area: float | None) -> None:
    """Stated monthly vs annual (x12) and $/sf x area: flag figures that do not agree."""
    firsts: dict[str, tuple[float, int, int]] = {}
    for amount, basis, s, e in statements[:6]:
        firsts.setdefault(basis, (amount, s, e))
    if steps and steps[0].basis in ("monthly", "annual", "psf"):
        firsts.setdefault(steps[0].basis, (steps[0].amount, *steps[0].span))
    monthly = firsts.get("monthly")
    annual = firsts.get("annual")
    psf = firsts.get("psf")
    if monthly and annual and abs(monthly[0] * 12 - annual[0]) > max(1.0, 0.005 * annual[0]):
        out.mismatches.append((f"monthly rent {monthly[0]:,.2f} x 12 = {monthly[0] * 12:,.2f} but annual rent "
                               f"stated as {annual[0]:,.2f}", [monthly[1:], annual[1:]]))
    if psf and area and (monthly or annual):
        ref = monthly[0] * 12 if monthly else annual[0]  # type: ignore[index]
        computed = psf[0] * area
        if abs(computed - ref) > max(1.0, 0.005 * ref):
            src = monthly or annual
            out.mismatches.append((f"rate {psf[0]:,.2f}/sf x {area:,.0f} sf = {computed:,.2f} a year but the stated "
                                   f"rent is {ref:,.2f} a year", [psf[1:], src[1:]]))  # type: ignore[index]
