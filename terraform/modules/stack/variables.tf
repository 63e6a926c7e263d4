variable "project_id" {
  description = "Google Cloud project of this environment (one project per environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project id."
  }
}

variable "environment" {
  description = "Environment name, used in labels."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "region" {
  description = "Region for Cloud Run, Cloud SQL, the bucket and the registry (the code's ATLAS_GCP_REGION)."
  type        = string
  default     = "europe-west1"
}

variable "zone" {
  description = "Zone of the BASIC tier Filestore instance (inside region)."
  type        = string
  default     = "europe-west1-b"
}

variable "labels" {
  description = "Extra labels on every labelled resource."
  type        = map(string)
  default     = {}
}

variable "subnet_cidr" {
  description = "Range of the Cloud Run Direct VPC egress subnet."
  type        = string
  default     = "10.10.0.0/24"
}

variable "index_subnet_cidr" {
  description = "Range of the index job's own subnet, the only one the Filestore export lets write."
  type        = string
  default     = "10.10.1.0/26"
}

variable "bucket_name" {
  description = "Document bucket name; null means <project_id>-atlas-documents."
  type        = string
  default     = null
}

variable "access_log_bucket" {
  description = "Bucket receiving usage logs of the document bucket; null disables."
  type        = string
  default     = null
}

variable "image_pushers" {
  description = "Principals allowed to push images (CI), keyed by a stable name."
  type        = map(string)
  default     = {}
}

variable "api_image" {
  description = "API image (Flask app), preferably by digest."
  type        = string
}

variable "dispatcher_image" {
  description = "Dispatcher image (functions-framework), preferably by digest."
  type        = string
}

variable "extract_image" {
  description = "Extract job image, preferably by digest."
  type        = string
}

variable "index_image" {
  description = "Index job image, preferably by digest."
  type        = string
}

variable "api_min_instances" {
  description = "API instances kept warm."
  type        = number
  default     = 0
}

variable "api_max_instances" {
  description = "Upper bound on API instances (also bounds Cloud SQL connections: max x DB_POOL_SIZE)."
  type        = number
  default     = 5
}

variable "api_concurrency" {
  description = "Concurrent requests per API instance; equal to gunicorn's --threads in Dockerfile.api, so no request waits inside an instance Cloud Run thinks has room."
  type        = number
  default     = 8
}

variable "api_health_path" {
  description = "HTTP health path of the API for startup/liveness probes; null uses Cloud Run's TCP probe."
  type        = string
  default     = "/health"
}

variable "cors_origins" {
  description = "Browser origins allowed by CORS (CORS_ORIGINS); never *."
  type        = list(string)

  validation {
    condition     = length(var.cors_origins) > 0 && alltrue([for o in var.cors_origins : can(regex("^https://[^*,]+$", o))])
    error_message = "cors_origins must be https origins without wildcards or commas."
  }
}

variable "extractor" {
  description = "Extractor the code uses (ATLAS_EXTRACTOR): rules or llm."
  type        = string
  default     = "rules"

  validation {
    condition     = contains(["rules", "llm"], var.extractor)
    error_message = "extractor must be rules or llm."
  }
}

variable "embedder" {
  description = "Embedder the code uses (ATLAS_EMBEDDER): minilm or openai."
  type        = string
  default     = "minilm"

  validation {
    condition     = contains(["minilm", "openai"], var.embedder)
    error_message = "embedder must be minilm or openai."
  }
}

variable "extract_task_timeout" {
  description = "Timeout of one extract task attempt."
  type        = string
  default     = "1800s"
}

variable "index_task_timeout" {
  description = "Timeout of one index task attempt."
  type        = string
  default     = "3600s"
}

variable "job_max_retries" {
  description = "Task retries of the extract and index jobs (a task runs at most job_max_retries + 1 times)."
  type        = number
  default     = 3
}

variable "max_delivery_attempts" {
  description = "Pub/Sub deliveries before a message is dead-lettered."
  type        = number
  default     = 5
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-1-3840"
}

variable "db_availability_type" {
  description = "Cloud SQL availability: ZONAL or REGIONAL."
  type        = string
  default     = "ZONAL"
}

variable "deletion_protection" {
  description = "Protect stateful resources and Cloud Run resources from deletion (true in prod)."
  type        = bool
}

variable "alert_emails" {
  description = "Email addresses that receive alerts."
  type        = list(string)
  default     = []
}

variable "notification_channel_ids" {
  description = "Existing monitoring notification channel ids."
  type        = list(string)
  default     = []
}

variable "billing_account_id" {
  description = "Billing account for the monthly budget alert; null creates no budget."
  type        = string
  default     = null
}

variable "monthly_budget" {
  description = "Monthly spend the budget alert measures against (in the billing account's currency)."
  type        = number
  default     = 300
}

variable "sweep_enabled" {
  description = "Create the Cloud Scheduler job that runs the sweep job (lost uploads, stuck documents, outbox relay)."
  type        = bool
  default     = true
}

variable "sweep_schedule" {
  description = "Cron schedule of the sweep."
  type        = string
  default     = "*/15 * * * *"
}

variable "api_host" {
  description = "Public host name of the API in the Cloudflare zone."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone id holding api_host."
  type        = string
}

variable "cloudflare_ip_ranges" {
  description = "Override of the Cloudflare ranges admitted by Cloud Armor; null uses the edge module's published list."
  type        = list(string)
  default     = null
}

variable "cloudflare_origin_pull_ca_pem" {
  description = "Cloudflare's authenticated-origin-pull CA certificate (PEM, public); set it to require Cloudflare's client certificate at the load balancer. null disables."
  type        = string
  default     = null
}

variable "cloudflare_plan" {
  description = "Plan of the Cloudflare zone (free, pro, business, enterprise): managed WAF rulesets need Pro; rate-limit periods and timeouts follow the plan."
  type        = string
  default     = "free"
}

variable "rate_limit_period" {
  description = "Cloudflare rate-limit window in seconds (10 on Free; 60 needs Pro)."
  type        = number
  default     = 10
}

variable "rate_limit_requests" {
  description = "Requests per window and client IP on the rate-limited paths."
  type        = number
  default     = 20
}

variable "rate_limit_mitigation_timeout" {
  description = "Seconds a client stays blocked (at most 10 on Free, 3600 on Pro)."
  type        = number
  default     = 10
}
