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
