"""Question understanding: field lookup, clause, portfolio or other, by meaning (embedding similarity to
descriptions of fields and clauses) plus a small tested set of portfolio patterns."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.ports import Embedder

# What each answerable field is, phrased the way people ask for it. A question is a field lookup only when it is
# closer to one of these than to any clause description (and close enough in absolute terms).
FIELD_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "landlord": ("Who is the landlord of the lease?", "Who is the lessor or sublandlord?",
                 "Which company is the landlord?"),
    "tenant": ("Who is the tenant under the lease?", "Who is the lessee or subtenant?",
               "Which company is the tenant?"),
    "premises_address": ("What is the address of the leased premises?", "Where is the property located?"),
    "suite": ("Which suite or floor is leased?",),
    "leased_area_sqft": ("How many square feet are leased?", "What is the size of the premises in square feet?"),
    "commencement_date": ("When does the lease term start?", "What is the commencement date of the lease?",
                          "On what date was the lease made or dated?"),
    "expiration_date": ("When does the lease expire?", "What is the expiration date of the lease term?"),
    "term_months": ("How long is the lease term?", "For how many years is the property leased?"),
    "base_rent_monthly": ("What is the monthly base rent?", "How much rent does the tenant pay each month?",
                          "What is the minimum monthly rental?"),
    "security_deposit": ("How much is the security deposit?", "What deposit must the tenant pay?"),
    "renewal_terms": ("What options to renew or extend the lease does the tenant have?",
                      "Can the tenant renew the lease?"),
    "governing_law": ("Which state's law governs the lease?", "What is the governing law of the lease?"),
    "free_rent_months": ("How many months of free rent does the tenant get?", "Is there a rent abatement period?"),
    "asset_type": ("What kind of property is it: office, retail or industrial?",),
}

# Clauses people ask about that are not a single extracted field (a right, a special rent, an obligation).
CLAUSE_DESCRIPTIONS: tuple[str, ...] = (
    "What rent is payable if the tenant holds over or stays after the lease ends?",
    "Can the landlord terminate the lease early or relocate the tenant to other space?",
    "Can the tenant terminate the lease early or exercise a break option?",
    "Can the tenant assign the lease or sublet the premises, and does the landlord need to consent?",
    "Who must indemnify whom for injuries, losses or damage claims?",
    "Who must insure the premises and what insurance is required?",
    "What may the premises be used for, and what uses are prohibited?",
    "Is the service charge or are operating expenses capped?",
    "How are operating expenses, taxes and service charges shared?",
    "Is the tenant restricted from competing or offering certain services?",
    "What happens to the deposit at the end of the lease, and what may be retained?",
    "When and how is the rent reviewed or increased?",
    "Does the landlord provide an allowance for tenant improvements or fit-out work?",
    "What repairs and maintenance must the tenant or the landlord carry out?",
    "What happens if the premises are damaged, destroyed or condemned?",
    "What are the events of default and the landlord's remedies?",
    "What notice must be given and to whom?",
    "Are there parking rights, signage rights or rights of first refusal?",
    "How is the term extended under an amendment or modification?",
)

# Risk-flag clauses a portfolio question can filter on, described as people ask about them.
FLAG_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "holdover_penalty": ("leases with a holdover penalty: extra rent if the tenant stays after expiry",),
    "landlord_termination_right": ("leases where the landlord can terminate early or relocate the tenant",),
    "early_termination": ("leases with an early termination or break option",),
    "assignment_restriction": ("leases that restrict assignment, requiring the landlord's consent",),
    "sublease_restriction": ("leases that restrict subletting",),
    "uncapped_operating_expenses": ("leases where operating expenses or service charges are uncapped",),
    "broad_indemnification": ("leases with a broad tenant indemnity",),
    "non_compete": ("leases with a non-compete or exclusivity restriction on the tenant",),
    "restrictive_use": ("leases that restrict the permitted use of the premises",),
    "tenant_insurance_burden": ("leases that put a heavy insurance burden on the tenant",),
    "hidden_fees": ("leases with hidden fees or charges",),
}
FLAG_THRESHOLD = 0.5

# Portfolio questions range over the leases ("which leases…", "list the leases…", "how many of our leases…").
_PLURAL = r"(?:leases|subleases|properties|tenants|landlords|buildings|sites|locations|documents|contracts|agreements)"
_PORTFOLIO = re.compile(
    r"\b(?:which|what|how\s+many|list|show|find|any|all|every)\b(?:\s+(?:of\s+)?(?:our|the|my|these|those|\w+))?"
    r"\s+" + _PLURAL + r"\b"
    r"|\b(?:in|for|under|with)\s+which\s+(?:of\s+(?:our|the|my)\s+)?(?:lease|sublease|propert|document|contract)"
    r"|\b(?:across|throughout)\s+(?:the\s+|our\s+)?(?:portfolio|leases)\b"
    r"|\bportfolio\b"
    r"|\bwhich\s+of\s+(?:our|the|my)\b",
    re.IGNORECASE)

FIELD_THRESHOLD = 0.45  # cosine similarity (MiniLM) a field description must reach
FIELD_MARGIN = 0.1      # and by how much it must beat the closest clause description


@dataclass(frozen=True)
class Understanding:
    """What a question asks: its kind, the field (for field lookups) and the similarities behind the call."""

    kind: str  # field | clause | portfolio | other
    field: str | None = None
    field_score: float = 0.0
    clause_score: float = 0.0


def is_portfolio(question: str) -> bool:
    """Whether a question ranges over many leases (pattern set; see tests)."""
    return bool(_PORTFOLIO.search(question))


class QuestionClassifier:
    """Classifies questions by embedding similarity to the field and clause descriptions (embedded once)."""

    def __init__(self, embedder: Embedder, *, field_threshold: float = FIELD_THRESHOLD,
                 field_margin: float = FIELD_MARGIN) -> None:
        self.embedder = embedder
        self.field_threshold = field_threshold
        self.field_margin = field_margin
        self._lock = threading.Lock()
        self._fields: list[str] = []
        self._field_vecs: np.ndarray | None = None
        self._clause_vecs: np.ndarray | None = None
        self._flags: list[str] = []
        self._flag_vecs: np.ndarray | None = None

    def _descriptions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Field, clause and flag description vectors, embedded together on first use."""
        with self._lock:
            if self._field_vecs is None or self._clause_vecs is None or self._flag_vecs is None:
                fields, flags, texts = [], [], []
                for name, descs in FIELD_DESCRIPTIONS.items():
                    fields += [name] * len(descs)
                    texts += list(descs)
                for name, descs in FLAG_DESCRIPTIONS.items():
                    flags += [name] * len(descs)
                clause_texts = list(CLAUSE_DESCRIPTIONS)
                flag_texts = [d for descs in FLAG_DESCRIPTIONS.values() for d in descs]
                vecs = _unit(self.embedder.embed(texts + clause_texts + flag_texts))
                n, m = len(texts), len(texts) + len(clause_texts)
                self._fields, self._flags = fields, flags
                self._field_vecs, self._clause_vecs, self._flag_vecs = vecs[:n], vecs[n:m], vecs[m:]
            return self._field_vecs, self._clause_vecs, self._flag_vecs

    def classify(self, question: str, vector: Sequence[float] | None = None, *,
                 names_a_lease: bool = False) -> Understanding:
        """The question's kind; vector: its embedding when already computed; a question that names one lease
        is never a portfolio question."""
        fields, clauses, _ = self._descriptions()
        q = _unit([vector if vector is not None else self.embedder.embed([question])[0]])[0]
        f_sims, c_sims = fields @ q, clauses @ q
        best = int(np.argmax(f_sims))
        f_score, c_score = float(f_sims[best]), float(c_sims.max())
        if is_portfolio(question) and not names_a_lease:
            return Understanding("portfolio", None, f_score, c_score)
        if f_score >= self.field_threshold and f_score >= c_score + self.field_margin:
            return Understanding("field", self._fields[best], f_score, c_score)
        if max(f_score, c_score) >= 0.3:
            return Understanding("clause", None, f_score, c_score)
        return Understanding("other", None, f_score, c_score)


    def flag(self, question: str, vector: Sequence[float] | None = None,
             threshold: float = FLAG_THRESHOLD) -> str | None:
        """The risk flag a portfolio question filters on, when it names one by meaning."""
        _, _, flag_vecs = self._descriptions()
        q = _unit([vector if vector is not None else self.embedder.embed([question])[0]])[0]
        sims = flag_vecs @ q
        best = int(np.argmax(sims))
        return self._flags[best] if float(sims[best]) >= threshold else None


