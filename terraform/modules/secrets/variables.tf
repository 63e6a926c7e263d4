variable "project_id" {
  description = "Google Cloud project that hosts the secrets."
  type        = string
}

variable "secrets" {
  description = "Secret Manager secret ids keyed by a stable name (e.g. { openai_api_key = \"atlas-openai-api-key\" })."
  type        = map(string)

  validation {
    condition     = alltrue([for s in values(var.secrets) : can(regex("^[A-Za-z0-9_-]{1,255}$", s))])
    error_message = "Secret ids may contain only letters, digits, underscores and hyphens."
  }
}

variable "accessors" {
  description = "secretAccessor grants keyed by a stable name: secret (a key of var.secrets) and member."
  type = map(object({
    secret = string
    member = string
  }))
  default = {}
}

variable "labels" {
  description = "Labels applied to the secrets."
  type        = map(string)
  default     = {}
}
