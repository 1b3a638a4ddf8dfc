variable "acme_email" {
  description = "Contact address of the ACME (Let's Encrypt) account behind the ClusterIssuer: expiry and revocation notices go there."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.acme_email))
    error_message = "acme_email must be an email address."
  }
}

variable "acme_server" {
  description = "ACME directory URL. Let's Encrypt production by default; use https://acme-staging-v02.api.letsencrypt.org/directory while testing."
  type        = string
  default     = "https://acme-v02.api.letsencrypt.org/directory"

  validation {
    condition     = startswith(var.acme_server, "https://")
    error_message = "acme_server must be an https:// URL."
  }
}

variable "cluster_issuer_name" {
  description = "Name of the cert-manager ClusterIssuer created here; the operator annotates instances' Ingresses with it."
  type        = string
  default     = "letsencrypt"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.cluster_issuer_name))
    error_message = "cluster_issuer_name must be a DNS label."
  }
}

variable "create_cluster_issuer" {
  description = "Create the ClusterIssuer. kubernetes_manifest needs cert-manager's CRDs at plan time, so on a fresh cluster apply once with this false (or with -target=helm_release.cert_manager), then with true."
  type        = bool
  default     = true
}

variable "cert_manager_chart_version" {
  description = "Version of the jetstack/cert-manager chart."
  type        = string
  default     = "v1.18.2"
}

variable "cert_manager_namespace" {
  description = "Namespace of cert-manager."
  type        = string
  default     = "cert-manager"
}

variable "cnpg_chart_version" {
  description = "Version of the cnpg/cloudnative-pg chart (the CloudNativePG operator)."
  type        = string
  default     = "0.26.0"
}

variable "cnpg_namespace" {
  description = "Namespace of the CloudNativePG operator."
  type        = string
  default     = "cnpg-system"
}

variable "ingress_nginx_chart_version" {
  description = "Version of the ingress-nginx chart."
  type        = string
  default     = "4.13.0"
}

variable "ingress_nginx_namespace" {
  description = "Namespace of the ingress-nginx controller."
  type        = string
  default     = "ingress-nginx"
}

variable "ingress_class_name" {
  description = "IngressClass of the controller installed here, used by the ACME HTTP-01 solver and by the operator for instances' custom hostnames."
  type        = string
  default     = "nginx"
}

variable "ingress_replicas" {
  description = "Replicas of the ingress-nginx controller."
  type        = number
  default     = 2

  validation {
    condition     = var.ingress_replicas >= 1 && floor(var.ingress_replicas) == var.ingress_replicas
    error_message = "ingress_replicas must be a whole number of at least 1."
  }
}

variable "ingress_service_type" {
  description = "Service type of the ingress-nginx controller (LoadBalancer on a cloud, NodePort on bare metal or kind)."
  type        = string
  default     = "LoadBalancer"

  validation {
    condition     = contains(["LoadBalancer", "NodePort", "ClusterIP"], var.ingress_service_type)
    error_message = "ingress_service_type must be LoadBalancer, NodePort or ClusterIP."
  }
}

variable "install_ingress_nginx" {
  description = "Install ingress-nginx. Set false when the cluster already has an ingress controller for ingress_class_name."
  type        = bool
  default     = true
}

variable "authstack_namespace" {
  description = "Namespace of the AuthStack operator. The gateway (control-plane module) must run in this namespace of the same cluster: instance NetworkPolicies admit the gateway from it."
  type        = string
  default     = "authstack-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.authstack_namespace)) && length(var.authstack_namespace) <= 63
    error_message = "authstack_namespace must be a DNS label."
  }
}

variable "authstack_chart_repository" {
  description = "Helm repository (https:// or oci://) of the AuthStack chart; null installs authstack_chart as a local path."
  type        = string
  default     = null
}

variable "authstack_chart" {
  description = "The AuthStack chart: its name in authstack_chart_repository, or a local path. null: this repository's charts/authstack."
  type        = string
  default     = null
}

variable "authstack_chart_version" {
  description = "Version of the AuthStack chart (ignored for a local path)."
  type        = string
  default     = "0.1.0"
}

variable "authstack_image_tag" {
  description = "Tag of the operator image; null uses the chart's appVersion."
  type        = string
  default     = null
}

variable "operator_replicas" {
  description = "Operator replicas; more than one stand by for the leader lease."
  type        = number
  default     = 2

  validation {
    condition     = var.operator_replicas >= 1 && var.operator_replicas <= 5
    error_message = "operator_replicas must be between 1 and 5."
  }
}

variable "operator_concurrency" {
  description = "AuthStackInstance reconciles the operator runs at once."
  type        = number
  default     = 8

  validation {
    condition     = var.operator_concurrency >= 1 && var.operator_concurrency <= 256
    error_message = "operator_concurrency must be between 1 and 256."
  }
}

variable "operator_service_monitor" {
  description = "Create a ServiceMonitor for the operator's metrics (needs the Prometheus Operator's CRDs)."
  type        = bool
  default     = false
}

variable "authstack_extra_values" {
  description = "Extra values for the AuthStack chart, merged over the ones this module sets."
  type        = any
  default     = {}
}

variable "helm_timeout" {
  description = "Seconds Helm waits for each release to become ready."
  type        = number
  default     = 600
}

variable "redis_url_secret_name" {
  description = "A Secret in authstack_namespace holding the region's Redis URL (redis:// or rediss://): instances share their rate-limit counters between replicas there. Empty: in their databases."
  type        = string
  default     = ""
}

variable "redis_url_secret_key" {
  description = "The key of the Redis URL in redis_url_secret_name."
  type        = string
  default     = "url"
}
