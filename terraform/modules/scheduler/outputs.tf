output "scheduler_job_name" {
  description = "Name of the Cloud Scheduler job, or null when disabled."
  value       = var.enabled ? google_cloud_scheduler_job.sweep[0].name : null
}

output "service_account_email" {
  description = "Email of the scheduler's service account, or null when disabled."
  value       = var.enabled ? google_service_account.scheduler[0].email : null
}
