"""Reliability diagram as a PNG (drawn with Pillow): accuracy per confidence bin against the diagonal, per field."""
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


def draw_reliability(bins: Sequence[dict[str, Any]], per_field: dict[str, dict[str, Any]], path: Path,
                     title: str, ece: float | None) -> Path:
    """Write the diagram: left, one bar per bin (accuracy; gap to the bin's mean confidence in red) with counts;
    right, each field at (mean confidence, accuracy), dot area by number of values."""
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
    x1 = x0 + _PANEL + 120
    _axes(d, x1, y0, "per field (mean confidence, accuracy)")
    biggest = max((int(f["values"]) for f in per_field.values()), default=1)
    for name, f in sorted(per_field.items(), key=lambda kv: kv[1]["mean_confidence"]):
        cx = x1 + float(f["mean_confidence"]) * _PANEL
        cy = y0 + _PANEL - float(f["accuracy"]) * _PANEL
        r = 3 + 9 * (int(f["values"]) / biggest) ** 0.5
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(70, 120, 200), outline="black")
        d.text((cx + r + 2, cy - 6), name, fill=(60, 60, 60), font=small)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path
