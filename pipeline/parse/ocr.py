"""OCR with Tesseract: one subprocess per page image (OMP_THREAD_LIMIT=1), pages in parallel, rotation fixed.

Boxes come back in the coordinates of the image that was handed in (before any rotation fix), scaled by
`points_per_px`, so a PDF caller gets page points with a top-left origin.
"""
from __future__ import annotations

import io
import logging
import shutil
import subprocess
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable

from PIL import Image

from pipeline.domain.errors import InvalidDocument
from pipeline.parse.limits import Deadline, ParseLimits, timeout_error
from pipeline.parse.model import Box

log = logging.getLogger(__name__)

_TESS_ENV = {"OMP_THREAD_LIMIT": "1"}
# Below this mean word confidence (or with almost no words) the page may be sideways: ask OSD.
_LOW_CONFIDENCE = 55.0
_MIN_WORDS = 8
_MIN_OSD_CONFIDENCE = 1.5
_INK_SHARE_BLANK = 0.0015


@dataclass
class OcrResult:
    """Text of one page image, its word boxes (in points) and the rotation that was applied."""

    text: str
    boxes: list[Box] = field(default_factory=list)
    rotation: int = 0
    confidence: float = 0.0
    words: int = 0


def tesseract_path(cmd: str) -> str | None:
    """Absolute path of the tesseract executable, or None when it is not installed."""
    return shutil.which(cmd)


def _run(args: list[str], image: Image.Image, deadline: Deadline) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PPM")  # uncompressed: cheaper to write and to read than PNG
    remaining = deadline.remaining()
    if remaining <= 0:
        raise timeout_error(deadline.seconds)
    try:
        proc = subprocess.run(args, input=buf.getvalue(), capture_output=True, timeout=remaining,
                              env=_TESS_ENV, check=False)
    except subprocess.TimeoutExpired as exc:
        raise timeout_error(deadline.seconds) from exc
    if proc.returncode != 0:
        log.warning("tesseract failed (%s): %s", proc.returncode, proc.stderr[-300:].decode(errors="replace"))
        raise InvalidDocument("Text recognition failed on a scanned page.", code="ocr_failed")
    return proc.stdout.decode("utf-8", errors="replace")


def _is_blank(image: Image.Image) -> bool:
    """A page with (almost) no dark pixels has nothing to read; skip Tesseract entirely."""
    small = image.convert("L").reduce(4) if min(image.size) >= 64 else image.convert("L")
    hist = small.histogram()
    dark = sum(hist[:128])
    return dark / max(1, small.width * small.height) < _INK_SHARE_BLANK


def _words_from_tsv(tsv: str) -> list[tuple[tuple[int, int, int], str, float, tuple[int, int, int, int]]]:
    words = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        words.append(((int(cols[2]), int(cols[3]), int(cols[4])), text, float(cols[10]),
                      (left, top, left + width, top + height)))
    return words


