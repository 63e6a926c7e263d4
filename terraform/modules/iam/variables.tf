variable "project_id" {
  description = "Google Cloud project that hosts the service accounts."
  type        = string
}

variable "service_accounts" {
  description = "One service account per component, keyed by component, with the project-level roles it needs (resource-level grants live with the resource)."
  type = map(object({
    account_id    = string
    display_name  = string
    description   = string
    project_roles = list(string)
  }))

  validation {
    condition = alltrue(flatten([
      for sa in values(var.service_accounts) : [
        for r in sa.project_roles : !contains(["roles/owner", "roles/editor", "roles/viewer"], r)
      ]
    ]))
    error_message = "Basic roles (owner, editor, viewer) are never granted to workload service accounts."
  }

  validation {
    condition     = alltrue([for sa in values(var.service_accounts) : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", sa.account_id))])
    error_message = "account_id must be 6-30 lowercase letters, digits and hyphens."
  }
}

variable "act_as" {
  description = "Service-account-level grants between the accounts above, keyed by a stable name: target and actor are keys of var.service_accounts."
  type = map(object({
    target = string
    actor  = string
    role   = string
  }))
  default = {}

  validation {
    condition     = alltrue([for g in values(var.act_as) : contains(["roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"], g.role)])
    error_message = "act_as grants are limited to serviceAccountUser and serviceAccountTokenCreator."
  }
}

variable "job_runner_role_id" {
  description = "Id of the custom role that may run Atlas jobs with overrides."
  type        = string
  default     = "atlasJobRunner"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.]{3,64}$", var.job_runner_role_id))
    error_message = "job_runner_role_id must be 3-64 letters, digits, underscores or dots."
  }
}
