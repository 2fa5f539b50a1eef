{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "hd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object name: the release name, or release-chart when the release name does not contain the chart name. */}}
{{- define "hd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "hd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: never change after the first install (Deployment selectors are immutable). */}}
{{- define "hd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hd.labels" -}}
helm.sh/chart: {{ include "hd.chart" . }}
{{ include "hd.selectorLabels" . }}
app.kubernetes.io/version: {{ include "hd.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: heart-disease-mlops
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "hd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "hd.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest pins the image. */}}
{{- define "hd.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (include "hd.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "hd.secretName" -}}
{{- default (include "hd.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* Seconds from pod deletion to SIGKILL: preStop sleep + the API's own shutdown (SHUTDOWN_DELAY_MS, then up to
     SHUTDOWN_GRACE_MS of draining) + margin. */}}
{{- define "hd.terminationGracePeriodSeconds" -}}
{{- $drain := div (add (int .Values.shutdown.graceMs) (int (default 0 .Values.shutdown.delayMs)) 999) 1000 -}}
{{- add (int .Values.shutdown.preStopSleepSeconds) $drain (int .Values.shutdown.marginSeconds) -}}
{{- end -}}

{{/* Labels of the chart's other components (MLflow, PostgreSQL, the retraining CronJob): the release's common labels,
     their own name and component, so no selector of the API (Deployment, Service, PDB, NetworkPolicy) matches them. */}}
{{- define "hd.componentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "hd.name" .root }}-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "hd.componentLabels" -}}
helm.sh/chart: {{ include "hd.chart" .root }}
{{ include "hd.componentSelectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: heart-disease-mlops
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "hd.mlflowName" -}}
{{- printf "%s-mlflow" (include "hd.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hd.postgresqlName" -}}
{{- printf "%s-postgresql" (include "hd.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hd.retrainingName" -}}
{{- printf "%s-retraining" (include "hd.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* The MLflow tracking server the API and the trainer talk to: registry.trackingUri, else the chart's own MLflow. */}}
{{- define "hd.trackingUri" -}}
{{- if .Values.registry.trackingUri -}}
{{- .Values.registry.trackingUri -}}
{{- else if .Values.mlflow.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "hd.mlflowName" .) .Release.Namespace (int .Values.mlflow.service.port) -}}
{{- end -}}
{{- end -}}

{{/* TCP port of a http(s) URL: the explicit one, else 443 for https and 80 for http. */}}
{{- define "hd.urlPort" -}}
{{- $url := urlParse . -}}
{{- regexFind "[0-9]+$" (regexFind ":[0-9]+$" $url.host) | default (ternary "443" "80" (eq $url.scheme "https")) -}}
{{- end -}}

{{/* Where the prediction log lives: "postgresql" (the chart's server or a DATABASE_URL Secret), "sqlite" (a file on
     an emptyDir or a PVC), or "" (nothing rendered: the API's own default). */}}
{{- define "hd.predictionLogStore" -}}
{{- with .Values.predictionLog -}}
{{- if or .postgresql.enabled .databaseUrlSecret.name -}}postgresql
{{- else if .sqlite.volume -}}sqlite
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding DATABASE_URL. */}}
{{- define "hd.databaseUrlSecretName" -}}
{{- if .Values.predictionLog.postgresql.enabled -}}{{ include "hd.postgresqlName" . }}{{- else -}}{{ .Values.predictionLog.databaseUrlSecret.name }}{{- end -}}
{{- end -}}
{{- define "hd.databaseUrlSecretKey" -}}
{{- if .Values.predictionLog.postgresql.enabled -}}DATABASE_URL{{- else -}}{{ .Values.predictionLog.databaseUrlSecret.key }}{{- end -}}
{{- end -}}

{{- define "hd.predictionLogClaimName" -}}
{{- default (printf "%s-prediction-log" (include "hd.fullname" .)) .Values.predictionLog.sqlite.persistence.existingClaim -}}
{{- end -}}

{{/* The prediction log's settings for a container (API or trainer): the one place naming the API's variables
     DATABASE_URL and PREDICTION_LOG_PATH. */}}
{{- define "hd.predictionLogEnv" -}}
{{- $store := include "hd.predictionLogStore" . -}}
{{- if eq $store "postgresql" }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "hd.databaseUrlSecretName" . }}
      key: {{ include "hd.databaseUrlSecretKey" . }}
{{- else if eq $store "sqlite" }}
- name: PREDICTION_LOG_PATH
  value: {{ printf "%s/%s" (trimSuffix "/" .Values.predictionLog.sqlite.mountPath) .Values.predictionLog.sqlite.fileName | quote }}
{{- end -}}
{{- end -}}

{{/* The trainer image (the Dockerfile's trainer stage). */}}
{{- define "hd.trainerImage" -}}
{{- with .Values.retraining.image -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository (default $.Chart.AppVersion .tag) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* NetworkPolicy egress to the prediction log's PostgreSQL: the chart's server by pod selector, a Secret's by port. */}}
{{- define "hd.predictionLogEgress" -}}
{{- if .Values.predictionLog.postgresql.enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "hd.componentSelectorLabels" (dict "root" . "component" "postgresql") | nindent 10 }}
  ports:
    - port: {{ .Values.predictionLog.postgresql.port }}
      protocol: TCP
{{- else if .Values.predictionLog.databaseUrlSecret.name -}}
- ports:
    - port: {{ .Values.predictionLog.databaseUrlSecret.port }}
      protocol: TCP
{{- end -}}
{{- end -}}