def _unrotate(box: tuple[int, int, int, int], rotation: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Map a box from the image turned clockwise by `rotation` back to the original (width x height) image."""
    x0, y0, x1, y1 = box
    if rotation == 90:      # original (x, y) -> rotated (H - y, x)
        pts = [(y, height - x) for x, y in ((x0, y0), (x1, y1))]
    elif rotation == 180:   # original (x, y) -> rotated (W - x, H - y)
        pts = [(width - x, height - y) for x, y in ((x0, y0), (x1, y1))]
    elif rotation == 270:   # original (x, y) -> rotated (y, W - x)
        pts = [(width - y, x) for x, y in ((x0, y0), (x1, y1))]
    else:
        return box
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _rotated(image: Image.Image, rotation: int) -> Image.Image:
    """The image turned clockwise by `rotation` degrees."""
    ops = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return image.transpose(ops[rotation]) if rotation in ops else image


def _recognise(image: Image.Image, rotation: int, points_per_px: float, args: list[str],
               deadline: Deadline, size: tuple[int, int]) -> OcrResult:
    words = _words_from_tsv(_run(args + ["tsv"], image, deadline))
    parts: list[str] = []
    boxes: list[Box] = []
    last_key: tuple[int, int, int] | None = None
    pos = 0
    for key, text, _conf, box in words:
        if last_key is not None:
            sep = " " if key == last_key else ("\n" if key[:2] == last_key[:2] else "\n\n")
            parts.append(sep)
            pos += len(sep)
        last_key = key
        x0, y0, x1, y1 = _unrotate(box, rotation, *size)
        boxes.append(Box(pos, pos + len(text), (x0 * points_per_px, y0 * points_per_px,
                                                 x1 * points_per_px, y1 * points_per_px)))
        parts.append(text)
        pos += len(text)
    confs = [c for _k, _t, c, _b in words if c >= 0]
    return OcrResult(text="".join(parts), boxes=boxes, rotation=rotation,
                     confidence=sum(confs) / len(confs) if confs else 0.0, words=len(words))


def _osd_rotation(image: Image.Image, base: list[str], dpi: int, deadline: Deadline) -> int | None:
    """Clockwise rotation Tesseract's orientation detection recommends, or None when it cannot tell."""
    try:
        out = _run(base + ["--psm", "0", "--dpi", str(dpi)], image, deadline)
    except InvalidDocument as exc:
        if exc.code == "parse_timeout":
            raise
        return None  # OSD fails on pages with too little text; the caller falls back to trying angles
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    try:
        rotate = int(fields.get("Rotate", "").strip())
        confidence = float(fields.get("Orientation confidence", "0").strip())
    except ValueError:
        return None
    return rotate % 360 if confidence >= _MIN_OSD_CONFIDENCE else None


def _good_enough(result: OcrResult) -> bool:
    return result.words >= _MIN_WORDS and result.confidence >= _LOW_CONFIDENCE


def _score(result: OcrResult) -> float:
    return result.confidence * result.words


def ocr_image(image: Image.Image, *, dpi: int, points_per_px: float, limits: ParseLimits,
              deadline: Deadline, exe: str) -> OcrResult:
    """OCR one page image; if it reads poorly, detect orientation (OSD, else 90° steps) and keep the best."""
    if _is_blank(image):
        return OcrResult(text="")
    size = image.size
    base = [exe, "stdin", "stdout", "-l", limits.ocr_language]
    args = base + ["--psm", "3", "--dpi", str(dpi)]
    best = _recognise(image, 0, points_per_px, args, deadline, size)
    if _good_enough(best):
        return best
    rotation = _osd_rotation(image, base, dpi, deadline)
    if rotation == 0 and best.words < _MIN_WORDS:
        return best
    # OSD's advice first; if that still reads poorly (OSD is often unsure on sparse pages), the other turns.
    candidates = [rotation] if rotation else []
    candidates += [angle for angle in (180, 90, 270) if angle not in candidates]
    for angle in candidates:
        attempt = _recognise(_rotated(image, angle), angle, points_per_px, args, deadline, size)
        if _score(attempt) > _score(best):
            best = attempt
        if _good_enough(best):
            break
    return best


def ocr_pages(jobs: Iterable[tuple[int, Callable[[], tuple[Image.Image, int]]]], total: int, *,
              limits: ParseLimits, deadline: Deadline, progress: Callable[[str, str], None],
              points_per_px_of: Callable[[int], float]) -> dict[int, OcrResult]:
    """OCR many pages in parallel; each job renders its image in the calling thread (renderers are not thread-safe)."""
    exe = tesseract_path(limits.tesseract_cmd)
    if exe is None:
        raise InvalidDocument("This document has scanned pages, but text recognition (Tesseract) is not "
                              "installed on this server.", code="ocr_unavailable")
    workers = max(1, limits.ocr_workers)
    results: dict[int, OcrResult] = {}
    pending: dict[Future, int] = {}
    done_count = 0

    def collect(block_until_one: bool) -> None:
        nonlocal done_count
        if not pending:
            return
        finished, _ = wait(list(pending), timeout=deadline.remaining() if block_until_one else 0,
                           return_when=FIRST_COMPLETED)
        if block_until_one and not finished:
            raise timeout_error(deadline.seconds)
        for future in finished:
            number = pending.pop(future)
            results[number] = future.result()
            done_count += 1
            progress("ocr", f"page {done_count} of {total}")

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        for number, render in jobs:
            deadline.check()
            while len(pending) >= workers * 2:
                collect(block_until_one=True)
            image, dpi = render()
            pending[pool.submit(ocr_image, image, dpi=dpi, points_per_px=points_per_px_of(number),
                                limits=limits, deadline=deadline, exe=exe)] = number
            collect(block_until_one=False)
        while pending:
            collect(block_until_one=True)
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
    return results
