"""The review workspace used as a person would: sign in, drop a lease, check a cited field, correct it, export."""
from __future__ import annotations

import base64
import csv
import io
import os
import re
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, ROOT, BrowserPage, Server

D001 = ROOT.parent / "shared" / "devset" / "docs" / "D001.pdf"
# the README's picture; a normal run writes beside the failure screenshots so the checkout stays clean
SCREENSHOT = (ROOT / "docs" if os.environ.get("ATLAS_UPDATE_SCREENSHOT") == "1" else ARTIFACTS) / "abstract-view.png"
REVIEWER = "Robin Reviewer"
NEW_TENANT = "Quarry Outdoor Supply Company"

# a text lease whose file name and corrected value carry markup: it must show as text and never run
XSS = "<img src=x onerror=window.__pwned=1>"
TEXT_LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. "
              b"(\"Tenant\").\nThe Term commences on March 1, 2025 and expires on February 28, 2030.\n"
              b"Base Rent: $4,000.00 per month.\n")

DROP = """([b64, name]) => {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, { type: 'application/pdf' }));
  return dt;
}"""


def sign_in(bp: BrowserPage, server: Server, name: str = REVIEWER) -> None:
    """Open /app and sign in with the server's key."""
    from playwright.sync_api import expect

    page = bp.page
    page.goto(f"{server.url}/app/")
    expect(page.locator("#view-signin")).to_be_visible()
    page.fill("#signin-key", server.key)
    page.fill("#signin-name", name)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#view-documents")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('atlas.key')") == server.key


def field_order(extraction: dict) -> list[str]:
    """What the page must list: fields needing review first, otherwise in the abstract's order (FIELD_NAMES)."""
    from pipeline.domain.model import FIELD_NAMES

    rank = {n: i for i, n in enumerate(FIELD_NAMES)}
    return sorted(extraction["fields"], key=lambda n: (extraction["fields"][n]["status"] != "needs_review",
                                                       rank.get(n, len(rank)), n))


