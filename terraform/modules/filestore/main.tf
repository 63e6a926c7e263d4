resource "google_filestore_instance" "this" {
  project                     = var.project_id
  name                        = var.name
  location                    = var.zone
  tier                        = var.tier
  description                 = "Chroma generations for Atlas (written by the index job only)."
  deletion_protection_enabled = var.deletion_protection
  labels                      = var.labels

  file_shares {
    name        = var.share_name
    capacity_gb = var.capacity_gb

    # Only the Cloud Run subnet may mount; root is not squashed because Cloud Run containers run as root.
    nfs_export_options {
      ip_ranges   = [var.client_cidr]
      access_mode = "READ_WRITE"
      squash_mode = "NO_ROOT_SQUASH"
    }
  }

  networks {
    network           = var.network_name
    modes             = ["MODE_IPV4"]
    connect_mode      = "PRIVATE_SERVICE_ACCESS"
    reserved_ip_range = var.reserved_ip_range
  }

  depends_on = [var.private_services_connection]
}
