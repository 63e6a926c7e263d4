"""HTML: visible text only, block elements on their own lines; nothing is fetched or executed.

Text is pulled from a streaming tokenizer (the same one BeautifulSoup's "html.parser" uses), never from a
tree, so 10,000 nested <div>s cost nothing and no library depth limit silently truncates the document.
"""
from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from typing import Callable

from bs4.dammit import UnicodeDammit

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.formats import HTML
from pipeline.parse.limits import Deadline, ParseLimits
from pipeline.parse.model import Page, ParsedDocument

log = logging.getLogger(__name__)

# Subtrees that are never visible text (or are fallbacks for active content).
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "head", "title", "object", "embed",
                   "applet", "frameset", "noframes", "svg", "math", "canvas", "audio", "video", "select",
                   "datalist", "xml"})
_BLOCK = frozenset({"address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details",
                    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
                    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main", "menu",
                    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot",
                    "thead", "tr", "ul", "page", "textarea", "option"})
_CELL = frozenset({"td", "th"})
_HEAD_ONLY = frozenset({"title", "meta", "link", "style", "script", "base", "noscript", "template", "object"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr", "keygen", "basefont", "frame", "isindex"})
# Elements whose end tag is optional: a hidden one could swallow the rest of the page, so never hide them.
_OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot",
                           "colgroup", "caption", "rb", "rt", "rp", "optgroup", "html", "body", "head"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"[ \r\f\v]+")
_TABS = re.compile(r" *\t[ \t]*")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_CHECK_EVERY = 2000


class _VisibleText(HTMLParser):
    """Collects visible text; skipped elements are tracked by a stack of open tag names."""

    def __init__(self, deadline: Deadline | None, max_chars: int) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.size = 0
        self.skipping: list[str] = []
        self.deadline = deadline
        self.max_chars = max_chars
        self.events = 0

    def _tick(self) -> None:
        self.events += 1
        if self.deadline is not None and self.events % _CHECK_EVERY == 0:
            self.deadline.check()

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.size += len(text)
        if self.size > self.max_chars:
            raise InvalidDocument(f"The document holds more than {self.max_chars:,} characters of text.",
                                  code="text_too_large")

    def _hides(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _SKIP:
            return True
        if tag in _VOID or tag in _OPTIONAL_END:
            return False
        values = dict(attrs)
        if "hidden" in values or values.get("aria-hidden") == "true":
            return True
        style = values.get("style")
        return bool(style and _HIDDEN_STYLE.search(style))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if tag == "body" or (self.skipping == ["head"] and tag not in _HEAD_ONLY):
            # An unclosed <head> ends where the body (or any body content) begins.
            self.skipping = [t for t in self.skipping if t not in ("head", "title")]
        if self.skipping:
            if tag not in _VOID and self._hides(tag, attrs):
                self.skipping.append(tag)
            return
        if self._hides(tag, attrs):
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _BLOCK:
            self._emit("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tick()
        if not self.skipping and tag in _BLOCK:
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        self._tick()
        if self.skipping:
            if tag in self.skipping:
                while self.skipping and self.skipping.pop() != tag:
                    pass
            return
        if tag in _CELL:
            self._emit("\t")
        elif tag in _BLOCK:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self._emit(data)


def decode_html(data: bytes) -> str:
    """Decode HTML bytes the way BeautifulSoup does (BOM, <meta charset>, then guesses)."""
    dammit = UnicodeDammit(data, is_html=True)
    if dammit.unicode_markup is None:
        return data.decode("utf-8", errors="replace")
    return dammit.unicode_markup


def visible_text(markup: str, deadline: Deadline | None = None, max_chars: int = 20_000_000) -> str:
    """Visible text of an HTML string with block elements separated by newlines and cells by tabs."""
    parser = _VisibleText(deadline, max_chars)
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)


def normalise_layout(text: str) -> str:
    """Collapse runs of spaces, trim lines and squeeze blank lines (words and their order untouched)."""
    text = text.replace("\u00a0", " ")
    lines = [_TABS.sub("\t", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def parse_html(data: bytes, limits: ParseLimits, deadline: Deadline,
               progress: Callable[[str, str], None]) -> ParsedDocument:
    """Parse an HTML document into one page of visible text."""
    markup = decode_html(data)
    deadline.check()
    text = normalise_layout(visible_text(markup, deadline, limits.max_text_chars))
    progress("parse", "read HTML text")
    return ParsedDocument(pages=[Page(number=1, text=text)], media_type=HTML)