@pytest.mark.skipif(not D001.exists(), reason=f"devset lease {D001} is missing")
def test_review_a_dropped_lease_end_to_end(server: Server, browser: BrowserPage) -> None:
    from playwright.sync_api import expect

    page = browser.page
    sign_in(browser, server)

    # upload by drag and drop: a real drop event carrying the PDF, sent with XHR upload progress
    data = base64.b64encode(D001.read_bytes()).decode()
    transfer = page.evaluate_handle(DROP, [data, "D001.pdf"])
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class("dropzone over")
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    upload = page.locator("#uploads li").first
    expect(upload).to_have_attribute("data-progress", "100")  # set only by XHR upload progress events
    expect(upload).to_have_attribute("data-doc-id", re.compile(r"^[0-9a-f-]{36}$"))
    doc_id = upload.get_attribute("data-doc-id")

    # the list picks the document up by polling and shows it ready
    row = page.locator(f"#doc-table tr[data-id='{doc_id}']")
    expect(row.locator("a")).to_have_text("D001.pdf")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "ready", timeout=180_000)
    row.locator("a").click()

    # the abstract: every field, needing review first, each with a confidence badge
    expect(page.locator("#doc-title")).to_have_text("D001.pdf")
    expect(page.locator("#doc-meta")).to_have_attribute("data-version", "1")
    _, extraction, _ = server.api("GET", f"/v1/documents/{doc_id}/extraction")
    buttons = page.locator("#field-list button.field")
    expect(buttons).to_have_count(len(extraction["fields"]))
    assert [b.get_attribute("data-field") for b in buttons.all()] == field_order(extraction)
    needing = [n for n, f in extraction["fields"].items() if f["status"] == "needs_review"]
    assert needing, "the server's review threshold (0.95) should leave some fields needing review"
    for name, value in extraction["fields"].items():  # the marker follows the API's status, field by field
        mark = page.locator(f"button.field[data-field='{name}'] .review-mark")
        if name in needing:
            expect(mark).to_have_text("needs review")
        else:
            expect(mark).to_have_count(0)
    for name in ("tenant", "base_rent_monthly"):
        conf = round(extraction["fields"][name]["confidence"] * 100)
        expect(page.locator(f"button.field[data-field='{name}'] .badge")).to_contain_text([f"{conf}%"])

    # clicking a field shows its cited page with the cited words boxed where the parser put them
    cite = extraction["fields"]["governing_law"]["citations"][0]
    assert cite["page"] > 1, "the test needs a field cited beyond page 1"
    page.click("button.field[data-field='governing_law']")
    image = page.locator("#page-img")
    expect(image).to_have_attribute("data-page", str(cite["page"]))
    expect(page.locator("#page-label")).to_have_text(f"Page {cite['page']} of {extraction_pages(server, doc_id)}")
    box = page.locator("#page-frame .hl")
    expect(box).to_have_count(1)
    expect(box).to_have_attribute("data-page", str(cite["page"]))
    assert image.evaluate("img => img.naturalWidth") > 500
    _, _, headers = server.api("GET", f"/v1/documents/{doc_id}/pages/{cite['page']}.png")
    width, height = float(headers["X-Page-Width"]), float(headers["X-Page-Height"])
    img_box, hl_box = image.bounding_box(), box.bounding_box()
    assert hl_box["x"] == pytest.approx(img_box["x"] + cite["bbox"][0] / width * img_box["width"], abs=2)
    assert hl_box["y"] == pytest.approx(img_box["y"] + cite["bbox"][1] / height * img_box["height"], abs=2)
    assert hl_box["width"] == pytest.approx((cite["bbox"][2] - cite["bbox"][0]) / width * img_box["width"], abs=2)
    expect(page.locator("#detail-quote")).to_contain_text(cite["quote"].strip()[:20])

    # keyboard: arrows move through the fields, focus is visible, 'e' opens the editor
    page.focus("button.field[data-field='governing_law']")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.field")
    assert focused != "governing_law" and focused in extraction["fields"]
    expect(page.locator(f"button.field[data-field='{focused}']")).to_have_attribute("aria-current", "true")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"

    # risk flags with their clauses, the rent schedule and its chart
    flags = page.locator("#flag-list li[data-type]")
    expect(flags).to_have_count(len(extraction["risk_flags"]))
    if extraction["risk_flags"]:
        expect(flags.first.locator("q").first).to_have_text(extraction["risk_flags"][0]["citations"][0]["quote"])
    expect(page.locator("#rent-table tbody tr")).to_have_count(len(extraction["rent_schedule"]))
    rents = [float(c.get_attribute("data-rent")) for c in page.locator("#rent-chart svg circle").all()]
    assert rents == [p["monthly_rent"] for p in extraction["rent_schedule"]]

    # the screenshot the README shows: a field and its highlighted source
    page.click("button.field[data-field='base_rent_monthly']")
    expect(page.locator("#page-frame .hl")).to_have_count(2)
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # correct a value with the keyboard: a new reviewed version with who and old -> new
    old_tenant = extraction["fields"]["tenant"]["value"]
    page.focus("button.field[data-field='tenant']")
    page.keyboard.press("e")
    expect(page.locator("#edit-value")).to_be_focused()
    page.fill("#edit-value", "a typo")
    page.keyboard.press("Escape")  # cancels: the value comes back and focus returns to the field
    expect(page.locator("#edit-value")).to_have_value(old_tenant)
    expect(page.locator("button.field[data-field='tenant']")).to_be_focused()
    page.keyboard.press("e")
    page.fill("#edit-value", NEW_TENANT)
    page.fill("#edit-note", "name as in the signature block")
    page.press("#edit-value", "Enter")
    expect(page.locator("#doc-meta")).to_have_attribute("data-version", "2")
    expect(page.locator("button.field[data-field='tenant'] .val")).to_have_text(NEW_TENANT)
    expect(page.locator("button.field[data-field='tenant']")).to_contain_text("corrected")
    trail = page.locator("#trail-table tbody tr").first
    expect(trail).to_contain_text(REVIEWER)
    expect(trail.locator("del")).to_have_text(old_tenant)
    expect(trail.locator("ins")).to_have_text(NEW_TENANT)
    expect(page.locator("#detail-history li").first).to_contain_text(f"{old_tenant} → {NEW_TENANT}")
    # versions side by side (the compare API)
    changed = page.locator("#compare-table tbody tr[data-field='tenant']")
    expect(changed.locator("td")).to_have_text([old_tenant, NEW_TENANT])
    expect(page.locator("#compare-a-head")).to_contain_text("v1")
    expect(page.locator("#compare-b-head")).to_contain_text("v2")
    _, latest, _ = server.api("GET", f"/v1/documents/{doc_id}/extraction")
    assert latest["version"] == 2 and latest["fields"]["tenant"]["value"] == NEW_TENANT
    assert latest["reviews"][-1]["by"].startswith(REVIEWER)

    # export the portfolio abstract as CSV from the documents page: it carries the corrected value
    page.click("a.back")
    with page.expect_download() as info:
        page.click("button[data-export='/v1/exports/abstract.csv']")
    download = info.value
    assert download.suggested_filename == "atlas-abstract.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    mine = [r for r in rows if r["document_id"] == doc_id]
    assert len(mine) == 1 and mine[0]["tenant"] == NEW_TENANT and mine[0]["version"] == "2"

    # undo restores the extracted value as version 3, and there is nothing left to undo
    row.locator("a").click()
    expect(page.locator("#doc-meta")).to_have_attribute("data-version", "2")
    page.click("#undo")
    expect(page.locator("#doc-meta")).to_have_attribute("data-version", "3")
    expect(page.locator("button.field[data-field='tenant'] .val")).to_have_text(old_tenant)
    expect(page.locator("#undo")).to_be_disabled()

    assert browser.unexpected_errors() == []


