output "emails" {
  description = "Service account emails keyed by component."
  value       = { for k, sa in google_service_account.this : k => sa.email }
}

output "members" {
  description = "IAM members (serviceAccount:<email>) keyed by component."
  value       = { for k, sa in google_service_account.this : k => sa.member }
}

output "job_runner_role" {
  description = "Full id of the custom job-runner role (projects/<p>/roles/<id>), to bind on individual jobs."
  value       = google_project_iam_custom_role.job_runner.name
}
