{{/*
Exactly what the controller does in the namespaces it watches (see src/controller): watch the three
kinds, write their status, create and prune SyncJobs, run them as batch/v1 Jobs, keep each run's report
in a ConfigMap and record Events. Secrets: `get` by name only (the SMTP Secret a flow names in
notifications.smtpSecretRef, the source Secret for the pending-rows estimate, and each namespace's state
database credentials Secret, which it checks periodically); `create` and `update` for that credentials
Secret only (it holds the namespace's own database role, never the owner credential); never list or watch.
Jobs get their credentials through secretKeyRefs that the kubelet resolves.
*/}}
{{- define "ferry.controllerRules" -}}
- apiGroups: [ferry.dev]
  resources: [syncflows, syncjobs, exporttargets]
  verbs: [get, list, watch]
- apiGroups: [ferry.dev]
  resources: [syncjobs]
  verbs: [create, delete]
- apiGroups: [ferry.dev]
  resources: [syncflows/status, syncjobs/status, exporttargets/status]
  verbs: [update, patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch, delete]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, get, update]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# `create` cannot be limited to a name; the rest can. A list or watch with the field selector
# metadata.name=NAME is authorized as a request for NAME, so the controller watches its credentials
# Secrets (deleted: issued again at once) without being able to list any other Secret.
- apiGroups: [""]
  resources: [secrets]
  verbs: [create]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [{{ .Values.stateDatabase.namespaceCredentialsSecret | quote }}]
  verbs: [update, delete, list, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* What a sync Job's pod needs (`ferry job`): read its SyncJob, the SyncFlow it runs, and the flow's ExportTargets. */}}
{{- define "ferry.jobRules" -}}
- apiGroups: [ferry.dev]
  resources: [syncjobs, syncflows, exporttargets]
  verbs: [get]
{{- end }}
