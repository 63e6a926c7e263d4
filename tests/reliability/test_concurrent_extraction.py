"""Several workers re-extracting one document at once: exactly one version, and the document ends ready."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from reliability_support import Live, counts
from pipeline.usecases.extract import process_document

LEASE = (b"LEASE AGREEMENT\nThis Lease is made between Harbor Point LLC (\"Landlord\") and Nimbus Inc. (\"Tenant\").\n"
         b"The Term commences on March 1, 2025 and expires on February 28, 2030.\nBase Rent: $4,000.00 per month.\n")


@pytest.fixture()
def srv(tmp_path: Path):
    s = Live(tmp_path / "data", worker=False)
    yield s
    s.close()


def _post(srv: Live, data: bytes) -> requests.Response:
    return requests.post(f"{srv.url}/v1/documents", headers=srv.auth(srv.key_a), files={"file": ("lease.txt", data)},
                         timeout=60)


def test_concurrent_reextractions_make_one_version(srv: Live):
    doc_id = _post(srv, LEASE).json()["id"]
    svc = srv.services
    barrier = threading.Barrier(4)

    def run(_: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return process_document(doc_id, uow_factory=svc.uow_factory, blobs=svc.blobs, parse=svc.parse,
                                extractor=svc.extractor, classify=svc.classify)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert all(r is not None for r in results)
    assert {r.version for r in results} == {1}
    assert counts(svc.engine)["extractions"] == 1
    with svc.uow_factory() as uow:
        assert uow.documents.get_any_org(doc_id).status.value == "ready"
    # ... and again, after the fact: still one version, one extraction.completed event
    run_again = process_document(doc_id, uow_factory=svc.uow_factory, blobs=svc.blobs, parse=svc.parse,
                                 extractor=svc.extractor, classify=svc.classify)
    assert run_again is not None and run_again.version == 1
    c = counts(svc.engine)
    assert c["extractions"] == 1 and c["outbox_types"].get("extraction.completed") == 1
