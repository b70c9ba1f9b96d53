{{- define "cloudviper.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cloudviper.labels" -}}
app.kubernetes.io/name: cloudviper
app.kubernetes.io/instance: {{ include "cloudviper.fullname" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cloudviper.selector" -}}
app.kubernetes.io/name: cloudviper
app.kubernetes.io/instance: {{ include "cloudviper.fullname" . }}
{{- end -}}

{{- define "cloudviper.schedulerAddress" -}}
tcp://{{ include "cloudviper.fullname" . }}-scheduler.{{ .Release.Namespace }}:{{ .Values.scheduler.service.port }}
{{- end -}}

{{/* The scaler's options, shared by the scheduler (inScheduler) and the scaler Deployment. */}}
{{- define "cloudviper.scalerArgs" -}}
- --k8s-namespace={{ .Release.Namespace }}
- --k8s-cluster={{ include "cloudviper.fullname" . }}
- --k8s-image={{ .Values.worker.image.repository }}:{{ .Values.worker.image.tag }}
- --k8s-image-pull-policy={{ .Values.worker.image.pullPolicy }}
- --k8s-scheduler-address={{ include "cloudviper.schedulerAddress" . }}
- --k8s-worker-cpu={{ .Values.worker.cpu }}
- --k8s-worker-memory={{ .Values.worker.memory }}
- --k8s-worker-nthreads={{ .Values.worker.nthreads }}
- --k8s-jvm-options={{ .Values.worker.jvmOptions }}
- --k8s-grace-period={{ .Values.worker.terminationGracePeriodSeconds }}
{{- range .Values.worker.tolerations }}
- --k8s-toleration={{ . }}
{{- end }}
{{- if .Values.worker.spotTaint }}
- --k8s-spot-taint={{ .Values.worker.spotTaint }}
{{- end }}
{{- if .Values.worker.affinity.values }}
- --k8s-node-affinity={{ .Values.worker.affinity.label }}={{ join "," .Values.worker.affinity.values }}
{{- end }}
{{- range $k, $v := .Values.worker.nodeSelector }}
- --k8s-node-selector={{ $k }}={{ $v }}
{{- end }}
{{- range $k, $v := .Values.worker.labels }}
- --k8s-label={{ $k }}={{ $v }}
{{- end }}
- --k8s-min-workers={{ .Values.scaler.minWorkers }}
- --k8s-max-workers={{ .Values.scaler.maxWorkers }}
- --k8s-target-duration={{ .Values.scaler.targetDuration }}
- --k8s-interval={{ .Values.scaler.interval }}
- --k8s-scale-down-after={{ .Values.scaler.scaleDownAfter }}
{{- range .Values.scaler.interruptionTaints }}
- --k8s-interruption-taint={{ . }}
{{- end }}
{{- end -}}

{{- define "cloudviper.healthProbes" -}}
livenessProbe:
  httpGet: {path: /health, port: http}
  periodSeconds: 10
  failureThreshold: 6
readinessProbe:
  httpGet: {path: /health, port: http}
  periodSeconds: 5
{{- end -}}
