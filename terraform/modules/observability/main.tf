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
    content   = "Poison messages reached the dead-letter topic. Inspect them with `gcloud pubsub subscriptions pull ${var.dead_letter_subscription}`, fix the cause, then re-publish or run the sweep."
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
    content   = "A Cloud Run job execution failed after its retries. The documents it held are marked failed or will be retried by the sweep; check the execution logs."
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
