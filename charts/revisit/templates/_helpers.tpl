{{/*
Names. Objects are named <prefix>-<service> (web) and <prefix>-<service>-worker, where the
prefix is fullnameOverride or the release name: the gateway reaches a service at
http://<prefix>-<service>:8000.
*/}}
{{- define "revisit.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "revisit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Every service, gateway first. Adding a service is one word here (and in the schema). */}}
{{- define "revisit.services" -}}
gateway customer visit complaint survey kpi notify
{{- end -}}

{{- define "revisit.serviceList" -}}
{{- splitList " " (include "revisit.services" .) | toJson -}}
{{- end -}}

{{/* Labels of every object; objects of one service add revisit.selectorLabels. */}}
{{- define "revisit.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: revisit
revisit/region: {{ .Values.region | quote }}
{{- end -}}

{{- define "revisit.releaseLabels" -}}
app.kubernetes.io/name: {{ include "revisit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "revisit.labels" -}}
{{ include "revisit.commonLabels" . }}
{{ include "revisit.releaseLabels" . }}
{{- end -}}

{{/* Selector of one service's pods of one role: dict "root" $ "service" name "role" web|worker */}}
{{- define "revisit.selectorLabels" -}}
{{ include "revisit.releaseLabels" .root }}
app.kubernetes.io/component: {{ .role }}
revisit/service: {{ .service }}
{{- end -}}

{{- define "revisit.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{- define "revisit.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "revisit.fullname" .)) -}}
{{- end -}}

{{- define "revisit.configName" -}}
{{- printf "%s-config" (include "revisit.fullname" .) -}}
{{- end -}}

{{- define "revisit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "revisit.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* A service's web settings: the web defaults with services.<name>.web over them (YAML). */}}
{{- define "revisit.webSettings" -}}
{{- $svc := index .root.Values.services .service | default dict -}}
{{- mergeOverwrite (deepCopy .root.Values.web) (deepCopy ($svc.web | default dict)) | toYaml -}}
{{- end -}}

{{- define "revisit.workerSettings" -}}
{{- $svc := index .root.Values.services .service | default dict -}}
{{- mergeOverwrite (deepCopy .root.Values.worker) (deepCopy ($svc.worker | default dict)) | toYaml -}}
{{- end -}}

{{/* URLs built from values (the Secret holds them). */}}
{{- define "revisit.amqpUrl" -}}
{{- $mq := .Values.rabbitmq -}}
{{- $auth := $mq.username | urlquery -}}
{{- if $mq.password }}{{ $auth = printf "%s:%s" $auth ($mq.password | urlquery) }}{{ end -}}
{{- printf "%s://%s@%s:%d/%s" (ternary "amqps" "amqp" $mq.tls) $auth $mq.host (int64 $mq.port) ($mq.vhost | urlquery) -}}
{{- end -}}

{{/* dict "root" $ "database" name */}}
{{- define "revisit.databaseUrl" -}}
{{- $pg := .root.Values.postgresql -}}
{{- $auth := $pg.username | urlquery -}}
{{- if $pg.password }}{{ $auth = printf "%s:%s" $auth ($pg.password | urlquery) }}{{ end -}}
{{- printf "postgresql://%s@%s:%d/%s" $auth $pg.host (int64 $pg.port) .database -}}
{{- if $pg.sslmode }}{{ printf "?sslmode=%s" $pg.sslmode }}{{ end -}}
{{- end -}}

{{/* The Secret key of a service's database URL. */}}
{{- define "revisit.databaseKey" -}}
{{- if eq .root.Values.postgresql.layout "schema-per-service" -}}
REVISIT_DATABASE_URL
{{- else -}}
{{- printf "REVISIT_%s_DATABASE_URL" (upper .service) -}}
{{- end -}}
{{- end -}}

{{/* One variable from the Secret: dict "root" $ "key" NAME */}}
{{- define "revisit.secretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "revisit.secretName" .root }}
      key: {{ .key }}
{{- end -}}

{{/* What every process of a service gets: dict "root" $ "service" name */}}
{{- define "revisit.serviceEnv" -}}
{{ include "revisit.secretEnv" (dict "root" .root "key" "REVISIT_AMQP_URL") }}
{{ include "revisit.secretEnv" (dict "root" .root "key" "REVISIT_INTERNAL_TOKEN") }}
{{ include "revisit.secretEnv" (dict "root" .root "key" "REVISIT_METRICS_TOKEN") }}
{{ include "revisit.secretEnv" (dict "root" .root "key" (include "revisit.databaseKey" .)) }}
{{- if eq .service "gateway" }}
{{ include "revisit.secretEnv" (dict "root" .root "key" "REVISIT_ADMIN_TOKEN") }}
{{- end }}
{{- end -}}

{{- define "revisit.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "revisit.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Pod-level settings shared by every pod of the chart. */}}
{{- define "revisit.podCommon" -}}
serviceAccountName: {{ include "revisit.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- include "revisit.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Checksums that roll the pods when their configuration changes. */}}
{{- define "revisit.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{/* The web pods that read from their owners what their copies have not heard of yet
     (a customer from the customer service, the settings from the gateway). */}}
{{- define "revisit.readerSelector" -}}
matchLabels:
  {{- include "revisit.releaseLabels" . | nindent 2 }}
  app.kubernetes.io/component: web
matchExpressions:
  - key: revisit/service
    operator: In
    values: ["complaint", "visit", "survey"]
{{- end }}

{{/* The most PostgreSQL connections the release can hold at once (values.yaml, postgresql's
     budget): per service, its web pods (HPA maxReplicas, or replicas, plus the rollout's
     surge pod) x processes x (pool + overflow, plus a connection per thread in the
     gateway's), and its worker pods x (pool + overflow + the outbox LISTEN); plus the
     migrations Job's two. */}}
{{- define "revisit.databaseConnections" -}}
{{- $total := 0 -}}
{{- range $service := include "revisit.serviceList" . | fromJsonArray -}}
{{- $web := include "revisit.webSettings" (dict "root" $ "service" $service) | fromYaml -}}
{{- $pods := ternary $web.autoscaling.maxReplicas $web.replicas $web.autoscaling.enabled | int -}}
{{- $process := add $web.db.poolSize $web.db.maxOverflow | int -}}
{{- if eq $service "gateway" -}}
{{- $process = add $process $web.threads | int -}}
{{- end -}}
{{- $total = add $total (mul (add $pods 1) $web.concurrency $process) | int -}}
{{- $worker := include "revisit.workerSettings" (dict "root" $ "service" $service) | fromYaml -}}
{{- $total = add $total (mul $worker.replicas (add $worker.db.poolSize $worker.db.maxOverflow 1)) | int -}}
{{- end -}}
{{- if .Values.migrations.enabled -}}
{{- $total = add $total 2 | int -}}
{{- end -}}
{{- $total -}}
{{- end -}}
