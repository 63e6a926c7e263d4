variable "project_id" {
  description = "Google Cloud project of this environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project id."
  }
}

variable "region" {
  description = "Google Cloud region (the code's ATLAS_GCP_REGION)."
  type        = string
  default     = "europe-west1"
}

variable "zone" {
  description = "Zone of the Filestore instance, inside region."
  type        = string
  default     = "europe-west1-b"
}

variable "api_image" {
  description = "API image by digest."
  type        = string

  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$|:[A-Za-z0-9_.-]+$", var.api_image))
    error_message = "api_image must carry a tag or (preferably) a digest."
  }
}

variable "dispatcher_image" {
  description = "Dispatcher (functions-framework) image by digest."
  type        = string
}

variable "extract_image" {
  description = "Extract job image by digest."
  type        = string
}

variable "index_image" {
  description = "Index job image by digest."
  type        = string
}

variable "image_pushers" {
  description = "Principals allowed to push images (CI), keyed by a stable name."
  type        = map(string)
  default     = {}
}

variable "cors_origins" {
  description = "Browser origins allowed by CORS."
  type        = list(string)
}

variable "extractor" {
  description = "Extractor: rules or llm."
  type        = string
  default     = "rules"
}

variable "alert_emails" {
  description = "Email addresses that receive alerts."
  type        = list(string)
  default     = []
}

variable "sweep_enabled" {
  description = "Create the schedule of the sweep job (lost uploads, stuck documents, outbox relay)."
  type        = bool
  default     = true
}

variable "api_host" {
  description = "Public API host name inside the Cloudflare zone."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone id."
  type        = string
}

variable "cloudflare_plan" {
  description = "Plan of the Cloudflare zone: free (default; no managed WAF rulesets, 10 s rate-limit window), pro, business or enterprise."
  type        = string
  default     = "free"
}

variable "cloudflare_origin_pull_ca_pem" {
  description = "Cloudflare's authenticated-origin-pull CA (PEM, public), e.g. file(\"cloudflare-origin-pull-ca.pem\"); null disables mTLS at the origin."
  type        = string
  default     = null
}

variable "billing_account_id" {
  description = "Billing account for the monthly budget alert (e.g. 012345-6789AB-CDEF01); null creates no budget."
  type        = string
  default     = null
}

variable "monthly_budget" {
  description = "Monthly spend the budget alert measures against, in the billing account's currency."
  type        = number
  default     = 300
}
