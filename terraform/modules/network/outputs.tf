output "network_id" {
  description = "Id of the VPC (projects/<p>/global/networks/<name>)."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.this.name
}

output "subnet_id" {
  description = "Id of the subnet used by Cloud Run Direct VPC egress."
  value       = google_compute_subnetwork.run.id
}

output "subnet_cidr" {
  description = "Primary range of the Cloud Run subnet (the NFS export is limited to it)."
  value       = google_compute_subnetwork.run.ip_cidr_range
}

output "private_services_range_name" {
  description = "Name of the private services access range, for Filestore's reserved_ip_range."
  value       = google_compute_global_address.private_services.name
}

output "private_services_connection" {
  description = "The service networking connection; Cloud SQL and Filestore must be created after it."
  value       = google_service_networking_connection.private_services.id
}

output "index_subnet_id" {
  description = "Subnet of the index job (Direct VPC egress)."
  value       = google_compute_subnetwork.index.id
}

output "index_subnet_cidr" {
  description = "Range of the index job's subnet (the only one the NFS export lets write)."
  value       = google_compute_subnetwork.index.ip_cidr_range
}
