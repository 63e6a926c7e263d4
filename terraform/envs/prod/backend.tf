# The state bucket is passed at init time: terraform init -backend-config="bucket=<state bucket>"
terraform {
  backend "gcs" {
    prefix = "atlas/prod"
  }
}
