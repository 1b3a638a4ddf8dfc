variable "namespace" {
  description = "Namespace of the control plane and the gateway. In a region's cluster, the region module's authstack_namespace: instance NetworkPolicies admit the gateway from there."
  type        = string
  default     = "authstack-system"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a DNS label."
  }
}

variable "create_namespace" {
  description = "Create the namespace. Set false when the region module (or anything else) already did."
  type        = bool
  default     = true
}

variable "release_name" {
  description = "Name of the Helm release."
  type        = string
  default     = "authstack"
}

variable "gateway_url" {
  description = "The gateway's public URL: every instance's issuer and the base URL customers' apps call."
  type        = string

  validation {
    condition     = can(regex("^https?://[^\\s/]+", var.gateway_url))
    error_message = "gateway_url must be an http(s):// URL."
  }
}

variable "dashboard_url" {
  description = "Where Stripe Checkout and the billing portal return (the dashboard). Required with Stripe billing."
  type        = string
  default     = null
}

variable "billing_provider" {
  description = "Billing of the control plane: none (plans granted directly) or stripe."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "stripe"], var.billing_provider)
    error_message = "billing_provider must be none or stripe."
  }
}

variable "stripe_api_key" {
  description = "Stripe secret API key (sk_live_...), when billing_provider is stripe. Stored in a Kubernetes Secret."
  type        = string
  default     = null
  sensitive   = true
}

variable "stripe_webhook_secrets" {
  description = "Stripe webhook signing secrets (whsec_...), comma-separated while rotating, when billing_provider is stripe."
  type        = string
  default     = null
  sensitive   = true
}

variable "database_type" {
  description = "The control plane's PostgreSQL: cnpg (a CloudNativePG Cluster created here; the region module installs the operator) or external (external_database_url)."
  type        = string
  default     = "cnpg"

  validation {
    condition     = contains(["cnpg", "external"], var.database_type)
    error_message = "database_type must be cnpg or external."
  }
}

variable "external_database_url" {
  description = "postgres:// URL of an external database, when database_type is external."
  type        = string
  default     = null
  sensitive   = true
}

variable "database_instances" {
  description = "PostgreSQL instances of the CloudNativePG cluster (one primary, the rest streaming replicas)."
  type        = number
  default     = 3

  validation {
    condition     = var.database_instances >= 1 && var.database_instances <= 9
    error_message = "database_instances must be between 1 and 9."
  }
}

variable "database_storage_size" {
  description = "Volume size of each PostgreSQL instance."
  type        = string
  default     = "20Gi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|Ti)$", var.database_storage_size))
    error_message = "database_storage_size must be a quantity such as 20Gi."
  }
}

variable "database_storage_class" {
  description = "StorageClass of the PostgreSQL volumes; null uses the cluster's default."
  type        = string
  default     = null
}

variable "database_sslmode" {
  description = "sslmode of the generated CloudNativePG database URL. The control plane's PostgreSQL driver is built without TLS today, so prefer (plaintext inside the cluster, limited by a NetworkPolicy) is the default."
  type        = string
  default     = "prefer"

  validation {
    condition     = contains(["disable", "prefer", "require", "verify-ca", "verify-full"], var.database_sslmode)
    error_message = "database_sslmode must be one of disable, prefer, require, verify-ca, verify-full."
  }
}

variable "database_network_policy" {
  description = "Admit connections to the CloudNativePG cluster only from the control plane, the gateway, its own instances and the CloudNativePG operator."
  type        = bool
  default     = true
}

variable "cnpg_operator_namespace" {
  description = "Namespace of the CloudNativePG operator, admitted by the database NetworkPolicy."
  type        = string
  default     = "cnpg-system"
}

variable "chart_repository" {
  description = "Helm repository (https:// or oci://) of the AuthStack chart; null installs chart as a local path."
  type        = string
  default     = null
}

variable "chart" {
  description = "The AuthStack chart: its name in chart_repository, or a local path. null: this repository's charts/authstack."
  type        = string
  default     = null
}

variable "chart_version" {
  description = "Version of the AuthStack chart (ignored for a local path)."
  type        = string
  default     = "0.1.0"
}

variable "image_tag" {
  description = "Tag of the authstack and authstack-instance images; null uses the chart's appVersion."
  type        = string
  default     = null
}

variable "enable_operator" {
  description = "Also run the operator in this release (and install the CRD). Leave false when the region module runs the operator in this cluster."
  type        = bool
  default     = false
}

variable "ingress_hosts" {
  description = "Public hostnames: gateway (the API customers' apps call) and control_plane (dashboard and API). Empty lists create no Ingress."
  type = object({
    gateway       = list(string)
    control_plane = list(string)
  })
  default = {
    gateway       = []
    control_plane = []
  }
}

variable "ingress_class_name" {
  description = "IngressClass of the gateway and control-plane Ingresses."
  type        = string
  default     = "nginx"
}

variable "cluster_issuer_name" {
  description = "cert-manager ClusterIssuer of the Ingresses' certificates (the region module's cluster_issuer_name)."
  type        = string
  default     = "letsencrypt"
}

variable "gateway_autoscaling" {
  description = "Horizontal autoscaling of the gateway on CPU."
  type = object({
    enabled    = bool
    min        = number
    max        = number
    cpu_target = number
  })
  default = {
    enabled    = true
    min        = 2
    max        = 10
    cpu_target = 70
  }

  validation {
    condition     = var.gateway_autoscaling.min >= 1 && var.gateway_autoscaling.max >= var.gateway_autoscaling.min
    error_message = "gateway_autoscaling needs 1 <= min <= max."
  }
}

variable "extra_values" {
  description = "Extra values for the AuthStack chart, merged (by Helm) over the ones this module sets."
  type        = any
  default     = {}
}

variable "helm_timeout" {
  description = "Seconds Helm waits for the release to become ready."
  type        = number
  default     = 600
}
