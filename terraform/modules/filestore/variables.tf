variable "project_id" {
  description = "Google Cloud project that hosts the Filestore instance."
  type        = string
}

variable "zone" {
  description = "Zone of a BASIC tier instance (or region for REGIONAL/ENTERPRISE tiers)."
  type        = string
}

variable "name" {
  description = "Filestore instance name."
  type        = string
  default     = "atlas-chroma"
}

variable "tier" {
  description = "Filestore tier."
  type        = string
  default     = "BASIC_HDD"

  validation {
    condition     = contains(["BASIC_HDD", "BASIC_SSD", "ZONAL", "REGIONAL", "ENTERPRISE"], var.tier)
    error_message = "tier must be BASIC_HDD, BASIC_SSD, ZONAL, REGIONAL or ENTERPRISE."
  }
}

variable "share_name" {
  description = "Name of the NFS share (the export path is /<share_name>)."
  type        = string
  default     = "chroma"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.share_name))
    error_message = "share_name must be 1-16 lowercase letters, digits or underscores."
  }
}

variable "capacity_gb" {
  description = "Share capacity in GB (BASIC_HDD minimum 1024)."
  type        = number
  default     = 1024

  validation {
    condition     = var.capacity_gb >= 1024
    error_message = "capacity_gb must be at least 1024."
  }
}

variable "network_name" {
  description = "Name of the VPC the share is reachable from."
  type        = string
}

variable "reserved_ip_range" {
  description = "Name of the private services access range the instance takes its address from."
  type        = string
}

variable "private_services_connection" {
  description = "Id of the service networking connection; the instance is created after it."
  type        = string
}

variable "writer_cidr" {
  description = "CIDR that may mount the share read-write with root unsquashed (the index job's subnet only)."
  type        = string

  validation {
    condition     = can(cidrhost(var.writer_cidr, 0))
    error_message = "writer_cidr must be a CIDR block."
  }
}

variable "reader_cidr" {
  description = "CIDR that may mount the share read-only, root squashed (the Cloud Run subnet of the API)."
  type        = string

  validation {
    condition     = can(cidrhost(var.reader_cidr, 0))
    error_message = "reader_cidr must be a CIDR block."
  }
}

variable "deletion_protection" {
  description = "Protect the instance from deletion; the index can be rebuilt, but rebuilding takes time."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels applied to the instance."
  type        = map(string)
  default     = {}
}
