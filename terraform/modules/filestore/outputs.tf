output "server" {
  description = "IP address of the NFS server."
  value       = google_filestore_instance.this.networks[0].ip_addresses[0]
}

output "export_path" {
  description = "NFS export path (/<share_name>)."
  value       = "/${google_filestore_instance.this.file_shares[0].name}"
}

output "instance_name" {
  description = "Filestore instance name (for the free-space alert)."
  value       = google_filestore_instance.this.name
}
