locals {
  topics            = { for t in var.event_topics : t => "${var.topic_prefix}-${t}" }
  dead_letter_topic = "${var.topic_prefix}-dead-letter"
  pubsub_agent      = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_pubsub_topic" "event" {
  for_each = local.topics

  project                    = var.project_id
  name                       = each.value
  message_retention_duration = var.topic_retention
  labels                     = var.labels
}

resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = local.dead_letter_topic
  message_retention_duration = var.topic_retention
  labels                     = var.labels
}

# Poison messages are kept here for a human (docs/runbook.md) and feed the DLQ-depth alert.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${local.dead_letter_topic}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

# The dispatcher consumes the dead-letter topic too: a dead document.uploaded ends its document failed
# (error_code dispatch_failed) instead of leaving it queued forever. No dead-letter policy of its own: an error
# here is retried with backoff until the retention runs out, and the hold subscription keeps a copy regardless.
resource "google_pubsub_subscription" "dead_letter_dispatch" {
  count = var.dead_letter_dispatch ? 1 : 0

  project                    = var.project_id
  name                       = "${local.dead_letter_topic}-dispatch"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_retention
  labels                     = var.labels

  push_config {
    push_endpoint = var.push_endpoint

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.push_endpoint
    }
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription" "dispatch" {
  for_each = toset(var.dispatched_topics)

  project                    = var.project_id
  name                       = "${local.topics[each.value]}-dispatch"
  topic                      = google_pubsub_topic.event[each.value].id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_retention
  labels                     = var.labels

  push_config {
    push_endpoint = var.push_endpoint

    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = var.push_endpoint
    }
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering needs the Pub/Sub service agent to publish to the DLQ and to ack on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source" {
  for_each = google_pubsub_subscription.dispatch

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The push subscription mints OIDC tokens as the push service account.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.push_service_account_email}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = var.publishers

  project = var.project_id
  topic   = google_pubsub_topic.event[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}
