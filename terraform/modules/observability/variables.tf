variable "project_id" {
  description = "Google Cloud project that hosts metrics and alert policies."
  type        = string
}

variable "api_service_name" {
  description = "Cloud Run service name of the API (for the 5xx-rate alert)."
  type        = string
}

variable "job_names" {
  description = "Cloud Run job names watched for failures."
  type        = list(string)

  validation {
    condition     = length(var.job_names) > 0
    error_message = "job_names must name at least one job."
  }
}

variable "dead_letter_subscription" {
  description = "Subscription id on the dead-letter topic whose backlog is alerted on."
  type        = string
}

variable "failed_document_filter" {
  description = "Cloud Logging filter matching one line per document that ends failed (the code logs event=document.failed)."
  type        = string
  default     = "jsonPayload.event=\"document.failed\""
}

variable "failed_documents_threshold" {
  description = "Failed documents in 10 minutes above which the alert fires."
  type        = number
  default     = 5

  validation {
    condition     = var.failed_documents_threshold >= 0
    error_message = "failed_documents_threshold must not be negative."
  }
}

variable "error_rate_threshold" {
  description = "Fraction of API requests answered 5xx (over 5 minutes) above which the alert fires."
  type        = number
  default     = 0.05

  validation {
    condition     = var.error_rate_threshold > 0 && var.error_rate_threshold < 1
    error_message = "error_rate_threshold must be in (0, 1)."
  }
}

variable "alert_emails" {
  description = "Email addresses that receive alerts (one notification channel each)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@ ]+@[^@ ]+$", e))])
    error_message = "alert_emails must be email addresses."
  }
}

variable "notification_channel_ids" {
  description = "Existing notification channel ids (PagerDuty, Slack, ...) added to every policy."
  type        = list(string)
  default     = []
}
