variable "project_id" {
  description = "Google Cloud project that hosts the bucket."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the document bucket (ATLAS_GCS_BUCKET)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid Cloud Storage bucket name."
  }
}

variable "location" {
  description = "Bucket location (a region, next to Cloud Run)."
  type        = string
}

variable "notification_topic_id" {
  description = "Id of the Pub/Sub topic that receives OBJECT_FINALIZE notifications (the document-uploaded topic)."
  type        = string
}

variable "notification_object_prefix" {
  description = "Only objects under this prefix notify; the API's own writes go elsewhere and publish through the outbox."
  type        = string
  default     = "uploads/"
}

variable "noncurrent_retention_days" {
  description = "Days a noncurrent (overwritten or deleted) object version is kept before deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_retention_days >= 1
    error_message = "noncurrent_retention_days must be at least 1."
  }
}

variable "max_noncurrent_versions" {
  description = "Noncurrent versions kept per object regardless of age."
  type        = number
  default     = 3

  validation {
    condition     = var.max_noncurrent_versions >= 1
    error_message = "max_noncurrent_versions must be at least 1."
  }
}

variable "nearline_after_days" {
  description = "Move objects to NEARLINE after this many days; 0 keeps everything in STANDARD."
  type        = number
  default     = 0

  validation {
    condition     = var.nearline_after_days == 0 || var.nearline_after_days >= 30
    error_message = "nearline_after_days must be 0 or at least 30 (NEARLINE minimum storage duration)."
  }
}

variable "access_log_bucket" {
  description = "Bucket that receives usage/access logs of the document bucket; null disables (Cloud Audit data-access logs are the alternative)."
  type        = string
  default     = null
}

variable "iam_bindings" {
  description = "Bucket-level role grants keyed by a stable name (e.g. { api_write = { role = \"roles/storage.objectCreator\", member = \"serviceAccount:...\" } })."
  type = map(object({
    role   = string
    member = string
  }))
  default = {}

  validation {
    condition     = alltrue([for b in values(var.iam_bindings) : startswith(b.role, "roles/storage.object")])
    error_message = "Only object-level storage roles may be granted on the document bucket."
  }
}

variable "labels" {
  description = "Labels applied to the bucket."
  type        = map(string)
  default     = {}
}
