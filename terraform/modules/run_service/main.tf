resource "google_cloud_run_v2_service" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  ingress             = var.ingress
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    service_account                  = var.service_account_email
    max_instance_request_concurrency = var.concurrency
    timeout                          = var.request_timeout
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

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

      ports {
        container_port = var.container_port
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
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

      # Without a health path Cloud Run's default TCP startup probe applies (functions-framework has no health route).
      dynamic "startup_probe" {
        for_each = var.health_path == null ? [] : [var.health_path]
        content {
          http_get {
            path = startup_probe.value
          }
          period_seconds    = 5
          failure_threshold = 24
        }
      }

      dynamic "liveness_probe" {
        for_each = var.health_path == null ? [] : [var.health_path]
        content {
          http_get {
            path = liveness_probe.value
          }
          period_seconds = 30
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

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invokers

  project  = var.project_id
  location = google_cloud_run_v2_service.this.location
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = each.value
}
