{{/*
The prefix of every object name: the release name, suffixed with "-authstack" unless it already
contains "authstack". A release named "authstack" gives authstack-control-plane,
authstack-gateway and authstack-operator.
*/}}
{{- define "authstack.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "authstack" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-authstack" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "authstack.controlPlane.fullname" -}}
{{- printf "%s-control-plane" (include "authstack.fullname" .) -}}
{{- end -}}

{{- define "authstack.gateway.fullname" -}}
{{- printf "%s-gateway" (include "authstack.fullname" .) -}}
{{- end -}}

{{- define "authstack.operator.fullname" -}}
{{- printf "%s-operator" (include "authstack.fullname" .) -}}
{{- end -}}

{{- define "authstack.catalog.fullname" -}}
{{- printf "%s-catalog" (include "authstack.fullname" .) -}}
{{- end -}}

{{- define "authstack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every object. `app.kubernetes.io/name` is always "authstack": instance
NetworkPolicies written by the operator admit the gateway by exactly that label.
*/}}
{{- define "authstack.labels" -}}
helm.sh/chart: {{ include "authstack.chart" . }}
app.kubernetes.io/name: authstack
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: authstack
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of a component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "authstack.selectorLabels" -}}
app.kubernetes.io/name: authstack
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of a component's objects; call with (dict "root" $ "component" "gateway"). */}}
{{- define "authstack.componentLabels" -}}
{{ include "authstack.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference; call with (dict "root" $ "image" .Values.x.image). */}}
{{- define "authstack.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "authstack.instanceImage" -}}
{{- include "authstack.image" (dict "root" . "image" .Values.controlPlane.instanceImage) -}}
{{- end -}}

{{/* The gateway's Service name, also handed to the operator for custom hostnames. */}}
{{- define "authstack.gateway.serviceName" -}}
{{- include "authstack.gateway.fullname" . -}}
{{- end -}}

{{/*
Scheduling of a component: soft spreading over zones and nodes plus (anti-)affinity.
Call with (dict "root" $ "component" "gateway" "values" .Values.gateway).
*/}}
{{- define "authstack.scheduling" -}}
{{- $spread := .root.Values.topologySpread -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if .values.affinity }}
affinity:
  {{- toYaml .values.affinity | nindent 2 }}
{{- else if and $spread.enabled (ne $spread.podAntiAffinity "none") }}
affinity:
  podAntiAffinity:
    {{- if eq $spread.podAntiAffinity "hard" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "authstack.selectorLabels" (dict "root" .root "component" .component) | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "authstack.selectorLabels" (dict "root" .root "component" .component) | nindent 14 }}
    {{- end }}
{{- end }}
{{- if $spread.enabled }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "authstack.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "authstack.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
{{- end }}
{{- end -}}

{{/* Environment shared by the control plane and the gateway: database, master key, data dir. */}}
{{- define "authstack.sharedEnv" -}}
- name: AUTHSTACK_DATA_DIR
  value: /var/lib/authstack
- name: AUTHSTACK_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "controlPlane.database.existingSecret is required: a Secret holding the control plane's PostgreSQL URL" .Values.controlPlane.database.existingSecret }}
      key: {{ .Values.controlPlane.database.key }}
- name: AUTHSTACK_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "masterKey.existingSecret is required: a Secret holding the base64 of 32 random bytes" .Values.masterKey.existingSecret }}
      key: {{ .Values.masterKey.key }}
{{- if .Values.controlPlane.catalog }}
- name: AUTHSTACK_CATALOG
  value: /etc/authstack/catalog/plans.yaml
{{- end }}
{{- end -}}

{{/* Volumes shared by the control plane and the gateway; call with (dict "root" $ "sizeLimit" "64Mi"). */}}
{{- define "authstack.sharedVolumes" -}}
- name: data
  emptyDir:
    sizeLimit: {{ .sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- if .root.Values.controlPlane.catalog }}
- name: catalog
  configMap:
    name: {{ include "authstack.catalog.fullname" .root }}
{{- end }}
{{- end -}}

{{- define "authstack.sharedVolumeMounts" -}}
- name: data
  mountPath: /var/lib/authstack
- name: tmp
  mountPath: /tmp
{{- if .Values.controlPlane.catalog }}
- name: catalog
  mountPath: /etc/authstack/catalog
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Pod annotations that roll the pods when the catalogue changes.
*/}}
{{- define "authstack.catalogChecksum" -}}
{{- if .Values.controlPlane.catalog }}
checksum/catalog: {{ toYaml .Values.controlPlane.catalog | sha256sum }}
{{- end }}
{{- end -}}

{{/*
checkov suppression shared by every Deployment, as an annotation (checkov's kubernetes framework
reads `checkov.io/skipN` annotations, not comments). Each Deployment adds its own skip2... with
the reason where a check does not apply to it.
*/}}
{{- define "authstack.checkovSkipDigest" -}}
checkov.io/skip1: "CKV_K8S_43=Images are pinned by tag (the chart's appVersion); set image.digest to pin a digest"
{{- end -}}
