output "load_balancer_ip" {
  description = "Global IPv4 address of the HTTPS load balancer (the proxied DNS record points here)."
  value       = google_compute_global_address.api.address
}

output "api_url" {
  description = "Public URL of the API through Cloudflare."
  value       = "https://${var.api_host}"
}

output "security_policy" {
  description = "Name of the Cloud Armor policy that admits only Cloudflare."
  value       = google_compute_security_policy.origin.name
}
