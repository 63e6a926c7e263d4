output "name" {
  description = "Cloud Run service name."
  value       = google_cloud_run_v2_service.this.name
}

output "uri" {
  description = "HTTPS URL of the service (reachable only per its ingress setting)."
  value       = google_cloud_run_v2_service.this.uri
}

output "id" {
  description = "Full resource id of the service."
  value       = google_cloud_run_v2_service.this.id
}
