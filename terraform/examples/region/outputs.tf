output "authstack_namespace" {
  description = "Namespace of the operator; install the control plane's gateway there."
  value       = module.region.authstack_namespace
}

output "cluster_issuer_name" {
  description = "The ClusterIssuer instances' custom hostnames get certificates from."
  value       = module.region.cluster_issuer_name
}

output "chart_versions" {
  description = "Chart versions installed in the region."
  value       = module.region.chart_versions
}
