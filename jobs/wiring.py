"""Builds the dispatcher's dependencies from the settings (the cloud runtime's composition for jobs)."""
from __future__ import annotations

from typing import Any

from jobs.dispatcher import Dispatch


def dispatch_deps(svc: Any = None, *, jobs_client: Any = None) -> Dispatch:
    """Real adapters: Cloud Run jobs, the SQL processed-events table, the upload-completion use case."""
    from pipeline.adapters.cloudrun_jobs import CloudRunJobs
    from pipeline.logging_setup import configure_logging, trace_var
    from pipeline.relay import relay_outbox, relay_queue
    from pipeline.signed_uploads import complete_upload
    from pipeline.usecases.extract import fail_document

    if svc is None:
        from pipeline.bootstrap import build
        from pipeline.settings import load_settings

        settings = load_settings()
        configure_logging(settings.log_level)
        svc = build(settings)
    runner = CloudRunJobs.from_settings(svc.settings, client=jobs_client)

    def complete_staged(name: str) -> None:
        complete_upload(name.split("/", 1)[1], org_id=None, uow_factory=svc.uow_factory, blobs=svc.blobs,
                        check_upload=svc.check_upload, max_bytes=svc.settings.max_upload_bytes)

    def run_job(job: str, args: list[str]) -> str:
        # the execution logs under the trace of the message that started it (ATLAS_TRACE)
        trace = trace_var.get()
        return runner.run(job, args, env={"ATLAS_TRACE": trace} if trace else None)

    return Dispatch(
        run_job=run_job,
        queue=svc.queue,
        extract_job=svc.settings.extract_job_name,
        index_job=svc.settings.index_job_name,
        complete_staged_upload=complete_staged,
        fail_document=lambda doc_id, reason: fail_document(doc_id, "dispatch_failed", reason,
                                                           uow_factory=svc.uow_factory),
        relay=lambda: relay_outbox(relay_queue(svc.engine), svc.bus, max_events=20),
    )
