resource "google_storage_bucket" "documents" {
  project                     = var.project_id
  name                        = var.bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  # Old versions of a blob (overwritten or deleted) are kept long enough to recover from mistakes, then removed.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.max_noncurrent_versions
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.nearline_after_days > 0 ? [var.nearline_after_days] : []
    content {
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD"]
      }
      action {
        type          = "SetStorageClass"
        storage_class = "NEARLINE"
      }
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket = logging.value
    }
  }
}

data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_pubsub_topic_iam_member" "gcs_publisher" {
  topic  = var.notification_topic_id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

# Direct (signed URL) uploads never pass through the API, so the finalized object is the upload event.
resource "google_storage_notification" "finalized" {
  bucket             = google_storage_bucket.documents.name
  payload_format     = "JSON_API_V1"
  topic              = var.notification_topic_id
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = var.notification_object_prefix
  custom_attributes = {
    source = "gcs"
  }

  depends_on = [google_pubsub_topic_iam_member.gcs_publisher]
}

resource "google_storage_bucket_iam_member" "access" {
  for_each = var.iam_bindings

  bucket = google_storage_bucket.documents.name
  role   = each.value.role
  member = each.value.member
}
