variable "kubeconfig_path" {
  description = "Path of the kubeconfig file holding the region's cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the region's cluster (the region's kube_context in the control plane's catalogue)."
  type        = string
}

variable "acme_email" {
  description = "Contact address of the Let's Encrypt account."
  type        = string
}

variable "authstack_image_tag" {
  description = "Tag of the operator image; null uses the chart's appVersion."
  type        = string
  default     = null
}

variable "create_cluster_issuer" {
  description = "Create the ClusterIssuer; false on the first apply to a fresh cluster (cert-manager's CRDs must exist at plan time)."
  type        = bool
  default     = true
}
