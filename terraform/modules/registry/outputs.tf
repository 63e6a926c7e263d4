output "repository_url" {
  description = "Docker host/path prefix for images, e.g. europe-west1-docker.pkg.dev/<project>/atlas."
  value       = "${google_artifact_registry_repository.this.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
}

output "repository_id" {
  description = "Full resource id of the repository."
  value       = google_artifact_registry_repository.this.id
}
