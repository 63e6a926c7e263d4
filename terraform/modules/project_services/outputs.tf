output "enabled_services" {
  description = "APIs enabled by this module; depend on this to order resources after API enablement."
  value       = [for s in google_project_service.this : s.service]
}
