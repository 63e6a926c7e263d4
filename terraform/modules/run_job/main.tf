resource "google_cloud_run_v2_job" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    parallelism = var.parallelism
    task_count  = var.task_count

    template {
      service_account       = var.service_account_email
      timeout               = var.task_timeout
      max_retries           = var.max_retries
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = var.network_id
          subnetwork = var.subnet_id
        }
      }

      containers {
        image   = var.image
        command = var.command
        args    = var.args

        resources {
          limits = {
            cpu    = var.cpu
            memory = var.memory
          }
        }

        dynamic "env" {
          for_each = var.env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = var.secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = env.value
                version = var.secret_version
              }
            }
          }
        }

        dynamic "volume_mounts" {
          for_each = var.nfs == null ? [] : [var.nfs]
          content {
            name       = "nfs"
            mount_path = volume_mounts.value.mount_path
          }
        }
      }

      dynamic "volumes" {
        for_each = var.nfs == null ? [] : [var.nfs]
        content {
          name = "nfs"
          nfs {
            server    = volumes.value.server
            path      = volumes.value.path
            read_only = volumes.value.read_only
          }
        }
      }
    }
  }
}

resource "google_cloud_run_v2_job_iam_member" "runner" {
  for_each = var.runners

  project  = var.project_id
  location = google_cloud_run_v2_job.this.location
  name     = google_cloud_run_v2_job.this.name
  role     = each.value.role
  member   = each.value.member
}