def _unit(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    return arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-9)


_NAME_WORD = re.compile(r"[a-z0-9]+")
_GENERIC = frozenset(
    "the of and a an inc llc lp l p ltd limited corp corporation company co plc llp group holdings partners "
    "street st avenue ave road rd drive dr boulevard blvd suite floor building park plaza way court lane "
    "lease leases sublease subleases master agreement amendment modification plain html txt pdf doc docx not "
    "north south east west new city county state commonwealth usa us uk united states america properties property "
    "premises land lot unit units office offices space tower center centre corner international "
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois "
    "indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri "
    "montana nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma oregon pennsylvania rhode "
    "island tennessee texas utah vermont virginia washington wisconsin wyoming england wales scotland london israel "
    "ca ny tx wa pa nc sc nv ut id ma il fl".split())


_FILLER = frozenset("the of and a an as for to at in on by inc llc lp ltd co corp plc llp lease sublease plain html "
                    "txt pdf docx not".split())


def identity_words(*values: object) -> set[str]:
    """Words that name a lease: its parties, premises and file name."""
    words: set[str] = set()
    for v in values:
        if v:
            for w in _NAME_WORD.findall(str(v).lower().replace("_", " ")):
                if len(w) > 1 and w not in _FILLER and not w.isdigit():
                    words.add(w)
    return words


def resolve_document(question: str, leases: Sequence[tuple[str, set[str]]]) -> tuple[str | None, set[str]]:
    """The lease a question names (by its parties, premises or file name) and the naming words it used; None
    when it names none or two leases tie. Only distinctive words (not generic, in at most two leases) can name
    a lease; generic ones ("South Carolina") only break ties."""
    # Names are proper nouns: only capitalised question words (and digits) can name a lease.
    seq = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", question) if w[0].isupper() or w[0].isdigit()]
    # File names run words together ("sixtowerbridge"): adjacent question words joined count too.
    q = set(seq) | {"".join(seq[i:i + n]) for n in (2, 3) for i in range(len(seq) - n + 1)}
    df: dict[str, int] = {}
    for _, words in leases:
        for w in words:
            df[w] = df.get(w, 0) + 1
    scored = []
    for doc_id, words in leases:
        hit = {w for w in q & words if df[w] <= 2 and w not in _GENERIC}
        if hit:
            extra = (q & words) - hit
            # A longer match (a run-together file name) is stronger evidence than one short word.
            strength = sum(min(len(w), 12) / 6 / df[w] for w in hit)
            scored.append((strength + 0.1 * len(extra), doc_id, hit | extra))
    if not scored:
        return None, set()
    scored.sort(key=lambda s: -s[0])
    if len(scored) > 1 and scored[1][0] >= scored[0][0]:
        return None, scored[0][2] | scored[1][2]
    return scored[0][1], scored[0][2]
