output "alert_policy_ids" {
  description = "Alert policy ids keyed by what they watch."
  value = {
    failed_documents  = google_monitoring_alert_policy.failed_documents.id
    dead_letter_depth = google_monitoring_alert_policy.dead_letter_depth.id
    job_failures      = google_monitoring_alert_policy.job_failures.id
    api_5xx           = google_monitoring_alert_policy.api_5xx.id
  }
}

output "log_metric_names" {
  description = "Log-based metric names."
  value       = [google_logging_metric.failed_documents.name, google_logging_metric.job_errors.name]
}
