"""Question answering: sentences, question routing, portfolio conditions, refusal, LLM checks, eval scoring."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.domain.model import Citation, ExtractionResult, FieldStatus, FieldValue, RiskFlag
from pipeline.index.answer import Answer, Source, supported, verified_sentences
from pipeline.index.chunk import chunk_document, definitions
from pipeline.index.conditions import flag_condition, parse_conditions
from pipeline.index.qa_eval import score_question, set_f1
from pipeline.index.sentences import clean, is_heading, split_sentences
from pipeline.index.understand import QuestionClassifier, identity_words, is_portfolio, resolve_document
from pipeline.parse.model import Page, ParsedDocument
from pipeline.usecases.ask import _portfolio_answer

WRAPPED = (
    "12.5 Holding Over. Subtenant shall have no right to Holdover. If Subtenant does not surrender\n"
    "and vacate the Subleased Premises at the Expiration Date, Subtenant shall pay\n"
    "one hundred and fifty percent (150%) of the Rent then due.\n"
    "\n"
    "                                   Page 7 of 12\n"
    "\n"
    "12.6 Notices. All notices shall be in writing and delivered to Acme Co. at its\n"
    "address, attention of Mr. Smith.\n"
)


def _sentences(text: str) -> list[str]:
    return [clean(text[s.start:s.end]) for s in split_sentences(text)]


def test_sentences_survive_hard_wraps_and_page_footers():
    got = _sentences(WRAPPED)
    assert ("If Subtenant does not surrender and vacate the Subleased Premises at the Expiration Date, Subtenant "
            "shall pay one hundred and fifty percent (150%) of the Rent then due.") in got
    assert not any("Page 7" in s for s in got)
    # abbreviations (Co., Mr.) do not end a sentence; a numbered clause starts a new one
    assert "All notices shall be in writing and delivered to Acme Co. at its address, attention of Mr. Smith." in got
    assert "12.5 Holding Over." in got and "12.6 Notices." in got


def test_sentence_offsets_are_exact_page_text():
    for s in split_sentences(WRAPPED):
        assert WRAPPED[s.start:s.end] == WRAPPED[s.start:s.end].strip() and s.end > s.start


def test_a_footer_inside_a_sentence_is_dropped_from_the_answer_text():
    text = "Tenant shall pay the Base Rent on the first day of\n\n- 3 -\n\neach calendar month in advance.\n"
    assert _sentences(text) == ["Tenant shall pay the Base Rent on the first day of each calendar month in advance."]


def test_headings_are_not_answer_sentences():
    assert is_heading("8. TENANT’S OPTION TO BREAK") and is_heading("12.5 Holding Over.")
    assert not is_heading("Tenant shall pay rent monthly.")


@pytest.mark.parametrize("question", [
    "Which leases are governed by California law?", "Which of our properties are industrial?",
    "In which leases does the tenant have an option to renew?", "List the leases that end after 2025.",
    "How many of our leases have a holdover penalty?", "Show all subleases in Texas",
])
def test_portfolio_patterns_match(question):
    assert is_portfolio(question)


@pytest.mark.parametrize("question", [
    "What may the Bank of South Carolina use its premises for?", "How many square feet are the premises?",
    "Which suite does Taberna occupy?", "Which company is the tenant of the Highway 78 premises?",
])
def test_single_lease_questions_are_not_portfolio(question):
    assert not is_portfolio(question)


LEASES = [("A", identity_words("A_foundationmedicine_150secondst.html", "Foundation Medicine, Inc.",
                               "150 Second Street, LLC", "150 Second Street, Cambridge, Massachusetts")),
          ("B", identity_words("B_bank_of_south_carolina_lease.txt", "The Bank of South Carolina", "Weber USA",
                               None)),
          ("C", identity_words("C_riverplatehouse_london.html", "ITG Europe", "Mizuho Corporate Bank", None))]


def test_the_lease_a_question_names_is_found_by_its_distinctive_words():
    assert resolve_document("What rent does Foundation Medicine pay?", LEASES)[0] == "A"
    assert resolve_document("Who is the landlord of River Plate House?", LEASES)[0] == "C"  # run-together name
    # 'Bank' names B and C; the generic 'South Carolina' breaks the tie
    assert resolve_document("What does the Bank of South Carolina pay?", LEASES)[0] == "B"


def test_generic_or_lower_case_words_name_no_lease():
    assert resolve_document("Which leases are governed by Massachusetts law?", LEASES)[0] is None
    assert resolve_document("what is the second street rent?", LEASES)[0] is None


def _fv(value, status=FieldStatus.FOUND, quote="q"):
    return FieldValue(value, str(value), 0.9, status, [Citation(page=1, start=0, end=len(quote), quote=quote)])


def _result(**fields):
    flags = fields.pop("flags", ())
    kind = fields.pop("kind", "lease")
    return ExtractionResult(fields={k: (v if isinstance(v, FieldValue) else _fv(v)) for k, v in fields.items()},
                            risk_flags=[RiskFlag(type=f, citations=[Citation(1, 0, 4, "hold")]) for f in flags],
                            kind=kind)


def _labels(question):
    return [c.label for c in parse_conditions(question)]


def test_conditions_parse_law_dates_amounts_and_forms():
    assert _labels("Which leases are governed by California law?") == ["governed by California law"]
    assert _labels("Which of our leases are under English law?") == ["governed by England law"]
    assert _labels("Which leases expire before 2010?") == ["expires before 2010-01-01"]
    assert _labels("List the leases that run past January 1, 2020.") == ["expires after 2020-01-01"]
    assert _labels("Which leases have a monthly base rent under $10,000?") == ["monthly base rent below 10,000"]
    assert _labels("Leases with rent above $1.2 million a year?") == ["monthly base rent above 100,000"]
    assert _labels("Which leases are secured by a cash security deposit?") == ["a cash security deposit"]
    assert _labels("Which leases have no security deposit?") == ["no security deposit"]
    assert _labels("Which of the properties are industrial?") == ["industrial property"]
    assert _labels("In which leases does the tenant have an option to renew?") == ["a renewal option"]
    assert _labels("Which leases contain a holdover penalty?") == []


def test_a_law_condition_matches_whole_names_only():
    (cond,) = parse_conditions("Which leases are governed by California law?")
    assert cond.test(_result(governing_law="California")) is True
    assert cond.test(_result(governing_law="South Carolina")) is False  # not "CA" inside "Carolina"
    assert cond.test(_result()) is None  # not found: cannot be decided
    assert cond.test(_result(governing_law=_fv("California", FieldStatus.NEEDS_REVIEW))) is None


def test_portfolio_answer_lists_matches_counts_checked_and_undecided():
    rows = [("a", "a.pdf", _result(expiration_date="2008-12-31")),
            ("b", "b.pdf", _result(expiration_date="2014-06-30")),
            ("c", "c.pdf", _result()),
            ("d", "d.pdf", _result(kind="not_a_lease"))]
    ans = _portfolio_answer(parse_conditions("Which leases expire before 2010?"), rows)
    assert ans.documents == ["a"] and ans.checked == 3
    assert [u["document_id"] for u in ans.undecided] == ["c"]
    assert ans.sources[0].document_id == "a" and "a.pdf" in ans.answer and "Could not decide 1" in ans.answer
    assert ans.to_dict()["leases"] == ["a"]


def test_flag_condition_uses_the_risk_flags():
    rows = [("a", "a.pdf", _result(flags=["holdover_penalty"])), ("b", "b.pdf", _result())]
    ans = _portfolio_answer([flag_condition("holdover_penalty")], rows)
    assert ans.documents == ["a"] and ans.sources[0].quote == "hold"


def test_llm_sentences_must_be_backed_by_the_cited_page():
    passages = ["Tenant shall pay holdover rent equal to 200% of the Base Rent."]
    assert supported("Holdover rent is 200% of the Base Rent [1].", passages)
    assert not supported("Holdover rent is 150% of the Base Rent [1].", passages)  # invented number
    assert not supported("The landlord may relocate the tenant to comparable premises [1].", passages)
    assert verified_sentences("Holdover rent is 200% of the Base Rent [1]. It is 300% [1]. Nothing cited.",
                              passages) == ["Holdover rent is 200% of the Base Rent [1]."]


def test_chunks_carry_definitions_of_the_terms_they_use():
    text = ("1. Definitions. “Review Date” means 14 November 2017. " + "Filler words here. " * 60 +
            "\n\n5. Rent review. The rent shall be reviewed on the Review Date to the market rent.\n")
    parsed = ParsedDocument(pages=[Page(1, text)], media_type="txt")
    assert definitions(parsed) == {"Review Date": "14 November 2017"}
    chunks = chunk_document(parsed, org_id="o", document_id="d", max_chars=400, overlap=50)
    review = [c for c in chunks if "reviewed on the Review Date" in c.text][0]
    assert review.metadata["definitions"] == "Review Date: 14 November 2017"


def test_long_sections_are_cut_at_sentence_ends_not_line_ends():
    line = "Tenant shall keep the premises in good repair and condition at its own\ncost and expense. "
    text = "ARTICLE 7 REPAIRS\n" + line * 20
    parsed = ParsedDocument(pages=[Page(1, text)], media_type="txt")
    for c in chunk_document(parsed, org_id="o", document_id="d", max_chars=300, overlap=0)[:-1]:
        assert c.text.endswith("expense."), c.text[-40:]


def test_eval_scoring():
    assert set_f1(["a", "b"], ["a", "b"]) == 1.0 and set_f1([], ["a"]) == 0.0
    assert set_f1(["a", "b"], ["a"]) == pytest.approx(2 / 3)
    src = Source("R01", "r.html", 1, "rent is $12,250.00 per month", 1.0, 0, 10)
    hit = SimpleNamespace(chunk=SimpleNamespace(document_id="R01", text="The Base Rent is $12,250.00 per month"))
    q = {"id": "q", "kind": "field", "document": "R01", "question": "rent?", "quote": "Base Rent is $12,250.00",
         "answer": ["12,250"]}
    r = score_question(q, Answer("Monthly base rent: 12,250.", [src]), [hit], 5.0)
    assert r.correct and r.recall_hit
    assert not score_question(q, Answer("The documents don't state this.", [src], refused=True), [hit], 1).correct
    u = {"id": "u", "kind": "unanswerable", "document": "R01", "question": "parking?", "quote": None, "answer": []}
    assert score_question(u, Answer("The documents don't state this.", [src], refused=True), [], 1).correct
    assert not score_question(u, Answer("Ten spaces.", [src]), [], 1).correct


@pytest.mark.parametrize("question,kind,field", [
    ("What is the monthly base rent?", "field", "base_rent_monthly"),
    ("When does the lease expire?", "field", "expiration_date"),
    ("Who is the landlord?", "field", "landlord"),
    ("What rent is charged if the tenant stays on after the lease ends?", "clause", None),
    ("Can the landlord move the tenant to other space in the building?", "clause", None),
    ("How much of the deposit is kept for carpet cleaning?", "clause", None),
])
def test_classifier_routes_by_meaning(minilm, question, kind, field):
    got = QuestionClassifier(minilm).classify(question)
    assert (got.kind, got.field) == (kind, field), got


def test_classifier_finds_flags_by_meaning(minilm):
    c = QuestionClassifier(minilm)
    assert c.flag("Which leases contain a holdover penalty?") == "holdover_penalty"
    assert c.flag("What colour are the walls?") is None


def test_candidates_skip_the_cut_tail_at_a_chunk_start_and_repeated_sentences():
    from pipeline.index.answer import candidates
    from pipeline.ports import Chunk, Hit

    def hit(start, text, doc="d"):
        return Hit(Chunk(id=f"{doc}:{start}", org_id="o", document_id=doc, page=1, start=start,
                         end=start + len(text), text=text), 1.0)

    first = hit(0, "Tenant shall pay rent monthly in advance. Landlord shall repair the roof promptly.")
    second = hit(60, "repair the roof promptly. Tenant shall pay rent monthly in advance. Tenant may sublet freely.")
    texts = [c.text for c in candidates([first, second])]
    assert texts == ["Tenant shall pay rent monthly in advance.", "Landlord shall repair the roof promptly.",
                     "Tenant may sublet freely."]


def test_a_sentence_announcing_a_table_takes_in_its_values():
    from pipeline.index.answer import _with_lists
    text = ("2. The monthly minimum rental shall be as follows:\n\nSeptember 1, 2009\n\n$42,400.00\n\nper month\n\n"
            "3. Tenant may extend the term.")
    got = [clean(text[s.start:s.end]) for s in _with_lists(text, split_sentences(text))]
    assert got[0] == "2. The monthly minimum rental shall be as follows: September 1, 2009 $42,400.00 per month"
    assert got[-1] == "3. Tenant may extend the term."


def test_eval_summary_counts_refusals_per_kind():
    from pipeline.index.qa_eval import QuestionResult, summarise

    rs = [QuestionResult("a", "field", "dev", "q", "x", refused=False, recall_hit=True, correct=True, ms=10),
          QuestionResult("b", "clause", "dev", "q", "no", refused=True, recall_hit=False, correct=False, ms=20),
          QuestionResult("c", "portfolio", "dev", "q", "x", refused=False, f1=0.5, ms=30),
          QuestionResult("d", "unanswerable", "dev", "q", "no", refused=True, correct=True, ms=40)]
    s = summarise(rs)
    assert s["passage_recall@5"] == 0.5 and s["correct_single_lease"] == 0.5 and s["portfolio_set_f1"] == 0.5
    assert s["unanswerable_refused"] == 1.0 and s["false_refusal_rate"] == pytest.approx(0.333, abs=1e-3)


def test_lease_filter_takes_parsed_conditions():
    from pipeline.index.conditions import asset_type_is, governed_by
    from pipeline.index.portfolio import filter_leases

    rows = [("a", _result(governing_law="California", asset_type="office", expiration_date="2030-01-31")),
            ("b", _result(governing_law="South Carolina", asset_type="office")),
            ("c", _result(governing_law="California", asset_type="industrial"))]
    assert [d for d, _ in filter_leases(rows, conditions=[governed_by("california"), asset_type_is("office")])] == ["a"]
    assert [d for d, _ in filter_leases(rows, expires_after="2029-12-31")] == ["a"]
