"""The try-it-now flow through a real loopback server, as the web app drives it, ending with `atlas audit verify`."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import update

DEVSET = Path(__file__).resolve().parents[2].parent / "shared" / "devset" / "docs"


def test_try_it_now_flow_on_a_devset_lease(env, live, monkeypatch) -> None:
    path = DEVSET / "D034.txt"
    if not path.exists():
        pytest.skip(f"devset lease {path} not available")
    data, base, uid = path.read_bytes(), live.url, "user-e2e-1"
    s = requests.Session()
    s.headers["Origin"] = "http://localhost:3000"

    up = s.post(f"{base}/upload", files={"file": ("D034.txt", data)}, timeout=30)
    assert up.ok and up.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    filepath = up.json()["filepath"]

    with ThreadPoolExecutor(3) as pool:  # the app fires these three without awaiting each other
        fut_cls = pool.submit(s.post, f"{base}/classify-asset-type", json={"file_path": filepath}, timeout=90)
        fut_flags = pool.submit(s.post, f"{base}/extract-risk-flags", files={"file": ("D034.txt", data)}, timeout=120)
        fut_sum = pool.submit(s.post, f"{base}/extract-summary", files={"file": ("D034.txt", data)}, timeout=120)
        cls, flags, summary = fut_cls.result(), fut_flags.result(), fut_sum.result()
    assert cls.ok and cls.json()["asset_type"] == "office" and 0.6 <= cls.json()["confidence"] <= 1
    assert flags.ok and all(isinstance(f["category"], str) for f in flags.json()["data"]["risk_flags"])
    assert summary.ok
    lease = summary.json()["data"]
    assert lease["property_info"]["landlord_name"] == "Cascade Industrial Partners, L.P."
    assert lease["tenant_info"]["tenant"] == "Sable Insurance Brokers, Inc."
    assert lease["lease_dates"]["lease_commencement_date"] == "2023-06-01"
    assert lease["lease_dates"]["lease_term"] == "3 years"
    assert lease["financial_terms"]["base_rent"] == 77600.0
    assert lease["financial_terms"]["expense_recovery_type"] == "Stop Amount"
    # one pipeline document for the three requests: deduplicated by content hash
    with env.svc.uow_factory() as uow:
        assert uow.documents.count() == 1

    assert s.post(f"{base}/sync-user", json={"user_id": uid, "email": "e2e@example.com", "name": "E"}, timeout=10).ok
    reg = s.post(f"{base}/register-document", json={
        "file_path": filepath, "title": "D034.txt", "sharing_type": "private", "user_id": uid,
        "extracted_data": {"tenant_info": lease["tenant_info"]}, "risk_flags": [],
        "asset_type": cls.json()["asset_type"]}, timeout=10).json()
    assert reg["status"] == "success"
    doc_id = reg["document"]["id"]

    docs = s.get(f"{base}/user-documents/{uid}", timeout=10).json()
    assert [d["id"] for d in docs["documents"]] == [doc_id]
    doc = s.get(f"{base}/document/{doc_id}", timeout=10).json()
    assert doc["status"] == "success" and doc["document"]["extracted_data"]["tenant_info"]["tenant"].startswith("Sable")
    acts = s.get(f"{base}/document-activities/{doc_id}", timeout=10).json()["activities"]
    assert [a["action"] for a in acts] == ["DECLARE_OWNER", "REGISTER_ASSET"]

    events = [{"id": "ev-1", "name": "Invite partners", "status": "completed",
               "details": {"batchId": "b-1", "recipients": ["p@x.com"]}}]
    share = s.post(f"{base}/share-with-external/{doc_id}", json={"shared_emails": ["p@x.com"], "ledger_events": events},
                   timeout=10).json()
    state = s.get(f"{base}/document-sharing-state/{doc_id}", timeout=10).json()["sharing_state"]
    assert state["external_shares"][0]["extra_data"]["shared_emails"] == ["p@x.com"]
    ledger = s.get(f"{base}/activity/{share['activity_id']}/ledger-events", timeout=10).json()
    assert ledger["ledger_events"] == events
    acts = s.get(f"{base}/document-activities/{doc_id}", timeout=10).json()["activities"]
    assert acts[0]["action"] == "INVITE_PARTNER" and acts[0]["prev_hash"] == acts[1]["tx_hash"]

    from pipeline.legacy import tables as lt
    from pipeline.legacy.cli import audit

    monkeypatch.setenv("DATABASE_URL", env.svc.settings.sqlalchemy_url)
    runner = CliRunner()
    ok = runner.invoke(audit, ["verify", "--org", f"user:{uid}"])
    assert ok.exit_code == 0, ok.output
    with env.svc.engine.begin() as conn:
        conn.execute(update(lt.activities).where(lt.activities.c.id == acts[1]["id"]).values(actor="mallory"))
    bad = runner.invoke(audit, ["verify"])
    assert bad.exit_code == 1 and f"activity {acts[1]['id']}" in bad.output
