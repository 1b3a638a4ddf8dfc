# Prepares one region's cluster: cert-manager, CloudNativePG, ingress-nginx, a ClusterIssuer
# and the AuthStack operator.
#
#   terraform init
#   terraform apply -var kube_context=eu-central-1 -var acme_email=ops@example.com \
#     -var create_cluster_issuer=false   # first apply on a fresh cluster, see the module README
module "region" {
  source = "../../modules/region"

  acme_email            = var.acme_email
  create_cluster_issuer = var.create_cluster_issuer
  authstack_image_tag   = var.authstack_image_tag
}
