# The control plane and the gateway, next to the region module's operator in the same cluster
# and namespace (authstack-system), on a CloudNativePG database.
#
#   terraform init
#   terraform apply -var kube_context=eu-central-1 \
#     -var gateway_url=https://api.authstack.example \
#     -var gateway_host=api.authstack.example -var dashboard_host=app.authstack.example
module "control_plane" {
  source = "../../modules/control-plane"

  # The region module's operator release created the namespace.
  create_namespace = false
  gateway_url      = var.gateway_url
  dashboard_url    = "https://${var.dashboard_host}/dashboard"

  billing_provider       = var.stripe_api_key == null ? "none" : "stripe"
  stripe_api_key         = var.stripe_api_key
  stripe_webhook_secrets = var.stripe_webhook_secrets

  ingress_hosts = {
    gateway       = [var.gateway_host]
    control_plane = [var.dashboard_host]
  }
}
