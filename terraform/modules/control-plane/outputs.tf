output "namespace" {
  description = "Namespace of the control plane and the gateway."
  value       = helm_release.authstack.namespace
}

output "release_name" {
  description = "Name of the Helm release."
  value       = helm_release.authstack.name
}

output "control_plane_service" {
  description = "In-cluster URL of the control-plane API."
  value       = "http://authstack-control-plane.${helm_release.authstack.namespace}.svc:7400"
}

output "gateway_service" {
  description = "In-cluster URL of the gateway."
  value       = "http://authstack-gateway.${helm_release.authstack.namespace}.svc:7401"
}

output "gateway_url" {
  description = "The gateway's public URL (every instance's issuer)."
  value       = var.gateway_url
}

output "master_key_secret_name" {
  description = "Name of the Secret holding the master key (key master-key). The key itself is never an output."
  value       = kubernetes_secret_v1.master_key.metadata[0].name
}

output "database_url_secret_name" {
  description = "Name of the Secret holding the control plane's database URL (key url)."
  value       = kubernetes_secret_v1.database_url.metadata[0].name
}

output "database_url" {
  description = "The control plane's PostgreSQL URL, with its password."
  value       = kubernetes_secret_v1.database_url.data["url"]
  sensitive   = true
}

output "database_cluster_name" {
  description = "Name of the CloudNativePG Cluster, or null with an external database."
  value       = local.cnpg ? local.cnpg_cluster_name : null
}
