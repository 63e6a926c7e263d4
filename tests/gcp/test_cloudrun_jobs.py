"""The real JobsClient (REST) against a loopback Cloud Run Admin API that runs `python -m jobs.extract` tasks."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipeline.adapters.cloudrun_jobs import CloudRunJobs
from pipeline.domain.errors import PermanentError, TransientError

REPO = Path(__file__).resolve().parents[2]
DEVSET = REPO.parent / "shared" / "devset" / "docs"


@pytest.fixture()
def embedded(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Embedded services on a temporary data dir, with three queued devset text leases."""
    from pipeline.bootstrap import build
    from pipeline.settings import load_settings
    from pipeline.usecases.ingest import ingest

    leases = sorted(DEVSET.glob("D03[4-6].txt"))
    if len(leases) < 3:
        pytest.skip(f"devset text leases missing under {DEVSET}")
    svc = build(load_settings(data_dir=tmp_path, runtime="embedded", database_url=None), migrate=True)
    with svc.uow_factory() as uow:
        org = uow.keys.create_org("cloudrun")
        uow.commit()
    ids = [ingest(org.id, p.name, p.read_bytes(), uow_factory=svc.uow_factory, blobs=svc.blobs,
                  check_upload=svc.check_upload)[0].id for p in leases]
    env = {"ATLAS_DATA_DIR": str(tmp_path), "ATLAS_RUNTIME": "embedded", "DATABASE_URL": "",
           "PYTHONPATH": str(REPO), "LOG_LEVEL": "INFO"}
    return svc, org.id, ids, env


def test_execution_shards_documents_across_tasks_and_every_document_ends_ready(embedded, fake_cloud_run) -> None:  # type: ignore[no-untyped-def]
    svc, org, ids, env = embedded
    fake, client = fake_cloud_run({"atlas-extract": [sys.executable, "-m", "jobs.extract"]}, env)
    jobs = CloudRunJobs(client, "atlas-test", "europe-west1")
    execution = jobs.run("atlas-extract", ids, task_count=2)
    assert execution.startswith("projects/atlas-test/locations/europe-west1/jobs/atlas-extract/executions/")
    [ex] = fake.executions
    assert ex["args"] == ids and ex["task_count"] == 2
    results = fake.wait(ex)
    assert [code for code, _ in results] == [0, 0], results
    logs = "\n".join(out for _, out in results)
    assert '"task_count": 2' in logs and '"severity": "INFO"' in logs
    with svc.uow_factory() as uow:
        for doc_id in ids:
            assert uow.documents.get(org, doc_id).status.value == "ready"
            assert uow.extractions.versions(org, doc_id) == [1]
    # each task took a disjoint share
    done_by = [out.count('"message": "document done"') for _, out in results]
    assert sorted(done_by) == [1, 2]


def test_rerunning_an_execution_is_idempotent(embedded, fake_cloud_run) -> None:  # type: ignore[no-untyped-def]
    svc, org, ids, env = embedded
    fake, client = fake_cloud_run({"atlas-extract": [sys.executable, "-m", "jobs.extract"]}, env)
    jobs = CloudRunJobs(client, "atlas-test", "europe-west1")
    for _ in range(2):
        jobs.run("atlas-extract", ids[:1])
        assert [c for c, _ in fake.wait(fake.executions[-1])] == [0]
    with svc.uow_factory() as uow:
        assert uow.extractions.versions(org, ids[0]) == [1]


def test_api_errors_map_to_retryable_and_permanent(fake_cloud_run) -> None:  # type: ignore[no-untyped-def]
    fake, client = fake_cloud_run({"atlas-extract": ["true"]}, {})
    jobs = CloudRunJobs(client, "atlas-test", "europe-west1")
    fake.fail_next = [503]
    with pytest.raises(TransientError):
        jobs.run("atlas-extract", ["d"])
    fake.fail_next = [400]
    with pytest.raises(PermanentError):
        jobs.run("atlas-extract", ["d"])
    with pytest.raises(TransientError):  # unknown job: NotFound is retried (a deploy may be in flight)
        jobs.run("atlas-missing", ["d"])
