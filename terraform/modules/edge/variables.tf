variable "project_id" {
  description = "Google Cloud project that hosts the load balancer."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run service behind the serverless NEG."
  type        = string
}

variable "name" {
  description = "Name prefix of the load-balancer resources."
  type        = string
  default     = "atlas-api"
}

variable "cloud_run_service_name" {
  description = "Cloud Run service the load balancer fronts (its ingress must be INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER)."
  type        = string
}

variable "api_host" {
  description = "Public host name of the API, inside the Cloudflare zone (e.g. api.staging.example.com)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.api_host))
    error_message = "api_host must be a lowercase fully qualified host name."
  }
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone id that holds api_host."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id must be a 32-character hex id."
  }
}

variable "cloudflare_ip_ranges" {
  description = "Cloudflare edge ranges allowed to reach the origin (https://www.cloudflare.com/ips/); update when Cloudflare publishes changes. null means the default."
  type        = list(string)
  nullable    = false
  default = [
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
  ]

  validation {
    condition     = length(var.cloudflare_ip_ranges) > 0 && alltrue([for r in var.cloudflare_ip_ranges : can(cidrhost(r, 0))])
    error_message = "cloudflare_ip_ranges must be a non-empty list of CIDR blocks."
  }

  validation {
    condition     = !contains(var.cloudflare_ip_ranges, "0.0.0.0/0") && !contains(var.cloudflare_ip_ranges, "::/0")
    error_message = "Allowing every address would defeat origin protection."
  }
}

variable "cloudflare_origin_pull_ca_pem" {
  description = "PEM of Cloudflare's authenticated-origin-pull CA (public; https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/set-up/zone-level/). Set it to require Cloudflare's client certificate at the load balancer (mTLS); null relies on the IP ranges, host and SNI checks only."
  type        = string
  default     = null

  validation {
    condition     = var.cloudflare_origin_pull_ca_pem == null || can(regex("-----BEGIN CERTIFICATE-----", var.cloudflare_origin_pull_ca_pem))
    error_message = "cloudflare_origin_pull_ca_pem must be a PEM certificate."
  }
}

variable "cloudflare_plan" {
  description = "Plan of the Cloudflare zone: free, pro, business or enterprise. Decides whether the managed WAF rulesets are deployed (Pro+) and which rate-limit periods, timeouts and fields are allowed."
  type        = string
  default     = "free"

  validation {
    condition     = contains(["free", "pro", "business", "enterprise"], var.cloudflare_plan)
    error_message = "cloudflare_plan must be free, pro, business or enterprise."
  }
}

variable "rate_limit_enabled" {
  description = "Create the Cloudflare rate limiting rule (every plan has at least one; see cloudflare_plan for its limits)."
  type        = bool
  default     = true
}

variable "waf_managed_ruleset_ids" {
  description = "Cloudflare managed rulesets to execute, by name: the Cloudflare Managed Ruleset and the OWASP core ruleset (Pro plan or above)."
  type        = map(string)
  default = {
    cloudflare_managed = "efb7b8c949ac4650a09736fc376e9aee"
    owasp_core         = "4814384a9e5d4991b9815dcfc25d2f1f"
  }
}

variable "rate_limited_path_prefixes" {
  description = "Path prefixes rate-limited per client IP (uploads, legacy extract endpoints, queries)."
  type        = list(string)
  default     = ["/v1/documents", "/v1/uploads", "/v1/query", "/extract-"]

  validation {
    condition     = alltrue([for p in var.rate_limited_path_prefixes : startswith(p, "/")])
    error_message = "Path prefixes must start with /."
  }
}

variable "rate_limited_exact_paths" {
  description = "Exact paths rate-limited per client IP (the legacy upload endpoint)."
  type        = list(string)
  default     = ["/upload"]

  validation {
    condition     = alltrue([for p in var.rate_limited_exact_paths : startswith(p, "/")])
    error_message = "Paths must start with /."
  }
}

variable "rate_limit_period" {
  description = "Rate-limit counting window in seconds (plan dependent: 10 on Free, 10/60 on Pro, up to 600 on Business, 3600 on Enterprise)."
  type        = number
  default     = 10

  validation {
    condition     = contains([10, 60, 120, 300, 600, 3600], var.rate_limit_period)
    error_message = "rate_limit_period must be one of 10, 60, 120, 300, 600, 3600."
  }
}

variable "rate_limit_requests" {
  description = "Requests per period and client IP before blocking."
  type        = number
  default     = 20

  validation {
    condition     = var.rate_limit_requests >= 1
    error_message = "rate_limit_requests must be at least 1."
  }
}

variable "rate_limit_mitigation_timeout" {
  description = "Seconds a client stays blocked after exceeding the limit (at most 10 on Free, 3600 on Pro)."
  type        = number
  default     = 10

  validation {
    condition     = var.rate_limit_mitigation_timeout >= 0 && var.rate_limit_mitigation_timeout <= 86400
    error_message = "rate_limit_mitigation_timeout must be between 0 and 86400."
  }
}

variable "lb_log_sample_rate" {
  description = "Fraction of load-balancer requests logged."
  type        = number
  default     = 1

  validation {
    condition     = var.lb_log_sample_rate >= 0 && var.lb_log_sample_rate <= 1
    error_message = "lb_log_sample_rate must be in [0, 1]."
  }
}
