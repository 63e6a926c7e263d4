"""Terraform and the code agree: env names, topics, job names and sizes, the Chroma mount."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

STACK = "modules/stack/"
ALIAS_RE = re.compile(r'alias="([A-Z][A-Z0-9_]*)"')
CHOICES_RE = re.compile(r"AliasChoices\(([^)]*)\)")
NAME_RE = re.compile(r'"([A-Z][A-Z0-9_]*)"')
EVENT_RE = re.compile(r'^[A-Z_]+ = "([a-z]+\.[a-z]+)"$', re.MULTILINE)

# Set by Cloud Run itself; Terraform may not set them and the code may read them.
CLOUD_RUN_BUILTINS = {"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "CLOUD_RUN_JOB",
                      "CLOUD_RUN_EXECUTION", "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_ATTEMPT",
                      "CLOUD_RUN_TASK_COUNT"}

DB = {"INSTANCE_CONNECTION_NAME", "POSTGRES_DB", "POSTGRES_USER", "DB_IAM_AUTH"}
# component -> (module call in the stack, what it must receive); evaluated with extractor=llm and
# embedder=openai, the settings under which the OpenAI key is needed.
REQUIRED = {
    "api": ("api", {"ATLAS_RUNTIME", "FLASK_ENV", "ATLAS_HOST", "GOOGLE_CLOUD_PROJECT", "ATLAS_GCP_REGION",
                    "ATLAS_PUBSUB_TOPIC_PREFIX", "ATLAS_GCS_BUCKET", "INSTANCE_CONNECTION_NAME", "POSTGRES_DB",
                    "POSTGRES_USER", "DB_IAM_AUTH", "ATLAS_CHROMA_DIR", "CORS_ORIGINS", "OPENAI_API_KEY",
                    "INDEX_SERVER_KEY", "ATLAS_API_KEY_PEPPER"}),
    # the dispatcher builds the full service set: upload completion needs the bucket, the database and the bus
    "dispatcher": ("dispatcher", {"ATLAS_RUNTIME", "GOOGLE_CLOUD_PROJECT", "ATLAS_GCP_REGION",
                                  "ATLAS_PUBSUB_TOPIC_PREFIX", "ATLAS_GCS_BUCKET", "ATLAS_EXTRACT_JOB",
                                  "ATLAS_INDEX_JOB", *DB}),
    "extract": ("extract_job", {"ATLAS_RUNTIME", "GOOGLE_CLOUD_PROJECT", "ATLAS_GCP_REGION",
                                "ATLAS_PUBSUB_TOPIC_PREFIX", "ATLAS_GCS_BUCKET", "INSTANCE_CONNECTION_NAME",
                                "POSTGRES_DB", "POSTGRES_USER", "DB_IAM_AUTH", "OPENAI_API_KEY",
                                "ATLAS_JOB_MAX_ATTEMPTS"}),
    "index": ("index_job", {"ATLAS_RUNTIME", "GOOGLE_CLOUD_PROJECT", "ATLAS_GCP_REGION",
                            "ATLAS_PUBSUB_TOPIC_PREFIX", "ATLAS_GCS_BUCKET", "INSTANCE_CONNECTION_NAME",
                            "POSTGRES_DB", "POSTGRES_USER", "DB_IAM_AUTH", "ATLAS_CHROMA_DIR", "OPENAI_API_KEY"}),
    "sweep": ("sweep_job", {"ATLAS_RUNTIME", "GOOGLE_CLOUD_PROJECT", "ATLAS_GCP_REGION", "ATLAS_PUBSUB_TOPIC_PREFIX",
                            "ATLAS_GCS_BUCKET", *DB}),
    "migrate": ("migrate_job", {"ATLAS_RUNTIME", "GOOGLE_CLOUD_PROJECT", *DB, "ATLAS_DB_GRANTS"}),
}

# Settings Terraform deliberately leaves at the code's default on Google Cloud, each with its reason.
NOT_SET_ON_GCP = {
    "ATLAS_DATA_DIR": "embedded runtime only (SQLite, local blobs)",
    "DATABASE_URL": "Cloud SQL is reached through INSTANCE_CONNECTION_NAME and the connector",
    "INDEX_SERVER_HOST": "older name of ATLAS_HOST, which Terraform sets",
    "INDEX_SERVER_PORT": "the separate legacy index server is not deployed on Cloud Run",
    "PORT": "set by Cloud Run",
    "ATLAS_DEBUG": "off by default, and production refuses it",
    "LOG_LEVEL": "default INFO is right",
    "ATLAS_WORKER_THREADS": "embedded worker only",
    "ATLAS_EMBEDDED_WORKER": "embedded worker only; on GCP the dispatcher and jobs do the work",
    "ATLAS_SINGLE_BOX": "one-container deployment only",
    "ATLAS_LEGACY_API": "code default",
    "ATLAS_LEGACY_TRUST_USER_ID": "must stay off behind a public address",
    "ATLAS_RATE_LIMIT_PER_MINUTE": "code default; Cloudflare rate-limits first",
    "POSTGRES_HOST": "connector, not TCP host",
    "POSTGRES_PORT": "connector, not TCP port",
    "POSTGRES_PASSWORD": "IAM database authentication: no passwords",
    "DB_POOL_SIZE": "code default",
    "ATLAS_MAX_UPLOAD_BYTES": "code default",
    "ATLAS_MAX_PAGES": "code default",
    "ATLAS_MAX_PAGE_PIXELS": "code default",
    "ATLAS_PARSE_TIMEOUT_S": "code default",
    "ATLAS_MAX_TEXT_CHARS": "code default",
    "ATLAS_OCR_WORKERS": "code default",
    "ATLAS_REVIEW_THRESHOLD": "code default",
    "OPENAI_BASE_URL": "only for tests against a fake server",
    "OPENAI_MODEL": "code default",
    "ATLAS_LLM_TIMEOUT_S": "code default",
    "LLAMA_CLOUD_API_KEY": "not used on Google Cloud",
    "PHOENIX_COLLECTOR_ENDPOINT": "tracing collector not deployed by this Terraform",
    "PHOENIX_CLIENT_HEADERS": "tracing collector not deployed by this Terraform",
    "ATLAS_LEGACY_WAIT_S": "code default",
    "ATLAS_LEGACY_MAX_WAITS": "code default",
    "ATLAS_EMBED_RUNTIME": "code default (onnx-int8, checked against fp32 at load; torch is the fallback)",
    "ATLAS_EMBED_CACHE_DIR": "set in both images: the int8 model is built at image build time into /opt/atlas-models",
    "ATLAS_SHUTDOWN_GRACE_S": "atlas serve only; on Cloud Run gunicorn's graceful timeout applies",
    "ATLAS_WEBHOOK_ALLOW_PRIVATE": "must stay off in production (https to public addresses only)",
    "ATLAS_RATE_LIMIT_STORAGE_URI": "not provisioned yet: Cloud Run instances keep per-instance counters behind "
                                    "Cloudflare's edge rate limit (a Memorystore store is the follow-up)",
    "GOOGLE_CLIENT_ID": "legacy Google Drive import is not deployed",
    "GOOGLE_CLIENT_SECRET": "legacy Google Drive import is not deployed",
    "GOOGLE_REDIRECT_URI": "legacy Google Drive import is not deployed",
    "ATLAS_DOCUMENT_IDS": "the dispatcher passes document ids as container args",
    "ATLAS_SWEEP_QUEUED_AFTER_S": "code default (15 minutes)",
    "ATLAS_SWEEP_PROCESSING_AFTER_S": "code default (3 hours, above an extract task's timeout x attempts)",
    "ATLAS_SWEEP_UPLOAD_AFTER_S": "code default (1 hour, beyond the signed URL's lifetime)",
    "ATLAS_SWEEP_MAX_REDRIVES": "code default",
    "ATLAS_TRACE": "set per execution by the dispatcher's overrides, never by Terraform",
}

JOB_CPU, JOB_MEMORY = "2", "2Gi"


def settings_aliases(settings_text: str) -> set[str]:
    """Environment names the Settings object (and the jobs' JobSettings subclass) read."""
    settings_text += (Path(__file__).resolve().parents[2] / "jobs" / "task.py").read_text(encoding="utf-8")
    names = set(ALIAS_RE.findall(settings_text))
    for choices in CHOICES_RE.findall(settings_text):
        names |= set(NAME_RE.findall(choices))
    return names


def settings_default(settings_text: str, alias: str) -> str | None:
    """The string default of the field with this alias, if it has one."""
    m = re.search(r'Field\(\s*"([^"]*)"\s*,\s*alias="' + re.escape(alias) + '"', settings_text)
    return m.group(1) if m else None


def _local_ref(value: Any) -> str | None:
    m = re.fullmatch(r"\$\{local\.([a-z_]+)\}", value) if isinstance(value, str) else None
    return m.group(1) if m else None


class _AnyOutput(dict):
    """Stand-in for any module output: every key exists and is a placeholder string."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return self if key.startswith("module.") and key.count(".") == 2 else f"<{key}>"


def component_env(tree: Any, variables: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Environment (plain and secret) each component's module call receives, evaluated like Terraform would."""
    from support.tfstack import Evaluator, Stack

    stack = Stack(root=tree.root / "modules" / "stack")
    ev = Evaluator(stack, {"project_id": "p", "environment": "staging", "cors_origins": ["https://a.test"],
                           "extractor": "llm", "embedder": "openai", **(variables or {})}, _AnyOutput())
    envs: dict[str, dict[str, Any]] = {}
    for component, (call, _) in REQUIRED.items():
        args = tree.module_call(STACK, call)
        merged: dict[str, Any] = {}
        for arg in ("env", "secret_env"):
            raw = args.get(arg)
            if raw is None:
                continue
            ref = _local_ref(raw)
            literal = tree.locals(STACK).get(ref) if ref else raw
            value = literal if isinstance(literal, dict) else ev.value(raw)  # raw expressions kept when literal
            if not isinstance(value, dict):
                raise AssertionError(f"{call}.{arg} must evaluate to a map, got {value!r}")
            merged.update(value)
        envs[component] = merged
    return envs


def contract_problems(settings_text: str, events_text: str, tree: Any) -> list[str]:
    """Every disagreement between the code's configuration and the Terraform stack."""
    problems: list[str] = []
    aliases = settings_aliases(settings_text)
    envs = component_env(tree)
    local_values = tree.locals(STACK)

    set_anywhere: set[str] = set()
    for component, env in envs.items():
        names = set(env)
        set_anywhere |= names
        for unknown in sorted(names - aliases - CLOUD_RUN_BUILTINS):
            problems.append(f"{component}: Terraform sets {unknown}, which pipeline/settings.py does not read")
        for missing in sorted(REQUIRED[component][1] - names):
            problems.append(f"{component}: needs {missing} but Terraform does not set it")
    for alias in sorted(aliases - set_anywhere - set(NOT_SET_ON_GCP) - CLOUD_RUN_BUILTINS):
        problems.append(f"setting {alias} exists in code only: set it in terraform/modules/stack or "
                        "list it in NOT_SET_ON_GCP with a reason")
    for stale in sorted(set(NOT_SET_ON_GCP) - aliases):
        problems.append(f"NOT_SET_ON_GCP lists {stale}, which the code no longer reads")
    for both in sorted(set(NOT_SET_ON_GCP) & set_anywhere):
        problems.append(f"{both} is both set by Terraform and listed as not set")

    # topics: <prefix>-<event type with dots as hyphens>
    prefix = local_values.get("topic_prefix")
    if prefix != settings_default(settings_text, "ATLAS_PUBSUB_TOPIC_PREFIX"):
        problems.append(f"topic prefix {prefix!r} differs from the code default "
                        f"{settings_default(settings_text, 'ATLAS_PUBSUB_TOPIC_PREFIX')!r}")
    pubsub = tree.module_call(STACK, "pubsub")
    if pubsub.get("topic_prefix") != "${local.topic_prefix}":
        problems.append("the pubsub module does not take local.topic_prefix")
    expected_topics = {t.replace(".", "-") for t in EVENT_RE.findall(events_text)}
    declared_topics = set(pubsub.get("event_topics", []))
    for t in sorted(expected_topics - declared_topics):
        problems.append(f"event topic {prefix}-{t} (from pipeline/domain/events.py) is missing in Terraform")
    for t in sorted(declared_topics - expected_topics):
        problems.append(f"Terraform topic {prefix}-{t} has no event type in pipeline/domain/events.py")
    for t in sorted(set(pubsub.get("dispatched_topics", [])) - declared_topics):
        problems.append(f"dispatched topic {t} is not a declared event topic")

    # jobs: names, sizes, who is told their names
    for key, alias, call in (("extract_job_name", "ATLAS_EXTRACT_JOB", "extract_job"),
                             ("index_job_name", "ATLAS_INDEX_JOB", "index_job")):
        if local_values.get(key) != settings_default(settings_text, alias):
            problems.append(f"job {local_values.get(key)!r} differs from the code default of {alias} "
                            f"{settings_default(settings_text, alias)!r}")
        job = tree.module_call(STACK, call)
        if job.get("name") != f"${{local.{key}}}":
            problems.append(f"{call} is not named by local.{key}")
        if envs["dispatcher"].get(alias) != f"${{local.{key}}}":
            problems.append(f"dispatcher's {alias} is not local.{key}")
        if (job.get("cpu"), job.get("memory")) != (JOB_CPU, JOB_MEMORY):
            problems.append(f"{call} must have {JOB_CPU} CPU / {JOB_MEMORY}, has {job.get('cpu')} / {job.get('memory')}")
    if tree.module_call(STACK, "index_job").get("parallelism") != 1:
        problems.append("index_job must have parallelism 1 (single Chroma writer)")

    # Chroma on Filestore: the path the code is told is the path that is mounted
    mount = local_values.get("chroma_mount_path")
    if mount != "/mnt/chroma":
        problems.append(f"chroma mount path is {mount!r}, expected /mnt/chroma")
    for component, call, read_only in (("index", "index_job", False), ("api", "api", True)):
        if envs[component].get("ATLAS_CHROMA_DIR") != "${local.chroma_mount_path}":
            problems.append(f"{component}: ATLAS_CHROMA_DIR is not local.chroma_mount_path")
        nfs = tree.module_call(STACK, call).get("nfs") or {}
        if nfs.get("mount_path") != "${local.chroma_mount_path}" or nfs.get("read_only") is not read_only:
            problems.append(f"{call}: NFS must be mounted at local.chroma_mount_path with read_only={read_only}")
    if tree.module_call(STACK, "extract_job").get("nfs") is not None:
        problems.append("extract_job must not mount the Chroma share (one writer: the index job)")

    # region default matches the code's default region
    region = [b for _, n, b in tree.named("variable", STACK) if n == "region"]
    if not region or region[0].get("default") != settings_default(settings_text, "ATLAS_GCP_REGION"):
        problems.append("stack variable region's default differs from ATLAS_GCP_REGION's default")
    return problems


@pytest.fixture(scope="module")
def settings_text(repo_root: Path) -> str:
    return (repo_root / "pipeline" / "settings.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def events_text(repo_root: Path) -> str:
    return (repo_root / "pipeline" / "domain" / "events.py").read_text(encoding="utf-8")


@pytest.fixture()
def tf_copy(repo_root: Path, tmp_path: Path) -> Path:
    """A throwaway copy of terraform/ to mutate."""
    dest = tmp_path / "terraform"
    shutil.copytree(repo_root / "terraform", dest, ignore=shutil.ignore_patterns(".terraform"))
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_settings_file_exposes_the_names_the_contract_relies_on(settings_text: str, events_text: str) -> None:
    aliases = settings_aliases(settings_text)
    assert {"ATLAS_RUNTIME", "ATLAS_PUBSUB_TOPIC_PREFIX", "ATLAS_EXTRACT_JOB", "ATLAS_INDEX_JOB"} <= aliases
    assert settings_default(settings_text, "ATLAS_EXTRACT_JOB") == "atlas-extract"
    assert "document.uploaded" in EVENT_RE.findall(events_text)


def test_terraform_and_code_agree(settings_text: str, events_text: str, tf: Any) -> None:
    assert contract_problems(settings_text, events_text, tf) == []


def test_every_env_name_terraform_sets_is_read_by_the_code(settings_text: str, tf: Any) -> None:
    aliases = settings_aliases(settings_text) | CLOUD_RUN_BUILTINS
    for component, env in component_env(tf).items():
        assert set(env) <= aliases, component


def test_api_secrets_come_from_secret_manager(tf: Any) -> None:
    secret_env = tf.locals(STACK)["api_secret_env"]
    assert set(secret_env) == {"OPENAI_API_KEY", "INDEX_SERVER_KEY", "ATLAS_API_KEY_PEPPER"}
    assert all(v.startswith("${module.secrets.secret_ids[") for v in secret_env.values())


def test_renaming_a_topic_in_terraform_breaks_the_contract(settings_text: str, events_text: str,
                                                          tf_copy: Path, load_tree: Callable) -> None:
    _edit(tf_copy / "modules/stack/main.tf", '"extraction-completed", "index-updated"',
          '"extraction-done", "index-updated"')
    problems = contract_problems(settings_text, events_text, load_tree(tf_copy))
    assert any("extraction-completed" in p for p in problems)
    assert any("extraction-done" in p for p in problems)


def test_changing_the_topic_prefix_in_code_only_breaks_the_contract(settings_text: str, events_text: str,
                                                                   tf: Any) -> None:
    mutated = settings_text.replace('Field("atlas", alias="ATLAS_PUBSUB_TOPIC_PREFIX")',
                                    'Field("lease", alias="ATLAS_PUBSUB_TOPIC_PREFIX")')
    assert mutated != settings_text
    assert any("topic prefix" in p for p in contract_problems(mutated, events_text, tf))


def test_a_new_event_type_in_code_needs_a_topic(settings_text: str, events_text: str, tf: Any) -> None:
    mutated = events_text + '\nDOCUMENT_ARCHIVED = "document.archived"\n'
    assert any("document-archived" in p for p in contract_problems(settings_text, mutated, tf))


def test_a_setting_added_in_code_only_breaks_the_contract(settings_text: str, events_text: str, tf: Any) -> None:
    anchor = '    chroma_dir: Path | None = Field(None, alias="ATLAS_CHROMA_DIR")\n'
    assert anchor in settings_text
    mutated = settings_text.replace(anchor, anchor + '    shard_count: int = Field(4, alias="ATLAS_SHARD_COUNT")\n')
    problems = contract_problems(mutated, events_text, tf)
    assert any("ATLAS_SHARD_COUNT" in p and "code only" in p for p in problems)


def test_an_env_name_unknown_to_the_code_breaks_the_contract(settings_text: str, events_text: str,
                                                            tf_copy: Path, load_tree: Callable) -> None:
    _edit(tf_copy / "modules/stack/main.tf", '    FLASK_ENV                 = "production"\n',
          '    FLASK_ENV                 = "production"\n    ATLAS_BUCKET = "typo"\n')
    problems = contract_problems(settings_text, events_text, load_tree(tf_copy))
    assert any("ATLAS_BUCKET" in p and "does not read" in p for p in problems)


def test_renaming_a_job_in_terraform_breaks_the_contract(settings_text: str, events_text: str,
                                                        tf_copy: Path, load_tree: Callable) -> None:
    _edit(tf_copy / "modules/stack/main.tf", 'extract_job_name  = "atlas-extract"', 'extract_job_name  = "atlas-parse"')
    problems = contract_problems(settings_text, events_text, load_tree(tf_copy))
    assert any("atlas-parse" in p for p in problems)


def test_shrinking_a_job_breaks_the_contract(settings_text: str, events_text: str,
                                            tf_copy: Path, load_tree: Callable) -> None:
    stack = tf_copy / "modules/stack/main.tf"
    text = stack.read_text(encoding="utf-8")
    start = text.index('module "index_job"')
    stack.write_text(text[:start] + text[start:].replace('memory                = "2Gi"', 'memory                = "1Gi"', 1),
                     encoding="utf-8")
    problems = contract_problems(settings_text, events_text, load_tree(tf_copy))
    assert any("index_job must have 2 CPU / 2Gi" in p for p in problems)


def test_moving_the_chroma_mount_breaks_the_contract(settings_text: str, events_text: str,
                                                    tf_copy: Path, load_tree: Callable) -> None:
    _edit(tf_copy / "modules/stack/main.tf", 'chroma_mount_path = "/mnt/chroma"', 'chroma_mount_path = "/data/chroma"')
    problems = contract_problems(settings_text, events_text, load_tree(tf_copy))
    assert any("chroma mount path" in p for p in problems)


def test_the_extract_job_knows_its_last_attempt(tf: Any) -> None:
    job = tf.module_call(STACK, "extract_job")
    assert job["max_retries"] == "${var.job_max_retries}"
    # Cloud Run runs a task max_retries + 1 times; the job fails the document on the last one
    assert tf.locals(STACK)["extract_env"]["ATLAS_JOB_MAX_ATTEMPTS"] == "${var.job_max_retries + 1}"


def _mib(size: str) -> int:
    m = re.fullmatch(r"(\d+)(Mi|Gi)", size)
    assert m, size
    return int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


def test_dispatcher_memory_fits_concurrent_upload_completions(tf: Any, settings_text: str) -> None:
    call = tf.module_call(STACK, "dispatcher")
    max_upload_mib = 50  # ATLAS_MAX_UPLOAD_BYTES default, which Terraform leaves alone
    assert "Field(50 * 1024 * 1024, alias=\"ATLAS_MAX_UPLOAD_BYTES\")" in settings_text
    # each completion holds the bytes about three times (download, format check, upload) over a ~400 MiB base
    assert _mib(call["memory"]) >= 400 + call["concurrency"] * 3 * max_upload_mib
