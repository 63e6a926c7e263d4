variable "project_id" {
  description = "Google Cloud project that hosts the instance."
  type        = string
}

variable "region" {
  description = "Region of the Cloud SQL instance."
  type        = string
}

variable "name" {
  description = "Cloud SQL instance name."
  type        = string
  default     = "atlas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,96}$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens."
  }
}

variable "network_id" {
  description = "VPC id the instance gets its private IP in (via private services access)."
  type        = string
}

variable "private_services_connection" {
  description = "Id of the service networking connection; the instance is created after it."
  type        = string
}

variable "tier" {
  description = "Machine tier, e.g. db-custom-1-3840 (staging) or db-custom-2-7680 (prod)."
  type        = string
  default     = "db-custom-1-3840"
}

variable "availability_type" {
  description = "ZONAL or REGIONAL (high availability with a standby in a second zone)."
  type        = string
  default     = "ZONAL"

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type must be ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  description = "Initial disk size in GB (auto-resize grows it)."
  type        = number
  default     = 20

  validation {
    condition     = var.disk_size_gb >= 10
    error_message = "disk_size_gb must be at least 10."
  }
}

variable "deletion_protection" {
  description = "Protect the instance from deletion (Terraform and API level); true in production."
  type        = bool
  default     = true
}

variable "backup_start_time" {
  description = "Daily backup window start, HH:MM in UTC."
  type        = string
  default     = "02:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_start_time))
    error_message = "backup_start_time must be HH:MM."
  }
}

variable "retained_backups" {
  description = "Number of daily backups kept."
  type        = number
  default     = 14

  validation {
    condition     = var.retained_backups >= 1 && var.retained_backups <= 365
    error_message = "retained_backups must be between 1 and 365."
  }
}

variable "transaction_log_retention_days" {
  description = "Days of write-ahead log kept for point-in-time recovery."
  type        = number
  default     = 7

  validation {
    condition     = var.transaction_log_retention_days >= 1 && var.transaction_log_retention_days <= 7
    error_message = "transaction_log_retention_days must be between 1 and 7 (Enterprise edition)."
  }
}

variable "database_name" {
  description = "Name of the application database (POSTGRES_DB)."
  type        = string
  default     = "atlas"
}

variable "iam_service_accounts" {
  description = "Service account emails that get an IAM database user, keyed by component."
  type        = map(string)
  default     = {}
}

variable "extra_flags" {
  description = "Additional Postgres flags (names not already set by this module)."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Labels applied to the instance."
  type        = map(string)
  default     = {}
}
