output "control_plane_service" {
  description = "In-cluster URL of the control-plane API."
  value       = module.control_plane.control_plane_service
}

output "gateway_url" {
  description = "The gateway's public URL."
  value       = module.control_plane.gateway_url
}

output "master_key_secret_name" {
  description = "Secret holding the master key; back it up, the key is never shown."
  value       = module.control_plane.master_key_secret_name
}

output "database_url" {
  description = "The control plane's PostgreSQL URL."
  value       = module.control_plane.database_url
  sensitive   = true
}
