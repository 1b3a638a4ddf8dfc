variable "kubeconfig_path" {
  description = "Path of the kubeconfig file holding the control plane's cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the control plane's cluster."
  type        = string
}

variable "gateway_url" {
  description = "The gateway's public URL, e.g. https://api.authstack.example."
  type        = string
}

variable "gateway_host" {
  description = "Public hostname of the gateway's Ingress, e.g. api.authstack.example."
  type        = string
}

variable "dashboard_host" {
  description = "Public hostname of the control plane's Ingress (dashboard), e.g. app.authstack.example."
  type        = string
}

variable "stripe_api_key" {
  description = "Stripe secret API key; null runs without billing (plans granted directly)."
  type        = string
  default     = null
  sensitive   = true
}

variable "stripe_webhook_secrets" {
  description = "Stripe webhook signing secrets, comma-separated."
  type        = string
  default     = null
  sensitive   = true
}
