{{/* Names, labels, images and the pieces shared by every pod of the chart. */}}

{{- define "verdict.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name; "verdict" alone when the release is called verdict. */}}
{{- define "verdict.fullname" -}}
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

{{- define "verdict.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "verdict.labels" -}}
helm.sh/chart: {{ include "verdict.chart" . }}
app.kubernetes.io/name: {{ include "verdict.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: verdict
{{- end }}

{{/* Selector of every pod of the release (NetworkPolicy default deny, DNS). */}}
{{- define "verdict.releaseSelector" -}}
app.kubernetes.io/name: {{ include "verdict.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* dict "root" $ "component" "judge-server" */}}
{{- define "verdict.componentLabels" -}}
{{ include "verdict.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "verdict.componentSelector" -}}
{{ include "verdict.releaseSelector" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "verdict.componentName" -}}
{{- printf "%s-%s" (include "verdict.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "verdict.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "verdict.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image of a Verdict service: <registry>/verdict-<service>:<tag>[-cuda12].
dict "root" $ "component" "policy-server" "values" .Values.policyServer
*/}}
{{- define "verdict.image" -}}
{{- $g := .root.Values.global }}
{{- $repo := .values.image.repository | default (printf "%s/verdict-%s" $g.imageRegistry .component) }}
{{- $tag := .values.image.tag | default $g.imageTag | default .root.Chart.AppVersion }}
{{- $gpu := and (hasKey .values "gpu") .values.gpu.enabled }}
{{- if and $gpu (not .values.image.tag) }}
{{- $tag = printf "%s%s" $tag .root.Values.gpuNodes.imageTagSuffix }}
{{- end }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}

{{/* The NATS URL every service gets (NATS_URL). */}}
{{- define "verdict.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s-nats.%s.svc:%d" (include "verdict.fullname" .) .Release.Namespace (int .Values.nats.port) }}
{{- else }}
{{- required "nats.externalUrl is required when nats.enabled=false (e.g. nats://nats.nats.svc.cluster.local:4222)" .Values.nats.externalUrl }}
{{- end }}
{{- end }}

{{- define "verdict.natsAuthSecretName" -}}
{{- .Values.nats.auth.existingSecret | default (printf "%s-nats-auth" (include "verdict.fullname" .)) }}
{{- end }}

{{- define "verdict.natsTlsSecretName" -}}
{{- .Values.nats.tls.existingSecret | default (printf "%s-nats-tls" (include "verdict.fullname" .)) }}
{{- end }}

{{/* NATS_URL and the credential/TLS variables of a NATS client container. */}}
{{- define "verdict.natsEnv" -}}
- name: NATS_URL
  value: {{ include "verdict.natsUrl" . | quote }}
{{- if eq .Values.nats.auth.type "password" }}
- name: NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "verdict.natsAuthSecretName" . }}
      key: user
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "verdict.natsAuthSecretName" . }}
      key: password
{{- else if eq .Values.nats.auth.type "creds" }}
- name: NATS_CREDS_FILE
  value: /etc/verdict/nats-auth/nats.creds
{{- end }}
{{- if .Values.nats.tls.enabled }}
- name: NATS_TLS_CA_FILE
  value: /etc/verdict/nats-tls/ca.crt
{{- if .Values.nats.tls.clientCert }}
- name: NATS_TLS_CERT_FILE
  value: /etc/verdict/nats-tls/tls.crt
- name: NATS_TLS_KEY_FILE
  value: /etc/verdict/nats-tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{- define "verdict.natsVolumes" -}}
{{- if eq .Values.nats.auth.type "creds" }}
- name: nats-auth
  secret:
    secretName: {{ include "verdict.natsAuthSecretName" . }}
    defaultMode: 0440
    items:
      - key: nats.creds
        path: nats.creds
{{- end }}
{{- if .Values.nats.tls.enabled }}
- name: nats-tls
  secret:
    secretName: {{ include "verdict.natsTlsSecretName" . }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "verdict.natsVolumeMounts" -}}
{{- if eq .Values.nats.auth.type "creds" }}
- name: nats-auth
  mountPath: /etc/verdict/nats-auth
  readOnly: true
{{- end }}
{{- if .Values.nats.tls.enabled }}
- name: nats-tls
  mountPath: /etc/verdict/nats-tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "verdict.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "verdict.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Native gRPC probes (grpc.health.v1, overall status). dict "port" 50051 "startupFailureThreshold" 60 */}}
{{- define "verdict.grpcProbes" -}}
startupProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: {{ .startupFailureThreshold }}
readinessProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
livenessProbe:
  grpc:
    port: {{ .port }}
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* Resources plus nvidia.com/gpu when the component asks for a GPU. dict "values" .Values.x */}}
{{- define "verdict.resources" -}}
{{- $res := deepCopy (.values.resources | default dict) }}
{{- if and (hasKey .values "gpu") .values.gpu.enabled (gt (int .values.gpu.count) 0) }}
{{- $limits := $res.limits | default dict }}
{{- $_ := set $limits "nvidia.com/gpu" (int .values.gpu.count) }}
{{- $_ := set $res "limits" $limits }}
{{- end }}
{{- toYaml $res }}
{{- end }}

{{/* nodeSelector, tolerations, affinity, runtimeClassName. dict "root" $ "values" .Values.x */}}
{{- define "verdict.scheduling" -}}
{{- $gpu := and (hasKey .values "gpu") .values.gpu.enabled }}
{{- $nodeSelector := deepCopy (.values.nodeSelector | default dict) }}
{{- $tolerations := .values.tolerations | default list }}
{{- if $gpu }}
{{- $nodeSelector = merge $nodeSelector (deepCopy (.root.Values.gpuNodes.nodeSelector | default dict)) }}
{{- $tolerations = concat $tolerations (.root.Values.gpuNodes.tolerations | default list) }}
{{- if .root.Values.gpuNodes.runtimeClassName }}
runtimeClassName: {{ .root.Values.gpuNodes.runtimeClassName }}
{{- end }}
{{- end }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* <PREFIX>_EXECUTION_PROVIDER (+ _FALLBACK=never). dict "prefix" "POLICY" "values" .Values.x */}}
{{- define "verdict.executionProviderEnv" -}}
- name: {{ .prefix }}_EXECUTION_PROVIDER
  value: {{ ternary "cuda" "cpu" .values.gpu.enabled | quote }}
{{- if and .values.gpu.enabled (not .values.gpu.fallbackToCpu) }}
- name: {{ .prefix }}_EXECUTION_PROVIDER_FALLBACK
  value: never
{{- end }}
{{- end }}

