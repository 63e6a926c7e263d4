"""docs/runbook.md and terraform/README.md name only things that exist: jobs, subscriptions, settings, arguments."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
README = (REPO / "terraform" / "README.md").read_text(encoding="utf-8")


def test_runbook_covers_the_four_situations() -> None:
    headings = re.findall(r"^## (.+)$", RUNBOOK, re.MULTILINE)
    assert [h.split(" (")[0] for h in headings] == ["A stuck document", "Dead-letter alert", "A failed index job",
                                                    "Key rotation"]


def test_jobs_subscriptions_and_secrets_named_exist_in_terraform(tf: Any) -> None:
    stack = tf.locals("modules/stack/")
    jobs = {stack[k] for k in ("extract_job_name", "index_job_name", "sweep_job_name", "migrate_job_name")}
    for doc in (RUNBOOK, README):
        for job in re.findall(r"gcloud run jobs execute (\S+)", doc):
            assert job.replace("$", "") in jobs, job
    prefix = stack["topic_prefix"]
    for sub in set(re.findall(r"\b(atlas-dead-letter-\w+)", RUNBOOK)):
        assert sub in {f"{prefix}-dead-letter-hold", f"{prefix}-dead-letter-dispatch"}, sub
    for secret in set(re.findall(r"--secret=([\w-]+)|secrets versions add ([\w-]+)", RUNBOOK)):
        assert (secret[0] or secret[1]) in stack["secret_ids"].values(), secret


def test_settings_and_job_arguments_named_are_real() -> None:
    from jobs.index_job import REINDEX, parse_targets
    from jobs.task import JobSettings

    aliases = {f.alias for f in JobSettings.model_fields.values()}
    for name in re.findall(r"--update-env-vars=(\w+)=", RUNBOOK):
        assert name in aliases, name
    for arg in re.findall(r"atlas-index --region=\$REGION --args=(\S+)", RUNBOOK + README):
        if arg != REINDEX:
            parse_targets([arg.replace("<", "").replace(">", "").replace("payload.", "")])


def test_readme_names_files_and_paths_that_exist(tf: Any) -> None:
    for dockerfile in set(re.findall(r"(Dockerfile\.\w+)", README)):
        assert (REPO / dockerfile).is_file(), dockerfile
    health = [b for _, n, b in tf.named("variable", "modules/stack/") if n == "api_health_path"][0]["default"]
    assert f"$API{health}" in README
    assert "--target=index" in README and "healthz" not in README
