# A region: one existing Kubernetes cluster made ready for AuthStack instances. cert-manager
# (certificates for custom hostnames), CloudNativePG (one PostgreSQL cluster per instance),
# an ingress controller, an ACME ClusterIssuer, and the AuthStack operator alone.

locals {
  authstack_chart = coalesce(var.authstack_chart, "${path.module}/../../../charts/authstack")

  authstack_values = {
    # Object names shared with the control-plane module's release, so that the operator's
    # --gateway-service (<fullname>-gateway) names the gateway that module installs.
    fullnameOverride = "authstack"
    controlPlane     = { enabled = false }
    gateway          = { enabled = false }
    operator = merge(
      {
        enabled        = true
        replicas       = var.operator_replicas
        concurrency    = var.operator_concurrency
        ingressClass   = var.ingress_class_name
        clusterIssuer  = var.cluster_issuer_name
        serviceMonitor = { enabled = var.operator_service_monitor }
        redis          = { existingSecret = var.redis_url_secret_name, key = var.redis_url_secret_key }
      },
      var.authstack_image_tag == null ? {} : { image = { tag = var.authstack_image_tag } },
    )
  }
}

resource "helm_release" "cert_manager" {
  name             = "cert-manager"
  namespace        = var.cert_manager_namespace
  create_namespace = true
  repository       = "https://charts.jetstack.io"
  chart            = "cert-manager"
  version          = var.cert_manager_chart_version
  atomic           = true
  wait             = true
  timeout          = var.helm_timeout

  values = [yamlencode({
    crds = {
      enabled = true
      # Keep the CRDs (and so every Certificate) when the release is uninstalled.
      keep = true
    }
    replicaCount = 2
    podDisruptionBudget = { enabled = true, minAvailable = 1 }
    webhook = {
      replicaCount        = 2
      podDisruptionBudget = { enabled = true, minAvailable = 1 }
    }
    cainjector = {
      replicaCount        = 2
      podDisruptionBudget = { enabled = true, minAvailable = 1 }
    }
    prometheus = { enabled = true }
  })]
}

resource "helm_release" "cnpg" {
  name             = "cnpg"
  namespace        = var.cnpg_namespace
  create_namespace = true
  repository       = "https://cloudnative-pg.github.io/charts"
  chart            = "cloudnative-pg"
  version          = var.cnpg_chart_version
  atomic           = true
  wait             = true
  timeout          = var.helm_timeout

  values = [yamlencode({
    crds = { create = true }
  })]
}

resource "helm_release" "ingress_nginx" {
  count = var.install_ingress_nginx ? 1 : 0

  name             = "ingress-nginx"
  namespace        = var.ingress_nginx_namespace
  create_namespace = true
  repository       = "https://kubernetes.github.io/ingress-nginx"
  chart            = "ingress-nginx"
  version          = var.ingress_nginx_chart_version
  atomic           = true
  wait             = true
  timeout          = var.helm_timeout

  values = [yamlencode({
    controller = {
      replicaCount = var.ingress_replicas
      ingressClassResource = {
        name    = var.ingress_class_name
        default = false
      }
      ingressClass = var.ingress_class_name
      # Customers control their instances' hostnames, never annotations: keep snippets off.
      allowSnippetAnnotations = false
      service                 = { type = var.ingress_service_type }
      config = {
        use-forwarded-headers = "false"
        server-tokens         = "false"
        ssl-protocols         = "TLSv1.2 TLSv1.3"
      }
      metrics             = { enabled = true }
      podDisruptionBudget = { enabled = true, minAvailable = 1 }
      minAvailable        = 1
    }
  })]
}

resource "kubernetes_manifest" "cluster_issuer" {
  count = var.create_cluster_issuer ? 1 : 0

  manifest = {
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata = {
      name = var.cluster_issuer_name
    }
    spec = {
      acme = {
        email  = var.acme_email
        server = var.acme_server
        privateKeySecretRef = {
          name = "${var.cluster_issuer_name}-account-key"
        }
        solvers = [{
          http01 = {
            ingress = {
              ingressClassName = var.ingress_class_name
            }
          }
        }]
      }
    }
  }

  depends_on = [helm_release.cert_manager, helm_release.ingress_nginx]
}

resource "helm_release" "authstack_operator" {
  name             = "authstack-operator"
  namespace        = var.authstack_namespace
  create_namespace = true
  repository       = var.authstack_chart_repository
  chart            = local.authstack_chart
  version          = var.authstack_chart_repository == null ? null : var.authstack_chart_version
  atomic           = true
  wait             = true
  timeout          = var.helm_timeout

  values = [
    yamlencode(local.authstack_values),
    yamlencode(var.authstack_extra_values),
  ]

  # The operator watches CloudNativePG clusters and writes cert-manager-annotated Ingresses.
  depends_on = [helm_release.cnpg, helm_release.cert_manager]
}
