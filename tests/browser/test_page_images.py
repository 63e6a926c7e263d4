"""The server side of the workspace without a browser: the /app page and the page-image endpoint."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.keys import create_key
from pipeline.settings import load_settings

D001 = Path(__file__).resolve().parents[3] / "shared" / "devset" / "docs" / "D001.pdf"
LETTER = (612.0, 792.0)


class App:
    """An app over a fresh data directory, a key, and a few uploaded documents (no worker needed)."""

    def __init__(self, tmp: Path) -> None:
        svc = build(load_settings(ATLAS_DATA_DIR=str(tmp), ATLAS_RATE_LIMIT_PER_MINUTE=100_000), migrate=True)
        self.client = create_app(svc).test_client()
        _, key, _ = create_key("pages", uow_factory=svc.uow_factory, pepper=svc.settings.api_key_pepper)
        self.h = {"Authorization": f"Bearer {key}"}

    def upload(self, name: str, data: bytes) -> str:
        r = self.client.post("/v1/documents", headers=self.h, data={"file": (io.BytesIO(data), name)})
        assert r.status_code in (200, 202), r.get_json()
        return r.get_json()["id"]


def _pdf(pages: list[tuple[float, float]]) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    for width, height in pages:
        c.setPageSize((width, height))
        c.drawString(72, height - 72, "LEASE AGREEMENT between Landlord and Tenant")
        c.showPage()
    c.save()
    return out.getvalue()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return App(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def pdf_id(app: App) -> str:
    return app.upload("two-pages.pdf", _pdf([LETTER, (842.0, 595.0)]))


def test_a_page_is_a_png_sized_by_the_scale_with_its_size_in_points(app: App, pdf_id: str):
    r = app.client.get(f"/v1/documents/{pdf_id}/pages/2.png?scale=2", headers=app.h)
    assert r.status_code == 200 and r.mimetype == "image/png"
    image = Image.open(io.BytesIO(r.data))
    assert image.size == (1684, 1190)  # the landscape second page, 2 px per point
    assert float(r.headers["X-Page-Width"]) == pytest.approx(842, abs=0.5)
    assert float(r.headers["X-Page-Height"]) == pytest.approx(595, abs=0.5)
    first = app.client.get(f"/v1/documents/{pdf_id}/pages/1.png", headers=app.h)  # default scale 1.5
    assert Image.open(io.BytesIO(first.data)).size == (918, 1188)
    assert float(first.headers["X-Page-Scale"]) == 1.5
    assert "no-store" in first.headers["Cache-Control"]


def test_a_huge_page_is_capped_in_pixels_not_refused(app: App):
    doc = app.upload("poster.pdf", _pdf([(6000.0, 3000.0)]))
    r = app.client.get(f"/v1/documents/{doc}/pages/1.png?scale=3", headers=app.h)
    assert r.status_code == 200
    assert Image.open(io.BytesIO(r.data)).size == (2400, 1200)
    assert float(r.headers["X-Page-Width"]) == pytest.approx(6000, rel=0.002)  # still the page in points


@pytest.mark.parametrize("path", ["1.png?scale=abc", "1.png?scale=0.1", "1.png?scale=4", "1.png?scale=nan",
                                  "1.png?scale=inf", "x.png", "1.5.png", "-1.png"])
def test_bad_page_numbers_and_scales_are_400(app: App, pdf_id: str, path: str):
    r = app.client.get(f"/v1/documents/{pdf_id}/pages/{path}", headers=app.h)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("page", ["0", "3", "999999"])
def test_pages_outside_the_document_are_404(app: App, pdf_id: str, page: str):
    r = app.client.get(f"/v1/documents/{pdf_id}/pages/{page}.png", headers=app.h)
    assert r.status_code == 404
    assert "pages 1..2" in r.get_json()["error"]["message"]


def test_documents_without_pages_say_so(app: App):
    doc = app.upload("lease.txt", b"LEASE AGREEMENT\nThe Landlord leases to the Tenant the premises.\n")
    r = app.client.get(f"/v1/documents/{doc}/pages/1.png", headers=app.h)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "no_page_image"
    assert app.client.get("/v1/documents/nope/pages/1.png", headers=app.h).status_code == 404
    assert app.client.get(f"/v1/documents/{doc}/pages/1.png").status_code == 401


@pytest.mark.skipif(not D001.exists(), reason=f"devset lease {D001} is missing")
def test_a_devset_lease_renders_every_page(app: App):
    doc = app.upload("D001.pdf", D001.read_bytes())
    for n in range(1, 7):
        r = app.client.get(f"/v1/documents/{doc}/pages/{n}.png?scale=0.5", headers=app.h)
        assert r.status_code == 200, (n, r.get_data(as_text=True)[:200])
        assert Image.open(io.BytesIO(r.data)).size == (306, 396)


def test_the_workspace_page_is_served_with_a_strict_policy(app: App):
    r = app.client.get("/app/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    html = r.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/app/static/[^"]+)"', html)
    assert {Path(a).name for a in assets} == {"app.js", "app.css", "favicon.svg"}
    for asset in assets:
        got = app.client.get(asset)
        assert got.status_code == 200 and len(got.data) > 100, asset
    assert "<script>" not in html and "style=" not in html  # nothing inline for the policy to allow
    assert app.client.get("/app").status_code in (301, 308)


def test_the_script_never_parses_data_as_html():
    """The XSS rule of the workspace, kept by the source: no innerHTML, outerHTML, insertAdjacentHTML or eval."""
    source = (Path(__file__).resolve().parents[2] / "api" / "webapp" / "static" / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
