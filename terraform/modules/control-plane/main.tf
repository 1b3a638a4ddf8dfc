# The control plane of AuthStack: its PostgreSQL database (a CloudNativePG Cluster, or an
# external URL), its master key, and the chart release running the control plane and the
# gateway (the operator comes from the region module unless enable_operator is set).

locals {
  chart = coalesce(var.chart, "${path.module}/../../../charts/authstack")

  cnpg_cluster_name     = "${var.release_name}-db"
  database_name         = "authstack"
  database_user         = "authstack"
  database_secret_name  = "${var.release_name}-database"
  master_key_secret     = "${var.release_name}-master-key"
  stripe_secret_name    = "${var.release_name}-stripe"
  app_credentials_name  = "${local.cnpg_cluster_name}-app-credentials"
  stripe                = var.billing_provider == "stripe"
  cnpg                  = var.database_type == "cnpg"
  namespace             = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
  image_tag_values      = var.image_tag == null ? {} : { tag = var.image_tag }
  cnpg_database_url     = local.cnpg ? "postgres://${local.database_user}:${random_password.database[0].result}@${local.cnpg_cluster_name}-rw.${local.namespace}.svc:5432/${local.database_name}?sslmode=${var.database_sslmode}" : null
  authstack_pod_labels  = { "app.kubernetes.io/name" = "authstack", "app.kubernetes.io/instance" = var.release_name }

  values = {
    # Object names shared with the region module's operator release (see its main.tf).
    fullnameOverride = "authstack"
    masterKey        = { existingSecret = local.master_key_secret, key = "master-key" }
    controlPlane = {
      enabled       = true
      image         = local.image_tag_values
      instanceImage = local.image_tag_values
      database      = { existingSecret = local.database_secret_name, key = "url" }
      gatewayUrl    = var.gateway_url
      dashboardUrl  = var.dashboard_url == null ? "" : var.dashboard_url
      billing = {
        provider = var.billing_provider
        stripe = {
          existingSecret    = local.stripe ? local.stripe_secret_name : ""
          apiKeyKey         = "api-key"
          webhookSecretsKey = "webhook-secrets"
        }
      }
    }
    gateway = {
      enabled = true
      autoscaling = {
        enabled                        = var.gateway_autoscaling.enabled
        minReplicas                    = var.gateway_autoscaling.min
        maxReplicas                    = var.gateway_autoscaling.max
        targetCPUUtilizationPercentage = var.gateway_autoscaling.cpu_target
      }
    }
    operator = merge(
      {
        enabled       = var.enable_operator
        ingressClass  = var.ingress_class_name
        clusterIssuer = var.cluster_issuer_name
      },
      var.image_tag == null ? {} : { image = { tag = var.image_tag } },
    )
    ingress = {
      enabled       = length(var.ingress_hosts.gateway) + length(var.ingress_hosts.control_plane) > 0
      className     = var.ingress_class_name
      clusterIssuer = var.cluster_issuer_name
      gateway       = { hosts = var.ingress_hosts.gateway }
      controlPlane  = { hosts = var.ingress_hosts.control_plane }
    }
  }
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of" = "authstack"
      # The control plane and the gateway meet the restricted Pod Security Standard.
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

# The master key seals every instance's secrets: 32 random bytes, base64. It lives in the
# Terraform state (keep the state encrypted) and in this Secret, never in an output.
resource "random_bytes" "master_key" {
  length = 32
}

resource "kubernetes_secret_v1" "master_key" {
  metadata {
    name      = local.master_key_secret
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "authstack" }
  }

  data = {
    "master-key" = random_bytes.master_key.base64
  }

  type = "Opaque"

  lifecycle {
    # Replacing the master key would make every sealed instance secret unreadable.
    prevent_destroy = true
  }
}

resource "random_password" "database" {
  count = local.cnpg ? 1 : 0

  length  = 40
  special = false
}

# The database owner's credentials, handed to CloudNativePG at bootstrap.
resource "kubernetes_secret_v1" "database_credentials" {
  count = local.cnpg ? 1 : 0

  metadata {
    name      = local.app_credentials_name
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "authstack" }
  }

  data = {
    username = local.database_user
    password = random_password.database[0].result
  }

  type = "kubernetes.io/basic-auth"
}

