locals {
  channels = concat([for c in google_monitoring_notification_channel.email : c.id], var.notification_channel_ids)
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "Atlas alerts ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

resource "google_logging_metric" "failed_documents" {
  project     = var.project_id
  name        = "atlas/documents_failed"
  description = "Documents that ended in status failed (one structured log line per failure)."
  filter      = var.failed_document_filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Atlas documents failed"
  }
}

resource "google_logging_metric" "job_errors" {
  project     = var.project_id
  name        = "atlas/job_errors"
  description = "ERROR log lines from the Atlas Cloud Run jobs."
  filter      = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=(${join(" OR ", [for j in var.job_names : "\"${j}\""])}) AND severity>=ERROR"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Atlas job errors"
    labels {
      key         = "job_name"
      value_type  = "STRING"
      description = "Cloud Run job name."
    }
  }

  label_extractors = {
    job_name = "EXTRACT(resource.labels.job_name)"
  }
}

resource "google_monitoring_alert_policy" "failed_documents" {
  project               = var.project_id
  display_name          = "Atlas: documents failed"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "More than ${var.failed_documents_threshold} failed documents in 10 minutes"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.failed_documents.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.failed_documents_threshold
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Documents are ending `failed`. Check the failure reasons (`atlas` logs, jsonPayload.reason); bad input is expected, a burst is not."
  }
}

resource "google_monitoring_alert_policy" "dead_letter_depth" {
  project               = var.project_id
  display_name          = "Atlas: dead-letter queue not empty"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "Undelivered messages on ${var.dead_letter_subscription}"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${var.dead_letter_subscription}\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Poison messages reached the dead-letter topic (the dispatcher already ended dead uploads `failed`, error_code dispatch_failed). Follow docs/runbook.md \"Dead-letter alert\": inspect with `gcloud pubsub subscriptions pull ${var.dead_letter_subscription} --limit=10 --format=json`, fix the cause, then `gcloud run jobs execute ${var.sweep_job_name} --region=${var.region} --wait`."
  }
}

resource "google_monitoring_alert_policy" "job_failures" {
  project               = var.project_id
  display_name          = "Atlas: job executions failed"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "Failed executions of ${join(", ", var.job_names)}"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND metric.type=\"run.googleapis.com/job/completed_execution_count\" AND metric.labels.result=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.job_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A Cloud Run job execution failed after its retries. Extract: its documents ended failed or are re-driven by the sweep. Index: follow docs/runbook.md \"Failed index job\" (re-run the targets, or `gcloud run jobs execute atlas-index --args=reindex`)."
  }
}

resource "google_monitoring_alert_policy" "api_5xx" {
  project               = var.project_id
  display_name          = "Atlas: API 5xx rate"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "5xx above ${var.error_rate_threshold * 100}% of requests"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.api_service_name}\" AND metric.type=\"run.googleapis.com/request_count\" AND metric.labels.response_code_class=\"5xx\""
      denominator_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.api_service_name}\" AND metric.type=\"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_rate_threshold
      duration           = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The API answers 5xx. Look at recent revisions (roll back with `gcloud run services update-traffic`) and at Cloud SQL health."
  }
}

# ---- availability and capacity: the public endpoint, the database, the index share, the bill ----

# Through Cloudflare and the load balancer, as a client sees it (the run.app URL refuses outside traffic).
resource "google_monitoring_uptime_check_config" "api" {
  count = var.api_host == null ? 0 : 1

  project      = var.project_id
  display_name = "Atlas API ${var.api_host}"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path         = var.api_health_path
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.api_host
    }
  }
}

resource "google_monitoring_alert_policy" "api_uptime" {
  count = var.api_host == null ? 0 : 1

  project               = var.project_id
  display_name          = "Atlas: API unreachable"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "Uptime check of ${var.api_host} failing"
    condition_threshold {
      filter          = "resource.type=\"uptime_url\" AND metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.labels.check_id=\"${google_monitoring_uptime_check_config.api[0].uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.labels.host"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The API does not answer ${var.api_health_path} through Cloudflare from several regions. Check Cloudflare status, the load balancer and `gcloud run services describe ${var.api_service_name}`; docs/runbook.md."
  }
}

resource "google_monitoring_alert_policy" "cloudsql" {
  count = var.cloudsql_instance == null ? 0 : 1

  project               = var.project_id
  display_name          = "Atlas: Cloud SQL saturated"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "CPU above ${var.cloudsql_cpu_threshold * 100}% for 10 minutes"
    condition_threshold {
      filter          = "resource.type=\"cloudsql_database\" AND resource.labels.database_id=\"${var.project_id}:${var.cloudsql_instance}\" AND metric.type=\"cloudsql.googleapis.com/database/cpu/utilization\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.cloudsql_cpu_threshold
      duration        = "600s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MEAN"
      }
    }
  }

  conditions {
    display_name = "Disk above ${var.cloudsql_disk_threshold * 100}% full"
    condition_threshold {
      filter          = "resource.type=\"cloudsql_database\" AND resource.labels.database_id=\"${var.project_id}:${var.cloudsql_instance}\" AND metric.type=\"cloudsql.googleapis.com/database/disk/utilization\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.cloudsql_disk_threshold
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  conditions {
    display_name = "More than ${var.cloudsql_max_backends} connections"
    condition_threshold {
      filter          = "resource.type=\"cloudsql_database\" AND resource.labels.database_id=\"${var.project_id}:${var.cloudsql_instance}\" AND metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.cloudsql_max_backends
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Cloud SQL is near a limit. CPU/connections: lower api_max_instances or DB_POOL_SIZE, or raise db_tier; disk: autoresize is on, check for a runaway table (outbox, processed_events). docs/runbook.md."
  }
}

resource "google_monitoring_alert_policy" "filestore" {
  count = var.filestore_instance == null ? 0 : 1

  project               = var.project_id
  display_name          = "Atlas: index share filling up"
  combiner              = "OR"
  notification_channels = local.channels

  conditions {
    display_name = "Less than ${var.filestore_free_percent}% free on the Chroma share"
    condition_threshold {
      filter          = "resource.type=\"filestore_instance\" AND resource.labels.instance_name=\"${var.filestore_instance}\" AND metric.type=\"file.googleapis.com/nfs/server/free_bytes_percent\""
      comparison      = "COMPARISON_LT"
      threshold_value = var.filestore_free_percent
      duration        = "600s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MIN"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Index generations are filling the Filestore share. Old generations should be pruned by the index job; if not, rebuild (`gcloud run jobs execute atlas-index --args=reindex`) and grow capacity_gb. docs/runbook.md."
  }
}

data "google_project" "this" {
  count = var.billing_account_id == null ? 0 : 1

  project_id = var.project_id
}

# Spend against a monthly amount, with the same notification channels as every other alert.
resource "google_billing_budget" "monthly" {
  count = var.billing_account_id == null ? 0 : 1

  billing_account = var.billing_account_id
  display_name    = "Atlas ${var.project_id} monthly"

  budget_filter {
    projects = ["projects/${data.google_project.this[0].number}"]
  }

  amount {
    specified_amount {
      currency_code = var.budget_currency
      units         = tostring(var.monthly_budget)
    }
  }

  dynamic "threshold_rules" {
    for_each = [0.5, 0.9, 1.0]
    content {
      threshold_percent = threshold_rules.value
    }
  }

  all_updates_rule {
    monitoring_notification_channels = local.channels
    disable_default_iam_recipients   = false
  }
}
