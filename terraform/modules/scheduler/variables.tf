variable "enabled" {
  description = "Create the periodic sweep (Cloud Scheduler job and its service account)."
  type        = bool
  default     = false
}

variable "project_id" {
  description = "Google Cloud project that hosts the schedule."
  type        = string
}

variable "region" {
  description = "Region of the scheduler job and of the Cloud Run job it starts."
  type        = string
}

variable "name" {
  description = "Cloud Scheduler job name."
  type        = string
  default     = "atlas-sweep"
}

variable "account_id" {
  description = "Account id of the scheduler's service account."
  type        = string
  default     = "atlas-scheduler"
}

variable "job_name" {
  description = "Cloud Run job the schedule starts (the stack passes atlas-sweep)."
  type        = string
}

variable "job_runner_role" {
  description = "Custom role id (projects/<p>/roles/<id>) that may run the job with overrides."
  type        = string
}

variable "args" {
  description = "Container args override for the scheduled execution; empty runs the job's default args."
  type        = list(string)
  default     = []
}

variable "schedule" {
  description = "Cron schedule (unix-cron format)."
  type        = string
  default     = "*/15 * * * *"

  validation {
    condition     = length(split(" ", var.schedule)) == 5
    error_message = "schedule must be a five-field cron expression."
  }
}

variable "time_zone" {
  description = "Time zone of the schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}
