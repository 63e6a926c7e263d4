locals {
  project_grants = merge([
    for key, sa in var.service_accounts : {
      for role in sa.project_roles : "${key}/${role}" => { sa = key, role = role }
    }
  ]...)
}

resource "google_service_account" "this" {
  for_each = var.service_accounts

  project      = var.project_id
  account_id   = each.value.account_id
  display_name = each.value.display_name
  description  = each.value.description
}

resource "google_project_iam_member" "this" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.this[each.value.sa].email}"
}

# Starting a job execution (with per-document overrides) and nothing else about Cloud Run.
resource "google_project_iam_custom_role" "job_runner" {
  project     = var.project_id
  role_id     = var.job_runner_role_id
  title       = "Atlas job runner"
  description = "Run Atlas Cloud Run jobs with overrides; bound on individual jobs only."
  # Starting an execution with per-run args/env is all the dispatcher and the scheduler do; neither reads
  # executions back, and running an existing job needs no actAs on its identity.
  permissions = [
    "run.jobs.run",
    "run.jobs.runWithOverrides",
  ]
}

resource "google_service_account_iam_member" "act_as" {
  for_each = var.act_as

  service_account_id = google_service_account.this[each.value.target].name
  role               = each.value.role
  member             = "serviceAccount:${google_service_account.this[each.value.actor].email}"
}
