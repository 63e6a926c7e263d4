variable "project_id" {
  description = "Google Cloud project that hosts the repository."
  type        = string
}

variable "region" {
  description = "Region of the repository (same as Cloud Run, so pulls stay regional)."
  type        = string
}

variable "repository_id" {
  description = "Artifact Registry repository id."
  type        = string
  default     = "atlas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.repository_id))
    error_message = "repository_id must be lowercase letters, digits and hyphens."
  }
}

variable "immutable_tags" {
  description = "Refuse to move a tag once pushed, so a deployed tag always means the same image."
  type        = bool
  default     = true
}

variable "keep_versions" {
  description = "Number of most recent image versions the cleanup policy always keeps (rollback targets)."
  type        = number
  default     = 20

  validation {
    condition     = var.keep_versions >= 1
    error_message = "keep_versions must be at least 1."
  }
}

variable "writers" {
  description = "Principals allowed to push images, keyed by a stable name (e.g. { ci = \"serviceAccount:ci@p.iam.gserviceaccount.com\" })."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Labels applied to the repository."
  type        = map(string)
  default     = {}
}