def extraction_pages(server: Server, doc_id: str) -> int:
    """The document's page count as the API reports it."""
    _, doc, _ = server.api("GET", f"/v1/documents/{doc_id}")
    return doc["page_count"]


def test_document_text_is_shown_as_text_never_run(server: Server, browser: BrowserPage) -> None:
    from playwright.sync_api import expect

    doc_id = server.upload(f"{XSS}.txt", TEXT_LEASE, "text/plain")
    server.wait_ready(doc_id)
    status, _, _ = server.api("PATCH", f"/v1/documents/{doc_id}/extraction/fields/tenant",
                              {"value": XSS, "note": XSS, "reviewed_by": XSS})
    assert status == 200

    page = browser.page
    sign_in(browser, server)
    link = page.locator(f"#doc-table tr[data-id='{doc_id}'] a")
    expect(link).to_have_text(f"{XSS}.txt")
    link.click()
    expect(page.locator("#doc-title")).to_have_text(f"{XSS}.txt")
    expect(page.locator("button.field[data-field='tenant'] .val")).to_have_text(XSS)
    expect(page.locator("#trail-table tbody tr").first).to_contain_text(XSS)
    page.select_option("#compare-a", "1")
    page.select_option("#compare-b", "2")
    page.click("#compare-form button")
    expect(page.locator("#compare-table tbody tr[data-field='tenant'] td").nth(1)).to_have_text(XSS)
    page.click("button.field[data-field='tenant']")
    expect(page.locator("#detail-value")).to_have_text(XSS)
    # a text lease has no page images: the quote stands alone and no page is requested
    page.click("button.field[data-field='landlord']")
    expect(page.locator("#detail-quote")).to_contain_text("Harbor Point LLC")
    expect(page.locator("#page-view")).to_be_hidden()

    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 1  # the page viewer's own image, never one from the data
    assert browser.unexpected_errors() == []


def test_a_refused_key_keeps_you_signed_out(server: Server, browser: BrowserPage) -> None:
    from playwright.sync_api import expect

    page = browser.page
    browser.allowed.append("status of 401")  # the refused sign-in request itself
    page.goto(f"{server.url}/app/")
    page.fill("#signin-key", "atl_deadbeef_" + "x" * 43)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_contain_text("That key was refused")
    expect(page.locator("#view-documents")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('atlas.key')") is None

    sign_in(browser, server)
    page.click("#sign-out")
    expect(page.locator("#view-signin")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('atlas.key')") is None
    assert browser.unexpected_errors() == []


def test_upload_from_the_keyboard_through_the_file_chooser(server: Server, browser: BrowserPage,
                                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.page
    sign_in(browser, server)
    lease = tmp_path / "keyboard-lease.txt"
    lease.write_bytes(TEXT_LEASE.replace(b"Nimbus Inc.", b"Keyboard Kite Co."))
    # Playwright turns on file-chooser interception without waiting for the browser's reply; listening from here
    # on makes sure it is on before Enter is pressed (otherwise, under load, the dialog can open uncaught)
    page.on("filechooser", lambda chooser: None)
    for _ in range(15):  # the drop zone is reachable with Tab, and shows it has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "dropzone":
            break
    assert page.evaluate("document.activeElement.id") == "dropzone"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(lease))
    upload = page.locator("#uploads li").first
    expect(upload).to_have_attribute("data-progress", "100")
    expect(upload).to_have_attribute("data-doc-id", re.compile(r"^[0-9a-f-]{36}$"))
    doc_id = upload.get_attribute("data-doc-id")
    row = page.locator(f"#doc-table tr[data-id='{doc_id}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "ready", timeout=120_000)
    upload.locator("a").click()
    expect(page.locator("button.field[data-field='tenant'] .val")).to_have_text("Keyboard Kite Co.")
    assert browser.unexpected_errors() == []
