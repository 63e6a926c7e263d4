"""Plain text and Markdown: encoding detection, clean-up, and pages split at form feeds."""
from __future__ import annotations

import logging
import re
from typing import Callable

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.formats import TEXT
from pipeline.parse.limits import Deadline, ParseLimits
from pipeline.parse.model import Page, ParsedDocument

log = logging.getLogger(__name__)

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# Control characters that never occur in real text (tab, LF, FF and CR are handled separately).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_GARBAGE_SHARE = 0.10
# Encoding and garbage checks look at a leading sample: enough to judge, cheap on a 50 MiB file.
_SAMPLE_CHARS = 1_000_000
_GARBAGE = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff]")


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name): BOM first, then strict UTF-8, then charset-normalizer, then Latin-1."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace"), codec
    bom_less_utf16 = _bomless_utf16(data)
    if bom_less_utf16:
        return data.decode(bom_less_utf16, errors="replace"), bom_less_utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in data[:65536]:
        western = _western(data)
        if western:
            return data.decode(western), western
        guess = _charset_guess(data)
        if guess:
            return data.decode(guess, errors="replace"), guess
        return data.decode("latin-1", errors="replace"), "latin-1"
    return data.decode("utf-8", errors="replace"), "utf-8"


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as NULs at every other byte of ASCII text."""
    sample = data[:4096]
    if len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _charset_guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    best = from_bytes(data[:262144]).best()
    if best is None:
        return None
    # Single-byte Western text is by far the common case; trust exotic guesses only when confident.
    if best.encoding in ("ascii", "utf_8"):
        return None
    return best.encoding


def _western(data: bytes) -> str | None:
    """cp1252 (a superset of printable Latin-1) when it decodes cleanly into mostly letters and typography.

    charset-normalizer readily calls accented Western text cp1250 and mangles names; Western European
    leases are the common case, so they are tried first and other guesses only when this does not fit.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    high = [ch for ch in text[:_SAMPLE_CHARS] if ord(ch) > 127]
    if not high:
        return "cp1252"
    plausible = sum(1 for ch in high if ch.isalpha() or ch in _WESTERN_SYMBOLS)
    return "cp1252" if plausible / len(high) >= 0.9 else None


_WESTERN_SYMBOLS = frozenset("§½¼¾°±²³µ¶·«»¿¡©®™€£¥¢–—‘’‚“”„•…‰¤¦¨ª¬¯´¸¹º×÷\u00a0")


def clean_text(text: str) -> str:
    """NUL and other control characters removed, CRLF/CR turned into LF (form feeds kept as page breaks)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def garbage_share(text: str) -> float:
    """Share of characters (in a leading sample) that are replacement marks, controls or private-use code points."""
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return 0.0
    return len(_GARBAGE.findall(sample)) / len(sample)


def parse_text(data: bytes, limits: ParseLimits, deadline: Deadline,
               progress: Callable[[str, str], None]) -> ParsedDocument:
    """Decode plain text into pages (split at form feeds)."""
    raw_text, encoding = decode_text(data)
    if garbage_share(raw_text) > _MAX_GARBAGE_SHARE:
        raise InvalidDocument("The file does not contain readable text (it looks like binary data).",
                              code="no_text")
    text = clean_text(raw_text)
    if len(text) > limits.max_text_chars:
        raise InvalidDocument(f"The document holds more than {limits.max_text_chars:,} characters of text.",
                              code="text_too_large")
    deadline.check()
    chunks = text.split("\f")
    pages = [Page(number=i + 1, text=chunk) for i, chunk in enumerate(chunks)]
    if len(pages) > limits.max_pages:
        raise InvalidDocument(f"The document has {len(pages)} pages; the limit is {limits.max_pages}.",
                              code="too_many_pages")
    progress("parse", f"decoded {len(pages)} page(s) as {encoding}")
    return ParsedDocument(pages=pages, media_type=TEXT, metadata={"encoding": encoding})
