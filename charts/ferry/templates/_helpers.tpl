{{/* Chart name, truncated to a DNS label. */}}
{{- define "ferry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; the release name alone when it already contains the chart name. */}}
{{- define "ferry.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ferry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ferry.labels" -}}
helm.sh/chart: {{ include "ferry.chart" . }}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ferry
{{- end }}

{{- define "ferry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "ferry.controllerServiceAccount" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller" (include "ferry.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ferry.jobServiceAccount" -}}
{{- default (printf "%s-job" (include "ferry.fullname" .)) .Values.jobs.serviceAccount.name }}
{{- end }}

{{- define "ferry.leaseName" -}}
{{- default (printf "%s-leader" (include "ferry.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Image reference: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "ferry.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "ferry.jobImage" -}}
{{- if or .Values.jobs.image.repository .Values.jobs.image.tag }}
{{- printf "%s:%s" (default .Values.image.repository .Values.jobs.image.repository) (default (default .Chart.AppVersion .Values.image.tag) .Values.jobs.image.tag) }}
{{- else }}
{{- include "ferry.image" . }}
{{- end }}
{{- end }}

{{/* Namespaces the controller's RBAC covers: watchNamespaces, or "" for cluster-wide. */}}
{{- define "ferry.clusterWide" -}}
{{- if empty .Values.watchNamespaces }}true{{ end }}
{{- end }}

{{/* Namespaces that get the Job ServiceAccount: watchNamespaces (or the release namespace when watching
all namespaces) plus jobs.serviceAccount.extraNamespaces. */}}
{{- define "ferry.jobNamespaces" -}}
{{- $watched := .Values.watchNamespaces | default (list .Release.Namespace) }}
{{- $all := concat $watched .Values.jobs.serviceAccount.extraNamespaces | uniq }}
{{- join "," $all }}
{{- end }}

{{/* The evaluation database runs only when no existing state database is configured. */}}
{{- define "ferry.evaluationDatabase" -}}
{{- if and .Values.postgresql.enabled (not .Values.stateDatabase.existingSecret) }}true{{ end }}
{{- end }}

{{- define "ferry.postgresqlName" -}}
{{- printf "%s-postgresql" (include "ferry.fullname" .) }}
{{- end }}

{{/* Secret and key holding the state database URL. */}}
{{- define "ferry.stateDatabaseSecret" -}}
{{- if include "ferry.evaluationDatabase" . }}
{{- include "ferry.postgresqlName" . }}
{{- else }}
{{- .Values.stateDatabase.existingSecret }}
{{- end }}
{{- end }}

{{- define "ferry.stateDatabaseSecretKey" -}}
{{- if include "ferry.evaluationDatabase" . }}url{{ else }}{{ .Values.stateDatabase.secretKey }}{{ end }}
{{- end }}

{{- define "ferry.dataApiName" -}}
{{- printf "%s-data-api" (include "ferry.fullname" .) }}
{{- end }}

{{- define "ferry.dataApiServiceAccount" -}}
{{- default (include "ferry.dataApiName" .) .Values.dataApi.serviceAccount.name }}
{{- end }}

{{- define "ferry.dataApiSelectorLabels" -}}
app.kubernetes.io/name: {{ include "ferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: data-api
{{- end }}
