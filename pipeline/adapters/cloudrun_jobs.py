"""Cloud Run jobs: start an execution with per-run overrides through the Cloud Run Admin API (REST)."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

from pipeline.domain.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

MAX_TASKS = 50  # one execution fans out to at most this many parallel tasks


class CloudRunJobs:
    """Starts executions of named jobs in one project and region."""

    def __init__(self, client: Any, project: str, region: str, *, timeout_s: float = 30.0) -> None:
        self.client = client
        self.project = project
        self.region = region
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Any, *, client: Any = None) -> "CloudRunJobs":
        """Jobs of GOOGLE_CLOUD_PROJECT / ATLAS_GCP_REGION with Application Default Credentials."""
        if client is None:
            from google.cloud import run_v2

            client = run_v2.JobsClient(transport="rest")
        if not settings.gcp_project:
            raise ValueError("GOOGLE_CLOUD_PROJECT must be set to start Cloud Run jobs")
        return cls(client, settings.gcp_project, settings.gcp_region)

    def job_path(self, job: str) -> str:
        """projects/<p>/locations/<r>/jobs/<job>."""
        return f"projects/{self.project}/locations/{self.region}/jobs/{job}"

    def run(self, job: str, args: Sequence[str], *, task_count: int | None = None,
            env: Mapping[str, str] | None = None) -> str:
        """Start one execution with these container args (and env overrides); returns the execution name.

        TransientError when a retry may succeed (unavailable, quota, timeout, auth hiccup),
        PermanentError when the request itself is wrong.
        """
        from google.api_core import exceptions as gexc
        from google.cloud.run_v2.types import EnvVar, RunJobRequest

        count = max(1, min(task_count or len(args) or 1, MAX_TASKS))
        request = RunJobRequest(name=self.job_path(job), overrides=RunJobRequest.Overrides(
            container_overrides=[RunJobRequest.Overrides.ContainerOverride(
                args=list(args), env=[EnvVar(name=k, value=v) for k, v in (env or {}).items()])],
            task_count=count))
        try:
            operation = self.client.run_job(request=request, timeout=self.timeout_s)
        except gexc.BadRequest as exc:  # 400s: InvalidArgument, FailedPrecondition, OutOfRange
            raise PermanentError(f"cloud run refused to start {job}: {exc.message}") from exc
        except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
            # NotFound/PermissionDenied included: a deploy in progress or an IAM fix makes them pass; the
            # subscription's dead-letter policy bounds the retries
            raise TransientError(f"cloud run unavailable for {job}: {type(exc).__name__}") from exc
        execution = getattr(operation.metadata, "name", "") or operation.operation.name
        log.info("job execution started", extra={"job": job, "execution": execution, "task_count": count,
                                                  "documents": len(args)})
        return execution
