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

    # A new share is root-owned rwxr-xr-x, so only root on a client can write it
    # (https://cloud.google.com/filestore/docs/access-control#file_share_permissions): the index job runs as root
    # from its own subnet, the only range with write access and an unsquashed root.
    nfs_export_options {
      ip_ranges   = [var.writer_cidr]
      access_mode = "READ_WRITE"
      squash_mode = "NO_ROOT_SQUASH"
    }

    # Readers (the API) mount read-only from the shared Cloud Run subnet; a root there is squashed to nobody.
    nfs_export_options {
      ip_ranges   = [var.reader_cidr]
      access_mode = "READ_ONLY"
      squash_mode = "ROOT_SQUASH"
      anon_uid    = 65534
      anon_gid    = 65534
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