{{/* A component's extra env map as a list (sorted for stable output). */}}
{{- define "verdict.extraEnv" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/*
Init containers that pull model folders from the NATS Object Store (weights.source=objectStore).
dict "root" $ "component" "judge-server" "values" .Values.judgeServer "models" (list "judge")
*/}}
{{- define "verdict.weightsInit" -}}
{{- $root := .root }}
{{- if eq $root.Values.weights.source "objectStore" }}
{{- range $i, $name := .models }}
- name: pull-weights-{{ $name | lower | replace "_" "-" | replace "." "-" | trunc 40 | trimSuffix "-" }}
  image: {{ include "verdict.image" (dict "root" $root "component" $.component "values" $.values) }}
  imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
  command:
    - node
    - /app/verdict.mjs
    - weights
    - pull
    - --nats
    - $(NATS_URL)
    - --name
    - {{ $name | quote }}
    - --out
    - /data/models/{{ $name }}
  env:
    {{- with (include "verdict.natsEnv" $root | trim) }}{{ . | nindent 4 }}{{- end }}
  securityContext:
    {{- with (include "verdict.containerSecurityContext" $root | trim) }}{{ . | nindent 4 }}{{- end }}
  resources:
    requests:
      cpu: 100m
      memory: 256Mi
    limits:
      memory: 1Gi
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: models
      mountPath: /data/models
    {{- with (include "verdict.natsVolumeMounts" $root | trim) }}{{ . | nindent 4 }}{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Init container that fills /data/datasets with `verdict data pull` (datasets.pull.enabled). */}}
{{- define "verdict.datasetsInit" -}}
{{- if and (not .root.Values.datasets.existingClaim) .root.Values.datasets.pull.enabled }}
- name: pull-datasets
  image: {{ include "verdict.image" (dict "root" .root "component" .component "values" .values) }}
  imagePullPolicy: {{ .root.Values.global.imagePullPolicy }}
  command:
    - node
    - /app/verdict.mjs
    - data
    - pull
    - --dir
    - /data/datasets
    {{- with .root.Values.datasets.pull.mirror }}
    - --mirror
    - {{ . | quote }}
    {{- end }}
  securityContext:
    {{- with (include "verdict.containerSecurityContext" .root | trim) }}{{ . | nindent 4 }}{{- end }}
  resources:
    requests:
      cpu: 100m
      memory: 256Mi
    limits:
      memory: 1Gi
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: datasets
      mountPath: /data/datasets
{{- end }}
{{- end }}

{{- define "verdict.modelsVolume" -}}
- name: models
{{- if eq .Values.weights.source "pvc" }}
  persistentVolumeClaim:
    claimName: {{ required "weights.existingClaim is required when weights.source=pvc" .Values.weights.existingClaim }}
    readOnly: true
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.weights.sizeLimit }}
{{- end }}
{{- end }}

{{- define "verdict.modelsMount" -}}
- name: models
  mountPath: /data/models
  readOnly: {{ eq .Values.weights.source "pvc" }}
{{- end }}

{{- define "verdict.datasetsVolume" -}}
- name: datasets
{{- if .Values.datasets.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.datasets.existingClaim }}
    readOnly: true
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "verdict.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/* sha256 of the shared-env ConfigMap (plus extra text), so pods roll when config changes. */}}
{{- define "verdict.configChecksum" -}}
{{- $text := include (print .root.Template.BasePath "/configmap-env.yaml") .root }}
{{- if .extra }}
{{- $text = print $text .extra }}
{{- end }}
{{- $text | sha256sum }}
{{- end }}

{{- define "verdict.serviceAddress" -}}
{{- printf "%s-%s:%d" (include "verdict.fullname" .root) .component (int .port) }}
{{- end }}

{{/*
Per-call balanced gRPC target of a component with a headless twin: grpc-js resolves every pod IP
behind dns:/// and the runtime client kit picks round_robin for dns: targets, so replicas added by
the HPA get traffic (a ClusterIP name would pin each long-lived connection to one pod).
*/}}
{{- define "verdict.balancedAddress" -}}
{{- printf "dns:///%s-%s-headless:%d" (include "verdict.fullname" .root) .component (int .port) }}
{{- end }}
