"""Reliability diagram as a PNG (drawn with Pillow): accuracy per confidence bin against the diagonal, and per field."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PIL import Image, ImageDraw, ImageFont

_W, _H, _PAD = 1100, 560, 60
_PANEL = 420  # side of each square plot area


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font at a size (scalable since Pillow 10.1)."""
    return ImageFont.load_default(size=size)


def _axes(d: ImageDraw.ImageDraw, x0: int, y0: int, title: str) -> None:
    """A unit square with ticks at 0.1 steps, the diagonal and axis labels; (x0, y0) is the top-left."""
    small = _font(12)
    d.rectangle([x0, y0, x0 + _PANEL, y0 + _PANEL], outline="black")
    for i in range(11):
        t = i / 10
        x, y = x0 + t * _PANEL, y0 + _PANEL - t * _PANEL
        d.line([x, y0 + _PANEL, x, y0 + _PANEL + 5], fill="black")
        d.line([x0 - 5, y, x0, y], fill="black")
        if i % 2 == 0:
            d.text((x - 9, y0 + _PANEL + 8), f"{t:.1f}", fill="black", font=small)
            d.text((x0 - 32, y - 7), f"{t:.1f}", fill="black", font=small)
    d.line([x0, y0 + _PANEL, x0 + _PANEL, y0], fill=(150, 150, 150), width=1)
    d.text((x0, y0 - 26), title, fill="black", font=_font(15))
    d.text((x0 + _PANEL / 2 - 40, y0 + _PANEL + 24), "confidence", fill="black", font=small)
    d.text((x0 - 52, y0 - 14), "accuracy", fill="black", font=small)


def _per_field(d: ImageDraw.ImageDraw, x0: int, y0: int, per_field: dict[str, dict[str, Any]]) -> None:
    """One row per field: accuracy as a bar, mean confidence as a red tick, the value count at the end."""
    width = _W - x0 - 50
    small = _font(12)
    d.text((x0 - 150, y0 - 26), "per field: accuracy (bar) vs mean confidence (red)", fill="black", font=_font(15))
    rows = sorted(per_field.items())
    step = min(26.0, _PANEL / max(1, len(rows)))
    for i, (name, f) in enumerate(rows):
        top = y0 + i * step
        d.text((x0 - 150, top + 2), name, fill="black", font=small)
        d.rectangle([x0, top + 3, x0 + float(f["accuracy"]) * width, top + step - 3], fill=(70, 120, 200))
        tick = x0 + float(f["mean_confidence"]) * width
        d.line([tick, top, tick, top + step], fill=(210, 40, 40), width=3)
        d.text((x0 + width + 6, top + 2), str(f["values"]), fill=(60, 60, 60), font=small)
    bottom = y0 + len(rows) * step
    for t in (0.0, 0.5, 1.0):
        d.line([x0 + t * width, bottom, x0 + t * width, bottom + 5], fill="black")
        d.text((x0 + t * width - 9, bottom + 8), f"{t:.1f}", fill="black", font=small)


def draw_reliability(bins: Sequence[dict[str, Any]], per_field: dict[str, dict[str, Any]], path: Path,
                     title: str, ece: float | None) -> Path:
    """Write the diagram: left, one bar per bin (accuracy; gap to the bin's mean confidence in red) with counts;
    right, each field's accuracy against its mean confidence."""
    img = Image.new("RGB", (_W, _H), "white")
    d = ImageDraw.Draw(img)
    total = sum(int(b["count"]) for b in bins)
    ece_text = "n/a" if ece is None else f"{ece:.3f}"
    d.text((_PAD, 10), f"{title}   ECE {ece_text} over {total} values", fill="black", font=_font(17))
    x0, y0 = _PAD + 10, 70
    _axes(d, x0, y0, "per confidence bin")
    small = _font(11)
    for b in bins:
        if not b["count"]:
            continue
        left = x0 + float(b["bin_lower"]) * _PANEL + 2
        right = x0 + float(b["bin_upper"]) * _PANEL - 2
        acc_y = y0 + _PANEL - float(b["accuracy"]) * _PANEL
        conf_y = y0 + _PANEL - float(b["mean_confidence"]) * _PANEL
        d.rectangle([left, acc_y, right, y0 + _PANEL], fill=(70, 120, 200))
        d.rectangle([left, min(acc_y, conf_y), right, max(acc_y, conf_y)], outline=(210, 40, 40), width=2)
        d.text((left + 2, min(acc_y, conf_y) - 14), str(b["count"]), fill="black", font=small)
    _per_field(d, x0 + _PANEL + 200, y0, per_field)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path
