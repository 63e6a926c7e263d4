variable "project_id" {
  description = "Google Cloud project that hosts the service."
  type        = string
}

variable "region" {
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Cloud Run service name."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC1035 name of at most 49 characters."
  }
}

variable "image" {
  description = "Container image, preferably by digest (<repo>/<name>@sha256:...)."
  type        = string
}

variable "service_account_email" {
  description = "The service's own least-privilege service account."
  type        = string
}

variable "ingress" {
  description = "Who may reach the service: internal and load balancer only, or internal only; never all."
  type        = string
  default     = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "min_instances" {
  description = "Instances kept warm (0 allows scale to zero)."
  type        = number
  default     = 0

  validation {
    condition     = var.min_instances >= 0
    error_message = "min_instances must not be negative."
  }
}

variable "max_instances" {
  description = "Upper bound on instances (caps cost and database connections)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 1000
    error_message = "max_instances must be between 1 and 1000."
  }
}

variable "concurrency" {
  description = "Maximum concurrent requests per instance."
  type        = number
  default     = 20

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "concurrency must be between 1 and 1000."
  }
}

variable "request_timeout" {
  description = "Request timeout (duration, e.g. 300s)."
  type        = string
  default     = "300s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.request_timeout))
    error_message = "request_timeout must be a duration in seconds, e.g. 300s."
  }
}

variable "cpu" {
  description = "CPU limit per instance (e.g. \"1\", \"2\")."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit per instance (e.g. 512Mi, 2Gi)."
  type        = string
  default     = "1Gi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must look like 512Mi or 2Gi."
  }
}

variable "container_port" {
  description = "Port the container listens on (Cloud Run passes it as PORT)."
  type        = number
  default     = 8080
}

variable "health_path" {
  description = "HTTP path for the startup and liveness probes; null keeps Cloud Run's default TCP startup probe."
  type        = string
  default     = null
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
  description = "Secret version injected at instance start; pin a number to roll secrets deliberately."
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

variable "invokers" {
  description = "Members granted roles/run.invoker on this service, keyed by a stable name."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Refuse terraform destroy of the service."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels applied to the service."
  type        = map(string)
  default     = {}
}

variable "command" {
  description = "Entrypoint override (e.g. functions-framework for the dispatcher); null uses the image's."
  type        = list(string)
  default     = null
}
