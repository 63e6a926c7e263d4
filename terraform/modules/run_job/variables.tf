variable "project_id" {
  description = "Google Cloud project that hosts the job."
  type        = string
}

variable "region" {
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Cloud Run job name (the code's ATLAS_EXTRACT_JOB / ATLAS_INDEX_JOB)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC1035 name of at most 49 characters."
  }
}

variable "image" {
  description = "Container image, preferably by digest."
  type        = string
}

variable "command" {
  description = "Entrypoint override; null uses the image's."
  type        = list(string)
  default     = null
}

variable "args" {
  description = "Arguments; the dispatcher overrides them per execution (document ids)."
  type        = list(string)
  default     = null
}

variable "service_account_email" {
  description = "The job's own least-privilege service account."
  type        = string
}

variable "cpu" {
  description = "CPU limit per task."
  type        = string
  default     = "2"

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.cpu)
    error_message = "cpu must be 1, 2, 4, 6 or 8."
  }
}

variable "memory" {
  description = "Memory limit per task (at least 2Gi is needed for 2 CPUs)."
  type        = string
  default     = "2Gi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must look like 512Mi or 2Gi."
  }
}

variable "task_timeout" {
  description = "Maximum run time of one task attempt (duration, e.g. 1800s); the job handles SIGTERM at the deadline."
  type        = string
  default     = "1800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.task_timeout))
    error_message = "task_timeout must be a duration in seconds, e.g. 1800s."
  }
}

variable "max_retries" {
  description = "Retries of a failed task (a non-zero exit) before the execution fails."
  type        = number
  default     = 3

  validation {
    condition     = var.max_retries >= 0 && var.max_retries <= 10
    error_message = "max_retries must be between 0 and 10."
  }
}

variable "parallelism" {
  description = "Tasks running at once; 1 for the single-writer index job."
  type        = number
  default     = 1

  validation {
    condition     = var.parallelism >= 0
    error_message = "parallelism must not be negative (0 = no limit)."
  }
}

variable "task_count" {
  description = "Default number of tasks per execution (work is sharded by CLOUD_RUN_TASK_INDEX)."
  type        = number
  default     = 1

  validation {
    condition     = var.task_count >= 1
    error_message = "task_count must be at least 1."
  }
}

variable "env" {
  description = "Plain environment variables (names must be settings the code reads)."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variables read from Secret Manager: name => secret id."
  type        = map(string)
  default     = {}
}

variable "secret_version" {
  description = "Secret version injected at task start."
  type        = string
  default     = "latest"
}

variable "nfs" {
  description = "Optional NFS volume (Filestore): server, export path, mount path and read_only."
  type = object({
    server     = string
    path       = string
    mount_path = string
    read_only  = bool
  })
  default = null
}

variable "network_id" {
  description = "VPC for Direct VPC egress."
  type        = string
}

variable "subnet_id" {
  description = "Subnet for Direct VPC egress."
  type        = string
}

variable "runners" {
  description = "Job-level role grants keyed by a stable name (e.g. the dispatcher with the job-runner custom role)."
  type = map(object({
    role   = string
    member = string
  }))
  default = {}

  validation {
    condition     = alltrue([for r in values(var.runners) : !contains(["roles/owner", "roles/editor", "roles/run.admin"], r.role)])
    error_message = "Runners get the job-runner role (or run.invoker/run.developer), never admin roles."
  }
}

variable "deletion_protection" {
  description = "Refuse terraform destroy of the job."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels applied to the job."
  type        = map(string)
  default     = {}
}
