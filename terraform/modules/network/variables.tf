variable "project_id" {
  description = "Google Cloud project that hosts the network."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run subnet."
  type        = string
}

variable "name" {
  description = "Name of the VPC; the subnet and private services range are named after it."
  type        = string
  default     = "atlas"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC1035 name of at most 42 characters."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the Cloud Run subnet; Direct VPC egress takes instance addresses from it, so size it for max instances x 2."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be a CIDR block."
  }
}

variable "index_subnet_cidr" {
  description = "Range of the index job's own subnet (Direct VPC egress needs at least a /26); the only range that may write the Filestore share."
  type        = string
  default     = "10.10.1.0/26"

  validation {
    condition     = can(cidrhost(var.index_subnet_cidr, 0)) && tonumber(split("/", var.index_subnet_cidr)[1]) <= 26
    error_message = "index_subnet_cidr must be a CIDR block of /26 or larger."
  }
}

variable "private_services_prefix_length" {
  description = "Prefix length of the range reserved for private services access (Cloud SQL, Filestore)."
  type        = number
  default     = 20

  validation {
    condition     = var.private_services_prefix_length >= 16 && var.private_services_prefix_length <= 24
    error_message = "private_services_prefix_length must be between 16 and 24."
  }
}

variable "flow_log_sampling" {
  description = "Fraction of VPC flows sampled into flow logs."
  type        = number
  default     = 0.5

  validation {
    condition     = var.flow_log_sampling > 0 && var.flow_log_sampling <= 1
    error_message = "flow_log_sampling must be in (0, 1]."
  }
}
