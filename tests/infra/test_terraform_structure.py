"""Structural rules every module and environment must keep, read from the HCL itself."""
from __future__ import annotations

import re
from typing import Any

import pytest

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


def _first(block: Any) -> dict[str, Any]:
    """A nested block as a dict (python-hcl2 wraps single blocks in a list)."""
    return block[0] if isinstance(block, list) else block


def test_every_module_has_the_five_files_and_a_usage_block_first(tf: Any) -> None:
    modules = sorted(p for p in (tf.root / "modules").iterdir() if p.is_dir())
    assert len(modules) >= 10
    for module in modules:
        for name in MODULE_FILES:
            assert (module / name).is_file(), f"{module.name}/{name} missing"
        readme = (module / "README.md").read_text(encoding="utf-8").splitlines()
        body = [line for line in readme if line.strip() and not line.startswith("#")]
        assert body[0].startswith("```hcl"), f"{module.name}/README.md must open with a usage block"


def test_every_variable_has_description_and_type(tf: Any) -> None:
    variables = tf.named("variable")
    assert len(variables) > 100
    for rel, name, body in variables:
        assert body.get("description"), f"{rel}: variable {name} has no description"
        assert body.get("type"), f"{rel}: variable {name} has no type"


def test_every_output_has_a_description(tf: Any) -> None:
    outputs = tf.named("output")
    assert outputs
    for rel, name, body in outputs:
        assert body.get("description"), f"{rel}: output {name} has no description"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_environments_only_call_modules(tf: Any, env: str) -> None:
    under = f"envs/{env}/"
    assert not list(tf.blocks("resource", under)), f"{env} declares resources directly"
    assert not list(tf.blocks("data", under)), f"{env} reads data sources directly"
    calls = tf.named("module", under)
    assert [name for _, name, _ in calls] == ["atlas"]
    assert calls[0][2]["source"] == "../../modules/stack"
    backend = _first(_first(tf.files[f"envs/{env}/backend.tf"]["terraform"])["backend"])
    assert set(backend) == {"gcs"} and backend["gcs"]["prefix"] == f"atlas/{env}"
    assert (tf.root / "envs" / env / "terraform.tfvars.example").is_file()


def test_deletion_protection_is_on_in_prod_and_off_in_staging(tf: Any) -> None:
    assert tf.module_call("envs/prod/", "atlas")["deletion_protection"] is True
    assert tf.module_call("envs/staging/", "atlas")["deletion_protection"] is False
    db = tf.module_call("modules/stack/", "database")
    assert db["deletion_protection"] == "${var.deletion_protection}"


def test_provider_versions_are_pinned(tf: Any) -> None:
    expected = {"google": "~> 6.", "google-beta": "~> 6.", "cloudflare": "~> 4."}
    for rel, doc in tf.files.items():
        text = (tf.root / rel).read_text(encoding="utf-8")
        uses = {p for p in ("google", "cloudflare") if re.search(rf'^(resource|data) "{p}_', text, re.MULTILINE)}
        if re.search(r"provider\s*=\s*google-beta", text):
            uses.add("google-beta")
        if not rel.endswith("versions.tf"):
            folder = rel.rsplit("/", 1)[0]
            versions = tf.files.get(f"{folder}/versions.tf")
            assert versions is not None, f"{folder} has no versions.tf"
            declared = _first(_first(versions["terraform"])["required_providers"])
            for provider in uses:
                assert provider in declared, f"{rel} uses {provider} without pinning it"
            continue
        block = _first(doc["terraform"])
        assert block["required_version"] == ">= 1.5", rel
        for provider, spec in _first(block["required_providers"]).items():
            assert spec["version"].startswith(expected[provider]), f"{rel}: {provider} {spec['version']}"


def test_bucket_is_private_uniform_versioned_with_lifecycle_and_notification(tf: Any) -> None:
    bucket = tf.resource("google_storage_bucket", "modules/storage/")
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["uniform_bucket_level_access"] is True
    assert _first(bucket["versioning"])["enabled"] is True
    actions = {_first(rule["action"])["type"] for rule in bucket["lifecycle_rule"]}
    assert {"Delete", "AbortIncompleteMultipartUpload"} <= actions
    note = tf.resource("google_storage_notification", "modules/storage/")
    assert note["event_types"] == ["OBJECT_FINALIZE"]


