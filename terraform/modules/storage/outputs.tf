output "bucket_name" {
  description = "Name of the document bucket (ATLAS_GCS_BUCKET)."
  value       = google_storage_bucket.documents.name
}

output "bucket_url" {
  description = "gs:// URL of the document bucket."
  value       = google_storage_bucket.documents.url
}
