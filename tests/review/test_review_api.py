"""Review and exports through the HTTP API on the embedded runtime: correct, undo, compare, CSV/XLSX/ICS/JSON,
and `atlas export-truth` output that the shared scorer reads as truth."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from icalendar import Calendar

from api.app import create_app
from pipeline.bootstrap import build
from pipeline.cli import main as cli
from pipeline.handlers import build_handlers
from pipeline.keys import create_key
from pipeline.settings import load_settings
from pipeline.worker import Worker

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
LEASE = SHARED / "devset" / "docs" / "D034.txt"
pytestmark = pytest.mark.skipif(not LEASE.exists(), reason="../shared/devset/docs/D034.txt missing")


class Env:
    """One organisation with a processed devset lease; another organisation with a key only."""

    def __init__(self, tmp: Path) -> None:
        self.data_dir = tmp
        self.svc = build(load_settings(ATLAS_DATA_DIR=str(tmp), ATLAS_RATE_LIMIT_PER_MINUTE=100_000), migrate=True)
        self.client = create_app(self.svc).test_client()
        pepper = self.svc.settings.api_key_pepper
        _, self.key, _ = create_key("acme", uow_factory=self.svc.uow_factory, pepper=pepper)
        _, self.other, _ = create_key("other", uow_factory=self.svc.uow_factory, pepper=pepper)
        r = self.client.post("/v1/documents", headers=self.h(),
                             data={"file": (io.BytesIO(LEASE.read_bytes()), "D034.txt")})
        assert r.status_code == 202, r.get_json()
        self.doc = r.get_json()["id"]
        Worker(self.svc.queue, build_handlers(self.svc, with_index=False)).drain(timeout_s=60)

    def h(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


@pytest.fixture()
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def _patch(env: Env, field: str, body: dict, key: str | None = None):  # type: ignore[no-untyped-def]
    return env.client.patch(f"/v1/documents/{env.doc}/extraction/fields/{field}", headers=env.h(key), json=body)


def test_correct_undo_compare_and_versions(env: Env):
    before = env.client.get(f"/v1/documents/{env.doc}/extraction", headers=env.h()).get_json()
    r = _patch(env, "tenant", {"value": "Corrected Tenant LLC", "reviewed_by": "ana@acme.test", "note": "p.1"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["version"] == before["version"] + 1 and body["fields"]["tenant"]["value"] == "Corrected Tenant LLC"
    entry = body["reviews"][-1]
    assert entry["old"] == before["fields"]["tenant"]["value"] and entry["by"].startswith("ana@acme.test (key ")
    latest = env.client.get(f"/v1/documents/{env.doc}/extraction", headers=env.h()).get_json()
    assert latest["fields"]["tenant"]["value"] == "Corrected Tenant LLC"

    diff = env.client.get(f"/v1/documents/{env.doc}/extraction/compare", headers=env.h()).get_json()
    assert [c["field"] for c in diff["changes"]] == ["tenant"]
    versions = env.client.get(f"/v1/documents/{env.doc}/extraction/versions", headers=env.h()).get_json()
    assert [v["version"] for v in versions["versions"]] == [1, 2]

    r = env.client.post(f"/v1/documents/{env.doc}/extraction/undo", headers=env.h(), json={})
    assert r.status_code == 200 and r.get_json()["fields"]["tenant"] == before["fields"]["tenant"]


@pytest.mark.parametrize("body,status", [({"value": "2024-13-45"}, 400), ({}, 400), ({"value": 1.5}, 400),
                                         ({"value": "x", "reviewed_by": ""}, 400)])
def test_bad_corrections_are_400(env: Env, body: dict, status: int):
    assert _patch(env, "commencement_date" if "value" in body and body["value"] != "x" else "tenant",
                  body).status_code == status


def test_bad_compare_and_foreign_org_and_unknown_field(env: Env):
    assert env.client.get(f"/v1/documents/{env.doc}/extraction/compare?a=1&b=99999999999999999999",
                          headers=env.h()).status_code == 404
    assert _patch(env, "tenant", {"value": "Mallory"}, key=env.other).status_code == 404
    assert _patch(env, "not_a_field", {"value": "x"}).status_code == 400
    assert env.client.post(f"/v1/documents/{env.doc}/extraction/undo", headers=env.h()).status_code == 400


def test_exports_csv_xlsx_ics_json(env: Env):
    truth = next(json.loads(line) for line in (SHARED / "devset" / "truth.jsonl").read_text().splitlines()
                 if json.loads(line)["file"].endswith("D034.txt"))
    csv_resp = env.client.get("/v1/exports/abstract.csv", headers=env.h())
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    header, row = csv_resp.get_data(as_text=True).splitlines()[:2]
    assert header.startswith("document_id,filename,kind") and env.doc in row
    assert env.client.get("/v1/exports/abstract.csv", headers=env.h(env.other)).get_data(as_text=True).count(
        "\n") == 1  # the other organisation sees the header only

    wb = openpyxl.load_workbook(io.BytesIO(env.client.get("/v1/exports/abstract.xlsx", headers=env.h()).data))
    rows = list(wb["Abstract"].iter_rows(values_only=True))
    assert rows[1][0] == env.doc and rows[0][rows[0].index("tenant")] == "tenant"

    cal = Calendar.from_ical(env.client.get("/v1/exports/critical-dates.ics", headers=env.h()).data)
    events = {str(e["summary"]): e.decoded("dtstart") for e in cal.walk("VEVENT")}
    expiry = [d for s, d in events.items() if s.startswith("Lease expires")]
    assert [d.isoformat() for d in expiry] == [truth["fields"]["expiration_date"]]

    one = env.client.get(f"/v1/documents/{env.doc}/export.json", headers=env.h()).get_json()
    assert one["document"]["id"] == env.doc and one["extraction"]["fields"]["tenant"]["citations"]


def test_export_truth_writes_reviewed_documents_the_scorer_accepts(env: Env, tmp_path: Path, monkeypatch):
    assert _patch(env, "security_deposit", {"value": 12345.0}).status_code == 200
    out = tmp_path / "labels"
    monkeypatch.setenv("ATLAS_DATA_DIR", str(env.data_dir))
    res = CliRunner().invoke(cli, ["export-truth", "--org", "acme", str(out)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["fields"]["security_deposit"] == 12345.0
    assert (out / lines[0]["file"]).read_bytes() == LEASE.read_bytes()
    assert CliRunner().invoke(cli, ["export-truth", "--org", "nobody", str(out)]).exit_code != 0
    # the exported labels are truth for the shared scorer; the extractor disagrees on the corrected deposit only
    scorer = SHARED / "eval" / "score.py"
    atlas = Path(sys.executable).with_name("atlas")
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, str(scorer), "--truth", str(out / "truth.jsonl"), "--docs-root", str(out),
                          "--cmd", f"{atlas} extract {{file}} --json", "--json", str(report)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    scored = json.loads(report.read_text())
    assert scored["summary"]["docs"] == 1 and scored["summary"]["citation_grounding_rate"] == 1.0
    assert scored["fields"]["security_deposit"]["f1"] == 0.0  # the one corrected value
    assert scored["fields"]["landlord"]["f1"] == 1.0 and scored["fields"]["tenant"]["f1"] == 1.0