def test_cloud_sql_is_private_backed_up_and_uses_iam_auth(tf: Any) -> None:
    db = tf.resource("google_sql_database_instance", "modules/database/")
    assert db["database_version"] == "POSTGRES_15"
    settings = _first(db["settings"])
    ip = _first(settings["ip_configuration"])
    assert ip["ipv4_enabled"] is False
    assert ip["private_network"] == "${var.network_id}"
    backup = _first(settings["backup_configuration"])
    assert backup["enabled"] is True and backup["point_in_time_recovery_enabled"] is True
    flags = {f["name"]: f["value"] for f in settings["database_flags"]}
    assert flags["cloudsql.iam_authentication"] == "on"
    users = tf.resource("google_sql_user", "modules/database/")
    assert users["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"


def test_jobs_have_timeouts_retries_and_the_requested_size(tf: Any) -> None:
    job = tf.resource("google_cloud_run_v2_job", "modules/run_job/")
    task = _first(_first(job["template"])["template"])
    assert task["timeout"] == "${var.task_timeout}" and task["max_retries"] == "${var.max_retries}"
    for call in ("extract_job", "index_job"):
        args = tf.module_call("modules/stack/", call)
        assert (args["cpu"], args["memory"]) == ("2", "2Gi"), call
    assert tf.module_call("modules/stack/", "index_job")["parallelism"] == 1


def test_cloud_run_ingress_never_allows_all(tf: Any) -> None:
    assert tf.module_call("modules/stack/", "api")["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert tf.module_call("modules/stack/", "dispatcher")["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    ingress_var = [b for _, n, b in tf.named("variable", "modules/run_service/") if n == "ingress"][0]
    assert "INGRESS_TRAFFIC_ALL" not in str(ingress_var)
    service = tf.resource("google_cloud_run_v2_service", "modules/run_service/")
    assert service["ingress"] == "${var.ingress}"


def test_push_subscription_uses_oidc_retry_and_dead_letter(tf: Any) -> None:
    subs = {name: body for _, name, body in tf.resources("google_pubsub_subscription", "modules/pubsub/")}
    push = subs["dispatch"]
    oidc = _first(_first(push["push_config"])["oidc_token"])
    assert oidc["service_account_email"] == "${var.push_service_account_email}"
    assert oidc["audience"] == "${var.push_endpoint}"
    dlq = _first(push["dead_letter_policy"])
    assert dlq["dead_letter_topic"] == "${google_pubsub_topic.dead_letter.id}"
    assert dlq["max_delivery_attempts"] == "${var.max_delivery_attempts}"
    assert _first(push["retry_policy"])["maximum_backoff"]
    assert "dead_letter" in subs


def test_no_basic_roles_anywhere(tf: Any) -> None:
    for rel in tf.files:
        text = (tf.root / rel).read_text(encoding="utf-8")
        granted = re.findall(r'"(roles/[A-Za-z.]+)"', text)
        for role in granted:
            if role in BASIC_ROLES:
                assert "contains([" in text and "validation" in text, f"{rel} grants {role}"
    service_accounts = tf.module_call("modules/stack/", "iam")["service_accounts"]
    assert set(service_accounts) == {"api", "dispatcher", "extract", "index", "sweep", "migrate", "pubsub_push"}
    for sa in service_accounts.values():
        assert sa["project_roles"] == [] or sa["project_roles"].startswith("${")


def test_dispatcher_can_only_run_jobs(tf: Any) -> None:
    role = tf.resource("google_project_iam_custom_role", "modules/iam/")
    assert set(role["permissions"]) == {"run.jobs.run", "run.jobs.runWithOverrides"}
    # running an existing job needs no actAs on its identity: nobody holds serviceAccountUser on another account
    act_as = tf.module_call("modules/stack/", "iam")["act_as"]
    assert not [g for g in act_as.values() if g["role"] == "roles/iam.serviceAccountUser"]
    for call in ("extract_job", "index_job"):
        runners = tf.module_call("modules/stack/", call)["runners"]
        assert {r["role"] for r in runners.values()} == {"${module.iam.job_runner_role}"}


def test_cloud_armor_admits_only_cloudflare_and_blocks_log4j(tf: Any) -> None:
    policy = tf.resource("google_compute_security_policy", "modules/edge/")
    rules = policy["rule"]
    expressions = [_first(_first(r["match"]).get("expr", [{}])).get("expression") for r in rules]
    assert "evaluatePreconfiguredWaf('cve-canary')" in expressions
    default = [r for r in rules if r["priority"] == 2147483647][0]
    assert default["action"] == "deny(403)"
    ranges = [b for _, n, b in tf.named("variable", "modules/edge/") if n == "cloudflare_ip_ranges"][0]
    assert "173.245.48.0/20" in ranges["default"] and "2606:4700::/32" in ranges["default"]
    assert "0.0.0.0/0" not in ranges["default"]


def test_cloudflare_record_is_proxied_and_tls_is_strict(tf: Any) -> None:
    records = {name: body for _, name, body in tf.resources("cloudflare_record", "modules/edge/")}
    assert records["api"]["proxied"] is True
    zone = _first(tf.resource("cloudflare_zone_settings_override", "modules/edge/")["settings"])
    assert zone["ssl"] == "strict"
    rulesets = {name: body for _, name, body in tf.resources("cloudflare_ruleset", "modules/edge/")}
    assert rulesets["waf_managed"]["phase"] == "http_request_firewall_managed"
    assert rulesets["rate_limit"]["phase"] == "http_ratelimit"
    prefixes = [b for _, n, b in tf.named("variable", "modules/edge/") if n == "rate_limited_path_prefixes"][0]
    assert {"/v1/documents", "/v1/uploads", "/v1/query", "/extract-"} <= set(prefixes["default"])


def test_alerts_cover_failed_documents_dlq_jobs_and_5xx(tf: Any) -> None:
    policies = {name: body for _, name, body in tf.resources("google_monitoring_alert_policy", "modules/observability/")}
    assert set(policies) == {"failed_documents", "dead_letter_depth", "job_failures", "api_5xx", "api_uptime",
                             "cloudsql", "filestore"}
    assert "docs/runbook.md" in _first(policies["dead_letter_depth"]["documentation"])["content"]
    assert "run the sweep" not in str(policies)  # the alert names the exact command instead
    sql = {_first(c["condition_threshold"])["filter"].split("metric.type=")[1] for c in policies["cloudsql"]["conditions"]}
    assert {'"cloudsql.googleapis.com/database/cpu/utilization"', '"cloudsql.googleapis.com/database/disk/utilization"',
            '"cloudsql.googleapis.com/database/postgresql/num_backends"'} == sql
    assert tf.resource("google_monitoring_uptime_check_config", "modules/observability/")["count"]
    budget = tf.resource("google_billing_budget", "modules/observability/")
    assert budget["count"] == "${var.billing_account_id == null ? 0 : 1}"
    obs = tf.module_call("modules/stack/", "observability")
    assert obs["api_host"] == "${var.api_host}" and obs["cloudsql_instance"] == "${module.database.instance_name}"
    assert "${module.sweep_job.name}" in obs["job_names"]
    dlq = _first(_first(policies["dead_letter_depth"]["conditions"])["condition_threshold"])
    assert "num_undelivered_messages" in dlq["filter"]
    assert tf.resources("google_logging_metric", "modules/observability/")


def test_scheduler_is_optional_and_the_stack_schedules_the_sweep(tf: Any) -> None:
    job = tf.resource("google_cloud_scheduler_job", "modules/scheduler/")
    assert job["count"] == "${var.enabled ? 1 : 0}"
    enabled = [b for _, n, b in tf.named("variable", "modules/scheduler/") if n == "enabled"][0]
    assert enabled["default"] is False
    sweep = tf.module_call("modules/stack/", "sweep")
    assert sweep["job_name"] == "${module.sweep_job.name}" and sweep["args"] == []
    assert tf.module_call("modules/stack/", "sweep_job")["command"] == ["python", "-m", "jobs.sweep"]
    stack_default = [b for _, n, b in tf.named("variable", "modules/stack/") if n == "sweep_enabled"][0]
    assert stack_default["default"] is True


def test_filestore_lets_only_the_index_subnet_write(tf: Any) -> None:
    share = _first(tf.resource("google_filestore_instance", "modules/filestore/")["file_shares"])
    exports = {e["access_mode"]: e for e in share["nfs_export_options"]}
    assert set(exports) == {"READ_WRITE", "READ_ONLY"}
    assert exports["READ_WRITE"]["ip_ranges"] == ["${var.writer_cidr}"]
    assert exports["READ_ONLY"]["ip_ranges"] == ["${var.reader_cidr}"]
    assert exports["READ_ONLY"]["squash_mode"] == "ROOT_SQUASH"
    fs = tf.module_call("modules/stack/", "filestore")
    assert (fs["writer_cidr"], fs["reader_cidr"]) == ("${module.network.index_subnet_cidr}",
                                                      "${module.network.subnet_cidr}")
    assert tf.module_call("modules/stack/", "index_job")["subnet_id"] == "${module.network.index_subnet_id}"
    assert tf.module_call("modules/stack/", "api")["subnet_id"] == "${module.network.subnet_id}"


def test_dead_letter_topic_is_pushed_to_the_dispatcher(tf: Any) -> None:
    subs = {name: body for _, name, body in tf.resources("google_pubsub_subscription", "modules/pubsub/")}
    dlq = subs["dead_letter_dispatch"]
    assert dlq["name"] == "${local.dead_letter_topic}-dispatch"
    assert _first(_first(dlq["push_config"])["oidc_token"])["audience"] == "${var.push_endpoint}"
    assert "dead_letter_policy" not in dlq  # never dead-letters into itself
    assert tf.module_call("modules/stack/", "pubsub")["dead_letter_dispatch"] is True


def test_signed_urls_can_be_signed(tf: Any) -> None:
    services = [b for _, n, b in tf.named("variable", "modules/project_services/") if n == "services"][0]
    assert "iamcredentials.googleapis.com" in services["default"]


def test_modules_using_project_apis_wait_for_them(tf: Any) -> None:
    for call in ("network", "registry", "iam", "pubsub", "storage", "secrets", "observability", "edge"):
        assert "${module.apis}" in tf.module_call("modules/stack/", call).get("depends_on", []), call


def test_cloudflare_paid_features_follow_the_plan(tf: Any) -> None:
    rulesets = {name: body for _, name, body in tf.resources("cloudflare_ruleset", "modules/edge/")}
    assert rulesets["waf_managed"]["count"] == "${local.waf_managed_enabled ? 1 : 0}"
    assert rulesets["rate_limit"]["count"] == "${var.rate_limit_enabled ? 1 : 0}"
    edge_locals = tf.locals("modules/edge/")
    assert "var.cloudflare_plan != \"free\"" in edge_locals["waf_managed_enabled"]
    limits = edge_locals["plan_limits"]
    assert limits["free"] == {"periods": [10], "max_timeout": 10, "host_field": False}
    plan = [b for _, n, b in tf.named("variable", "modules/edge/") if n == "cloudflare_plan"][0]
    assert plan["default"] == "free"
    defaults = {n: b.get("default") for _, n, b in tf.named("variable", "modules/edge/")}
    # the defaults apply on a Free zone
    assert defaults["rate_limit_period"] in limits["free"]["periods"]
    assert defaults["rate_limit_mitigation_timeout"] <= limits["free"]["max_timeout"]
    pre = _first(rulesets["rate_limit"]["lifecycle"])["precondition"]
    assert len(pre) == 2


def test_no_shared_origin_secret_and_mtls_is_available(tf: Any) -> None:
    policy = tf.resource("google_compute_security_policy", "modules/edge/")
    assert "headers[" not in str(policy).replace("headers['host']", "")  # no secret compared in the policy
    assert not [n for _, n, v in tf.named("variable", "modules/edge/") if v.get("sensitive")], "a secret is back at the edge"
    proxy = tf.resource("google_compute_target_https_proxy", "modules/edge/")
    assert proxy["server_tls_policy"] == "${local.origin_mtls ? google_network_security_server_tls_policy.cloudflare[0].id : null}"
    tls = tf.resource("google_network_security_server_tls_policy", "modules/edge/")
    assert _first(tls["mtls_policy"])["client_validation_mode"] == "REJECT_INVALID"
    aop = tf.resource("cloudflare_authenticated_origin_pulls", "modules/edge/")
    assert aop["enabled"] is True and aop["count"] == "${local.origin_mtls ? 1 : 0}"
