variable "project_id" {
  description = "Google Cloud project that hosts the topics."
  type        = string
}

variable "topic_prefix" {
  description = "Prefix of every topic name; must equal ATLAS_PUBSUB_TOPIC_PREFIX in the code's settings."
  type        = string
  default     = "atlas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.topic_prefix))
    error_message = "topic_prefix must be lowercase letters, digits and hyphens."
  }
}

variable "event_topics" {
  description = "Event topics without prefix: one per domain event type, dots replaced by hyphens (document.uploaded -> document-uploaded)."
  type        = list(string)
  default     = ["document-uploaded", "extraction-completed", "index-updated", "document-deleted"]

  validation {
    condition     = alltrue([for t in var.event_topics : can(regex("^[a-z]+(-[a-z]+)+$", t))])
    error_message = "event_topics must look like noun-verb (e.g. document-uploaded)."
  }
}

variable "dispatched_topics" {
  description = "Event topics (from event_topics) that get a push subscription to the dispatcher."
  type        = list(string)
  default     = ["document-uploaded", "extraction-completed", "document-deleted"]
}

variable "push_endpoint" {
  description = "HTTPS URL of the dispatcher; also the OIDC audience of the push token."
  type        = string

  validation {
    condition     = startswith(var.push_endpoint, "https://")
    error_message = "push_endpoint must be an https URL."
  }
}

variable "push_service_account_email" {
  description = "Service account whose OIDC token the push subscription sends; it alone may invoke the dispatcher."
  type        = string
}

variable "ack_deadline_seconds" {
  description = "Seconds the dispatcher has to answer a push before Pub/Sub retries."
  type        = number
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "retry_minimum_backoff" {
  description = "Minimum delay before redelivering a nacked message (duration, e.g. 10s)."
  type        = string
  default     = "10s"
}

variable "retry_maximum_backoff" {
  description = "Maximum delay before redelivering a nacked message (duration, at most 600s)."
  type        = string
  default     = "600s"
}

variable "max_delivery_attempts" {
  description = "Deliveries before a message is moved to the dead-letter topic."
  type        = number
  default     = 5

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub allows max_delivery_attempts between 5 and 100."
  }
}

variable "topic_retention" {
  description = "How long topics retain messages (allows seek/replay after an incident)."
  type        = string
  default     = "604800s"
}

variable "subscription_retention" {
  description = "How long unacked messages stay in a dispatch subscription."
  type        = string
  default     = "604800s"
}

variable "publishers" {
  description = "Publisher grants keyed by a stable name: topic (without prefix) and member."
  type = map(object({
    topic  = string
    member = string
  }))
  default = {}
}

variable "labels" {
  description = "Labels applied to topics and subscriptions."
  type        = map(string)
  default     = {}
}

variable "dead_letter_dispatch" {
  description = "Also push the dead-letter topic to the dispatcher, which ends dead documents failed (the hold subscription keeps a copy either way)."
  type        = bool
  default     = true
}
