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

variable "region" {
  description = "Region of the jobs (for the commands in alert documentation)."
  type        = string
}

variable "sweep_job_name" {
  description = "Cloud Run job name of the sweep (named in the dead-letter alert's documentation)."
  type        = string
  default     = "atlas-sweep"
}

variable "api_host" {
  description = "Public host name of the API for the uptime check through Cloudflare; null disables the check."
  type        = string
  default     = null
}

variable "api_health_path" {
  description = "Health path the uptime check requests."
  type        = string
  default     = "/health"
}

variable "cloudsql_instance" {
  description = "Cloud SQL instance name whose CPU, disk and connections are alerted on; null disables."
  type        = string
  default     = null
}

variable "cloudsql_cpu_threshold" {
  description = "Cloud SQL CPU utilisation (0-1) sustained for 10 minutes above which the alert fires."
  type        = number
  default     = 0.8
}

variable "cloudsql_disk_threshold" {
  description = "Cloud SQL disk utilisation (0-1) above which the alert fires."
  type        = number
  default     = 0.85
}

variable "cloudsql_max_backends" {
  description = "Postgres connections above which the alert fires (Cloud Run instances x pool size grow them)."
  type        = number
  default     = 80
}

variable "filestore_instance" {
  description = "Filestore instance name whose free space is alerted on; null disables."
  type        = string
  default     = null
}

variable "filestore_free_percent" {
  description = "Free space (percent) on the Chroma share below which the alert fires."
  type        = number
  default     = 15
}

variable "billing_account_id" {
  description = "Billing account for the monthly budget alert (the deployer needs billing.budgets.create on it); null disables."
  type        = string
  default     = null
}

variable "monthly_budget" {
  description = "Monthly spend, in budget_currency, the budget alert measures against (50%, 90%, 100%)."
  type        = number
  default     = 300
}

variable "budget_currency" {
  description = "Currency of monthly_budget (the billing account's currency)."
  type        = string
  default     = "EUR"
}
