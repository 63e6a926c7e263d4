output "api_url" {
  description = "Public URL of the API (through Cloudflare)."
  value       = module.edge.api_url
}

output "load_balancer_ip" {
  description = "Origin load balancer address (only Cloudflare may reach it)."
  value       = module.edge.load_balancer_ip
}

output "repository_url" {
  description = "Artifact Registry prefix to push images to."
  value       = module.registry.repository_url
}

output "bucket_name" {
  description = "Document bucket (ATLAS_GCS_BUCKET)."
  value       = module.storage.bucket_name
}

output "instance_connection_name" {
  description = "Cloud SQL instance connection name (INSTANCE_CONNECTION_NAME)."
  value       = module.database.connection_name
}

output "database_users" {
  description = "IAM database users keyed by component (POSTGRES_USER of each)."
  value       = module.database.iam_users
}

output "service_accounts" {
  description = "Service account emails keyed by component."
  value       = module.iam.emails
}

output "topics" {
  description = "Pub/Sub topic names keyed by event topic."
  value       = module.pubsub.topic_names
}

output "jobs" {
  description = "Cloud Run job names (ATLAS_EXTRACT_JOB, ATLAS_INDEX_JOB, the sweep and the migrate job)."
  value = {
    extract = module.extract_job.name
    index   = module.index_job.name
    sweep   = module.sweep_job.name
    migrate = module.migrate_job.name
  }
}

output "secret_ids" {
  description = "Secret Manager secret ids to add versions to."
  value       = module.secrets.secret_ids
}
