"""The extractor holds no rule written for one real document: no party name, address or document-specific phrase.

Names, addresses and quoted phrases come from the real-document truth files; a word or phrase is
'document-specific' when it occurs in the text of only one of those documents. The extractor's source
(regular expressions flattened to words) must contain none of them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.parse import parse_document

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
TRUTHS = [SHARED / "realdev" / "truth.jsonl", SHARED / "leasepool" / "truth.jsonl"]
# places.py is the gazetteer of every US state and Canadian province: general knowledge, not a document's
SOURCES = sorted(p for p in (ROOT / "pipeline" / "extract").glob("*.py") if p.name != "places.py") + \
    [ROOT / "pipeline" / "parse" / "classify.py"]
# Text-format devset documents: general lease English; a phrase they also use is not specific to a real document.
REFERENCE = sorted((SHARED / "devset" / "docs").glob("D0*.[thd]*"))
# Reviewed exceptions: common lease English that only one of the few real documents happens to use.
GENERIC_PHRASES = {
    "on and including the date": "'commencing on and including the date of ...' is stock term-start wording",
}
_COMMON = {"the", "and", "of", "a", "an", "to", "in", "for", "on", "at", "by", "with", "or", "as", "llc", "inc", "ltd",
           "limited", "corporation", "company", "lp", "l", "p", "co", "corp", "plc", "street", "avenue", "road",
           "drive", "suite", "floor", "building", "state", "states", "united"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def flatten_source(src: str) -> str:
    """Source with regex syntax reduced to words: '\\s+' and character classes become spaces.

    Alternatives ('a|b') and string boundaries end a phrase, so words of different alternatives never join.
    """
    src = re.sub(r"[\"']\s*\n\s*(?:rf|fr|r|f)?[\"']", "", src)  # implicitly concatenated string literals join
    src = re.sub(r"\\[sSwWdDbB][+*?]?|\\.|\[[^\]]*\]|\(\?[:=!<]*|[()+*?{}^$]", " ", src)
    parts = re.split(r"[|\n]", src)
    return " " + " / ".join(" ".join(_words(p)) for p in parts) + " "


def _load() -> tuple[list[dict], dict[str, str]]:
    records, texts = [], {}
    for truth in TRUTHS:
        if not truth.exists():
            continue
        for line in truth.read_text().splitlines():
            rec = json.loads(line)
            path = truth.parent / rec["file"]
            doc = parse_document(path.read_bytes())
            texts[rec["file"]] = " " + " ".join(_words("\f".join(p.text for p in doc.pages))) + " "
            records.append(rec)
    reference = [" " + " ".join(_words("\f".join(p.text for p in parse_document(path.read_bytes()).pages))) + " "
                 for path in REFERENCE if path.suffix in (".txt", ".html", ".docx")]
    return records, texts, reference


@pytest.fixture(scope="module")
def corpus():
    records, texts, reference = _load()
    if not records:
        pytest.skip("the real-document truth files are not available (../shared/realdev, ../shared/leasepool)")
    return records, texts, reference


def _document_specific(phrase: str, texts: dict[str, str], reference: list[str]) -> bool:
    needle = " " + phrase + " "
    return sum(needle in t for t in texts.values()) == 1 and not any(needle in t for t in reference)


def _candidates(records: list[dict], texts: dict[str, str], reference: list[str]) -> set[str]:
    out: set[str] = set()
    for rec in records:
        fields = rec.get("fields", {})
        for name in ("landlord", "tenant", "premises_address"):
            value = fields.get(name)
            if not isinstance(value, str):
                continue
            words = [w for w in _words(value) if w not in _COMMON]
            if len(words) >= 2:
                out.add(" ".join(words[:3]))
            out.update(w for w in words if len(w) >= 4 and not w.isdigit() and _document_specific(w, texts, reference))
        quotes = [e.get("quote", "") for e in rec.get("evidence", {}).values() if isinstance(e, dict)]
        quotes += [f.get("quote", "") for f in rec.get("risk_flags", [])]
        for quote in quotes:
            words = _words(quote)
            for i in range(len(words) - 4):
                gram = " ".join(words[i:i + 5])
                if _document_specific(gram, texts, reference):
                    out.add(gram)
    return out


def test_flatten_source_reads_regexes_as_words():
    assert "bring it to an earlier end" in flatten_source(r"r'(?:bring\s+it\s+to\s+an\s+earlier\s+end)[^.]{0,150}'")
    assert "bring it to an earlier end" in flatten_source('r"(?:bring\\s+it\\s+to"\n    r"\\s+an\\s+earlier\\s+end)"')
    assert "deposit with landlord as" not in flatten_source(r"r'deposit\s+with\s+landlord|as\s+security'")


def test_extractor_source_has_no_document_specific_names_or_phrases(corpus):
    records, texts, reference = corpus
    candidates = _candidates(records, texts, reference)
    assert len(candidates) > 100  # the check has material to work with
    found = []
    for path in SOURCES:
        flat = flatten_source(path.read_text())
        found += [f"{path.name}: {c!r}" for c in sorted(candidates - GENERIC_PHRASES.keys()) if f" {c} " in flat]
    assert not found, "document-specific text in the extractor:\n" + "\n".join(found)
