output "authstack_namespace" {
  description = "Namespace of the AuthStack operator; install the gateway (control-plane module) in this namespace."
  value       = helm_release.authstack_operator.namespace
}

output "operator_release" {
  description = "Name of the Helm release of the AuthStack operator."
  value       = helm_release.authstack_operator.name
}

output "cluster_issuer_name" {
  description = "Name of the cert-manager ClusterIssuer for instances' custom hostnames."
  value       = var.cluster_issuer_name
}

output "ingress_class_name" {
  description = "IngressClass used for instances' custom hostnames and the ACME HTTP-01 solver."
  value       = var.ingress_class_name
}

output "cert_manager_namespace" {
  description = "Namespace of cert-manager."
  value       = helm_release.cert_manager.namespace
}

output "cnpg_namespace" {
  description = "Namespace of the CloudNativePG operator."
  value       = helm_release.cnpg.namespace
}

output "chart_versions" {
  description = "Chart versions installed in the region, by release."
  value = {
    cert_manager       = helm_release.cert_manager.version
    cnpg               = helm_release.cnpg.version
    ingress_nginx      = one(helm_release.ingress_nginx[*].version)
    authstack_operator = helm_release.authstack_operator.version
  }
}
