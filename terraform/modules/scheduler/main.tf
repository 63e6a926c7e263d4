resource "google_service_account" "scheduler" {
  count = var.enabled ? 1 : 0

  project      = var.project_id
  account_id   = var.account_id
  display_name = "Atlas scheduler"
  description  = "Starts the periodic ${var.job_name} execution from Cloud Scheduler."
}

resource "google_cloud_run_v2_job_iam_member" "scheduler" {
  count = var.enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = var.job_name
  role     = var.job_runner_role
  member   = google_service_account.scheduler[0].member
}

# Calls the Cloud Run Admin API directly: no extra service sits between the schedule and the job.
resource "google_cloud_scheduler_job" "sweep" {
  count = var.enabled ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = var.name
  description      = "Periodic ${var.job_name} run (lost uploads, stuck documents, outbox relay)."
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "320s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${var.job_name}:run"
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode(jsonencode(
      length(var.args) == 0 ? {} : { overrides = { containerOverrides = [{ args = var.args }] } }
    ))

    oauth_token {
      service_account_email = google_service_account.scheduler[0].email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler]
}