resource "kubernetes_manifest" "database" {
  count = local.cnpg ? 1 : 0

  manifest = {
    apiVersion = "postgresql.cnpg.io/v1"
    kind       = "Cluster"
    metadata = {
      name      = local.cnpg_cluster_name
      namespace = local.namespace
      labels    = { "app.kubernetes.io/part-of" = "authstack" }
    }
    spec = {
      instances = var.database_instances
      storage = merge(
        { size = var.database_storage_size },
        var.database_storage_class == null ? {} : { storageClass = var.database_storage_class },
      )
      bootstrap = {
        initdb = {
          database = local.database_name
          owner    = local.database_user
          secret   = { name = kubernetes_secret_v1.database_credentials[0].metadata[0].name }
        }
      }
      enableSuperuserAccess = false
      primaryUpdateStrategy = "unsupervised"
      affinity = {
        enablePodAntiAffinity = true
        topologyKey           = "kubernetes.io/hostname"
      }
    }
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "15m"
    update = "15m"
  }
}

resource "kubernetes_network_policy_v1" "database" {
  count = local.cnpg && var.database_network_policy ? 1 : 0

  metadata {
    name      = local.cnpg_cluster_name
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "authstack" }
  }

  spec {
    pod_selector {
      match_labels = { "cnpg.io/cluster" = local.cnpg_cluster_name }
    }
    policy_types = ["Ingress"]

    # Replication and the instance manager between the cluster's own pods.
    ingress {
      from {
        pod_selector {
          match_labels = { "cnpg.io/cluster" = local.cnpg_cluster_name }
        }
      }
    }

    # The control plane and the gateway.
    dynamic "ingress" {
      for_each = ["control-plane", "gateway"]
      content {
        from {
          pod_selector {
            match_labels = merge(local.authstack_pod_labels, { "app.kubernetes.io/component" = ingress.value })
          }
        }
        ports {
          port     = "5432"
          protocol = "TCP"
        }
      }
    }

    # The CloudNativePG operator: status (8000) and PostgreSQL (5432).
    ingress {
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.cnpg_operator_namespace }
        }
      }
      ports {
        port     = "8000"
        protocol = "TCP"
      }
      ports {
        port     = "5432"
        protocol = "TCP"
      }
    }
  }
}

resource "kubernetes_secret_v1" "database_url" {
  metadata {
    name      = local.database_secret_name
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "authstack" }
  }

  data = {
    url = local.cnpg ? local.cnpg_database_url : var.external_database_url
  }

  type = "Opaque"

  lifecycle {
    precondition {
      condition     = local.cnpg || (var.external_database_url != null && can(regex("^postgres(ql)?://", var.external_database_url)))
      error_message = "database_type = external needs external_database_url (postgres://...)."
    }
  }
}

resource "kubernetes_secret_v1" "stripe" {
  count = local.stripe ? 1 : 0

  metadata {
    name      = local.stripe_secret_name
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "authstack" }
  }

  data = {
    "api-key"         = var.stripe_api_key
    "webhook-secrets" = var.stripe_webhook_secrets
  }

  type = "Opaque"

  lifecycle {
    precondition {
      condition     = var.stripe_api_key != null && var.stripe_webhook_secrets != null && var.dashboard_url != null
      error_message = "billing_provider = stripe needs stripe_api_key, stripe_webhook_secrets and dashboard_url."
    }
  }
}

resource "helm_release" "authstack" {
  name       = var.release_name
  namespace  = local.namespace
  repository = var.chart_repository
  chart      = local.chart
  version    = var.chart_repository == null ? null : var.chart_version
  atomic     = true
  wait       = true
  timeout    = var.helm_timeout
  # The CRD comes with the operator (region module) unless this release runs it.
  skip_crds = !var.enable_operator

  values = [
    yamlencode(local.values),
    yamlencode(var.extra_values),
  ]

  depends_on = [
    kubernetes_secret_v1.master_key,
    kubernetes_secret_v1.database_url,
    kubernetes_secret_v1.stripe,
    kubernetes_manifest.database,
  ]
}
