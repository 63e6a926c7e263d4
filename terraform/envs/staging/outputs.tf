output "api_url" {
  description = "Public URL of the API."
  value       = module.atlas.api_url
}

output "repository_url" {
  description = "Artifact Registry prefix for images."
  value       = module.atlas.repository_url
}

output "bucket_name" {
  description = "Document bucket."
  value       = module.atlas.bucket_name
}

output "instance_connection_name" {
  description = "Cloud SQL instance connection name."
  value       = module.atlas.instance_connection_name
}

output "database_users" {
  description = "IAM database users per component."
  value       = module.atlas.database_users
}

output "service_accounts" {
  description = "Service account emails per component."
  value       = module.atlas.service_accounts
}

output "jobs" {
  description = "Cloud Run job names."
  value       = module.atlas.jobs
}

output "secret_ids" {
  description = "Secret ids to add versions to before the first deploy."
  value       = module.atlas.secret_ids
}
