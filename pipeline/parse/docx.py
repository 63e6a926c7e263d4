"""DOCX via python-docx: body paragraphs and tables in order, headers/footers, tracked insertions kept.

Hostile archives are refused before python-docx sees them: declared uncompressed sizes and ratios are
checked from the zip directory, and any DTD or entity declaration in an XML part is refused (Word never
writes one; it is how XXE and billion-laughs attacks arrive).
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
import zlib
from typing import Callable, Iterator

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.formats import DOCX
from pipeline.parse.limits import Deadline, ParseLimits
from pipeline.parse.model import Page, ParsedDocument

log = logging.getLogger(__name__)

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{%s}" % W_NS
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Each small member may compress extremely well (repetitive XML); only big inflations count as bombs.
_RATIO_FLOOR_BYTES = 10 * 1024 * 1024
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def _bomb(message: str) -> InvalidDocument:
    return InvalidDocument(message, code="decompression_bomb")


def check_archive(data: bytes, limits: ParseLimits) -> None:
    """Refuse zip bombs (from the declared sizes, before inflating) and XML parts that declare a DTD."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InvalidDocument("The Word file is damaged and cannot be opened.", code="corrupt_file") from exc
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > limits.max_zip_uncompressed_bytes:
            raise _bomb(f"The Word file would expand to {total / 1048576:,.0f} MiB; the limit is "
                        f"{limits.max_zip_uncompressed_bytes / 1048576:,.0f} MiB.")
        for info in infos:
            if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > limits.max_zip_ratio * max(1, info.compress_size):
                raise _bomb(f"A part of the Word file ({info.filename}) expands {info.file_size // max(1, info.compress_size):,}"
                            " times; it looks like a zip bomb.")
        for info in infos:
            if not info.filename.lower().endswith(_XML_SUFFIXES):
                continue
            try:
                body = _read_capped(archive, info, limits.max_zip_uncompressed_bytes)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError) as exc:
                raise InvalidDocument("The Word file is damaged and cannot be opened.", code="corrupt_file") from exc
            if _declares_dtd(body):
                raise InvalidDocument("The Word file contains XML entity declarations, which Word never writes; "
                                      "it was refused as unsafe.", code="unsafe_xml")


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read a member but never more than `cap` bytes, whatever its header claims."""
    with archive.open(info) as handle:
        body = handle.read(cap + 1)
    if len(body) > cap:
        raise _bomb(f"A part of the Word file ({info.filename}) expands past the size limit.")
    return body


def _declares_dtd(body: bytes) -> bool:
    head = body[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:2] == b"\x00" or head[:1] == b"\x00":
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    # A DTD can only appear in the prolog, but be generous: scan the whole part.
    return bool(_DTD.search(head) or _DTD.search(body))


def _run_text(element) -> str:
    """Text of a paragraph-like element: w:t outside deletions, tabs and breaks; insertions kept."""
    out: list[str] = []
    for node in element.iter(_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "noBreakHyphen", _W + "del",
                             _W + "moveFrom", _W + "delText"):
        tag = node.tag
        if _inside_deletion(node, element):
            continue
        if tag == _W + "t":
            out.append(node.text or "")
        elif tag == _W + "tab":
            out.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            out.append("\n")
        elif tag == _W + "noBreakHyphen":
            out.append("-")
    return "".join(out)


def _inside_deletion(node, stop) -> bool:
    parent = node
    while parent is not None and parent is not stop:
        if parent.tag in (_W + "del", _W + "moveFrom"):
            return True
        parent = parent.getparent()
    return False


def _table_lines(tbl) -> Iterator[str]:
    """One line per row, cells separated by tabs; merged cells appear once."""
    for tr in tbl.iterchildren(_W + "tr"):
        if _inside_deletion(tr, tbl):
            continue
        cells = []
        for tc in tr.iter(_W + "tc"):
            if tc.getparent() is not tr and tc.getparent().tag != _W + "sdtContent":
                continue  # cells of nested tables are read with their own table
            vmerge = tc.find(f"{_W}tcPr/{_W}vMerge")
            if vmerge is not None and vmerge.get(_W + "val") in (None, "continue"):
                cells.append("")
                continue
            cells.append("\n".join(_block_lines(tc)).replace("\n", " "))
        yield "\t".join(cells)


def _block_lines(container) -> Iterator[str]:
    """Paragraph and table lines of a body-like container in document order."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield _run_text(child)
        elif tag == _W + "tbl":
            yield from _table_lines(child)
        elif tag in (_W + "sdt", _W + "customXml", _W + "ins", _W + "smartTag"):
            content = child.find(_W + "sdtContent") if tag == _W + "sdt" else child
            if content is not None:
                yield from _block_lines(content)


def _part_lines(parts) -> list[str]:
    lines: list[str] = []
    seen: set[int] = set()
    for part in parts:
        if id(part.part) in seen:
            continue
        seen.add(id(part.part))
        lines.extend(line for line in _block_lines(part.part.element) if line.strip())
    return lines


def parse_docx(data: bytes, limits: ParseLimits, deadline: Deadline,
               progress: Callable[[str, str], None]) -> ParsedDocument:
    """Parse a DOCX into one page: header lines, body (paragraphs and table rows in order), footer lines."""
    check_archive(data, limits)
    deadline.check()
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise InvalidDocument("The Word file is damaged or incomplete and cannot be read.",
                              code="corrupt_file") from exc
    except Exception as exc:
        # lxml raises XMLSyntaxError for malformed parts; import lazily to keep the type check narrow.
        from lxml.etree import XMLSyntaxError
        if isinstance(exc, XMLSyntaxError):
            raise InvalidDocument("The Word file contains malformed XML and cannot be read.",
                                  code="corrupt_file") from exc
        raise
    deadline.check()
    body = list(_block_lines(document.element.body))
    headers, footers = [], []
    for section in document.sections:
        # Only parts a section defines itself; reading a linked one would make python-docx create it.
        headers.extend(h for h in (section.first_page_header, section.header, section.even_page_header)
                       if not h.is_linked_to_previous)
        footers.extend(f for f in (section.first_page_footer, section.footer, section.even_page_footer)
                       if not f.is_linked_to_previous)
    header_lines = _part_lines(headers)
    footer_lines = _part_lines(footers)
    deadline.check()
    text = "\n".join(header_lines + body + footer_lines).strip()
    if len(text) > limits.max_text_chars:
        raise InvalidDocument(f"The document holds more than {limits.max_text_chars:,} characters of text.",
                              code="text_too_large")
    props = document.core_properties
    metadata = {"title": props.title or None, "author": props.author or None,
                "producer": "Microsoft Word (DOCX)"}
    progress("parse", "read Word document")
    return ParsedDocument(pages=[Page(number=1, text=text)], media_type=DOCX, metadata=metadata)
