output "secret_ids" {
  description = "Secret ids keyed by the stable names given in var.secrets."
  value       = { for k, s in google_secret_manager_secret.this : k => s.secret_id }
}
