output "connection_name" {
  description = "Instance connection name <project>:<region>:<instance> (INSTANCE_CONNECTION_NAME)."
  value       = google_sql_database_instance.this.connection_name
}

output "instance_name" {
  description = "Cloud SQL instance name."
  value       = google_sql_database_instance.this.name
}

output "database_name" {
  description = "Application database name (POSTGRES_DB)."
  value       = google_sql_database.atlas.name
}

output "private_ip" {
  description = "Private IP address of the instance."
  value       = google_sql_database_instance.this.private_ip_address
}

output "iam_users" {
  description = "IAM database user names keyed by component (POSTGRES_USER for that component)."
  value       = { for k, u in google_sql_user.iam : k => u.name }
}
