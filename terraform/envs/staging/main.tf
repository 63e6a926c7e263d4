provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

# The token comes from CLOUDFLARE_API_TOKEN (Zone: DNS edit, Zone settings edit, Zone WAF edit).
provider "cloudflare" {}

module "atlas" {
  source = "../../modules/stack"

  project_id  = var.project_id
  environment = "staging"
  region      = var.region
  zone        = var.zone

  api_image        = var.api_image
  dispatcher_image = var.dispatcher_image
  extract_image    = var.extract_image
  index_image      = var.index_image
  image_pushers    = var.image_pushers

  api_min_instances    = 0
  api_max_instances    = 3
  api_concurrency      = 8
  cors_origins         = var.cors_origins
  extractor            = var.extractor
  db_tier              = "db-custom-1-3840"
  db_availability_type = "ZONAL"
  deletion_protection  = false

  alert_emails       = var.alert_emails
  billing_account_id = var.billing_account_id
  monthly_budget     = var.monthly_budget
  sweep_enabled      = var.sweep_enabled

  api_host                      = var.api_host
  cloudflare_zone_id            = var.cloudflare_zone_id
  cloudflare_plan               = var.cloudflare_plan
  cloudflare_origin_pull_ca_pem = var.cloudflare_origin_pull_ca_pem
}
