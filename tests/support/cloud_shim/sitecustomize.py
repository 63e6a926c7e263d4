"""Loaded by every entrypoint subprocess of the Terraform runtime contract tests (on PYTHONPATH): routes the two
Google endpoints that have no emulator switch to local stand-ins. Nothing else changes; the process keeps the
exact environment Terraform declares.

* Cloud SQL connector -> the local Postgres on 127.0.0.1:5432 (trust auth), as the database user the process
  asks for. It insists on what Cloud SQL would: the instance in ATLAS_TEST_CLOUDSQL_INSTANCE and IAM auth.
* Cloud Run Admin API -> ATLAS_TEST_CLOUD_RUN_ENDPOINT (the loopback fake) with anonymous credentials.
Cloud Storage and Pub/Sub use their official emulator variables (STORAGE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST).
"""
from __future__ import annotations

import os


def _install() -> None:
    instance = os.environ.get("ATLAS_TEST_CLOUDSQL_INSTANCE")
    if instance:
        import google.cloud.sql.connector as connector_mod

        class LocalConnector:
            """Cloud SQL connector stand-in: same connect() signature, local Postgres behind it."""

            def __init__(self, *args: object, enable_iam_auth: bool = False, **kwargs: object) -> None:
                self.enable_iam_auth = enable_iam_auth

            def connect(self, conn_name: str, driver: str, **kw: object) -> object:
                import pg8000

                if conn_name != instance:
                    raise RuntimeError(f"unknown Cloud SQL instance {conn_name!r}")
                if driver != "pg8000" or not (kw.get("enable_iam_auth") or self.enable_iam_auth):
                    raise RuntimeError("Terraform's settings must use pg8000 with IAM database authentication")
                if kw.get("password"):
                    raise RuntimeError("IAM database authentication sends no password")
                return pg8000.connect(user=str(kw["user"]), database=str(kw["db"]), host="127.0.0.1", port=5432)

            def close(self) -> None:
                return None

        connector_mod.Connector = LocalConnector  # type: ignore[misc,assignment]

    endpoint = os.environ.get("ATLAS_TEST_CLOUD_RUN_ENDPOINT")
    if endpoint:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import run_v2

        original = run_v2.JobsClient

        def jobs_client(*args: object, **kwargs: object) -> object:
            kwargs.update(credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint})
            return original(*args, **kwargs)

        run_v2.JobsClient = jobs_client  # type: ignore[misc,assignment]


_install()
