{{/*
One Verdict gRPC Deployment + its Service and PodDisruptionBudget.
dict
  "root" $                     chart root
  "component" "judge-server"   service name (image verdict-<component>, labels, object names)
  "values" .Values.judgeServer  component values (replicaCount, port, resources, ...)
  "env" "<yaml list>"           service-specific variables (after NATS_URL and the shared ConfigMap)
  "models" (list "judge")       model folders under /data/models (pulled when weights.source=objectStore)
  "datasets" false              mount /data/datasets (VERDICT_DATA_DIR)
  "extraVolumes" "<yaml list>"  "extraMounts" "<yaml list>"
  "nats" true                   NATS client (NATS_URL, credentials, network access); default true
  "headless" true               also render <name>-headless (client-side load balancing)
  "autoscaling" true            omit replicas when the component's HPA is on
  "replicaCount" 1              "probes" dict(startupFailureThreshold)   "pdb" dict
  "healthPort" 50062            a plaintext health-only port (containerPort "health"): the probes go
                                there instead of the gRPC port (which then has TLS); 0/unset = none
*/}}
{{- define "verdict.deployment" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $sel := dict "root" $root "component" .component }}
{{- $name := include "verdict.componentName" $sel }}
{{- $useModels := gt (len (.models | default list)) 0 }}
{{- $nats := ternary .nats true (hasKey . "nats") }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- with (include "verdict.componentLabels" $sel | trim) }}{{ . | nindent 4 }}{{- end }}
spec:
  {{- if not .autoscaling }}
  replicas: {{ .replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- with (include "verdict.componentSelector" $sel | trim) }}{{ . | nindent 6 }}{{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- with (include "verdict.componentLabels" $sel | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- if $nats }}
        verdict.dev/nats-client: "true"
        {{- end }}
      annotations:
        checksum/config: {{ include "verdict.configChecksum" (dict "root" $root) }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "verdict.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- with (include "verdict.podSecurityContext" $root | trim) }}{{ . | nindent 8 }}{{- end }}
      {{- with (include "verdict.scheduling" (dict "root" $root "values" $v) | trim) }}{{ . | nindent 6 }}{{- end }}
      terminationGracePeriodSeconds: 45
      {{- if or (and $useModels (eq $root.Values.weights.source "objectStore")) (and .datasets $root.Values.datasets.pull.enabled (not $root.Values.datasets.existingClaim)) }}
      initContainers:
        {{- if $useModels }}
        {{- with (include "verdict.weightsInit" (dict "root" $root "component" .component "values" $v "models" .models) | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- end }}
        {{- if .datasets }}
        {{- with (include "verdict.datasetsInit" (dict "root" $root "component" .component "values" $v) | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "verdict.image" (dict "root" $root "component" .component "values" $v) }}
          imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
          ports:
            - name: grpc
              containerPort: {{ $v.port }}
              protocol: TCP
            {{- if .healthPort }}
            - name: health
              containerPort: {{ .healthPort }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "verdict.fullname" $root }}-env
          env:
            {{- if $nats }}
            {{- with (include "verdict.natsEnv" $root | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- end }}
            {{- if .datasets }}
            - name: VERDICT_DATA_DIR
              value: /data/datasets
            {{- end }}
            {{- with (.env | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- with (include "verdict.extraEnv" $v.env | trim) }}{{ . | nindent 12 }}{{- end }}
          {{- with (include "verdict.grpcProbes" (dict "port" (.healthPort | default $v.port) "startupFailureThreshold" .probes.startupFailureThreshold) | trim) }}{{ . | nindent 10 }}{{- end }}
          resources:
            {{- with (include "verdict.resources" (dict "values" $v) | trim) }}{{ . | nindent 12 }}{{- end }}
          securityContext:
            {{- with (include "verdict.containerSecurityContext" $root | trim) }}{{ . | nindent 12 }}{{- end }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $useModels }}
            {{- with (include "verdict.modelsMount" $root | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- end }}
            {{- if .datasets }}
            - name: datasets
              mountPath: /data/datasets
              readOnly: {{ not (not $root.Values.datasets.existingClaim) }}
            {{- end }}
            {{- if $nats }}
            {{- with (include "verdict.natsVolumeMounts" $root | trim) }}{{ . | nindent 12 }}{{- end }}
            {{- end }}
            {{- with .extraMounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        {{- with (include "verdict.tmpVolume" $root | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- if $useModels }}
        {{- with (include "verdict.modelsVolume" $root | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- end }}
        {{- if .datasets }}
        {{- with (include "verdict.datasetsVolume" $root | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- end }}
        {{- if or $nats $useModels }}
        {{- with (include "verdict.natsVolumes" $root | trim) }}{{ . | nindent 8 }}{{- end }}
        {{- end }}
        {{- with .extraVolumes }}
        {{- . | nindent 8 }}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- with (include "verdict.componentLabels" $sel | trim) }}{{ . | nindent 4 }}{{- end }}
spec:
  type: ClusterIP
  selector:
    {{- with (include "verdict.componentSelector" $sel | trim) }}{{ . | nindent 4 }}{{- end }}
  ports:
    - name: grpc
      port: {{ $v.port }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
{{- if .headless }}
---
# Headless twin: gRPC clients that balance per call (dns:///<name>-headless:<port> with
# round_robin) reach every replica instead of pinning one HTTP/2 connection to one pod.
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}-headless
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "verdict.componentLabels" $sel | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "verdict.componentSelector" $sel | nindent 4 }}
  ports:
    - name: grpc
      port: {{ $v.port }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- with (include "verdict.componentLabels" $sel | trim) }}{{ . | nindent 4 }}{{- end }}
spec:
  {{- if not (kindIs "invalid" .pdb.minAvailable) }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- with (include "verdict.componentSelector" $sel | trim) }}{{ . | nindent 6 }}{{- end }}
{{- end }}

{{/* autoscaling/v2 HPA for a Deployment. dict "root" $ "component" "judge-server" "values" .Values.judgeServer */}}
{{- define "verdict.hpa" -}}
{{- $sel := dict "root" .root "component" .component }}
{{- $a := .values.autoscaling }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "verdict.componentName" $sel }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- with (include "verdict.componentLabels" $sel | trim) }}{{ . | nindent 4 }}{{- end }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "verdict.componentName" $sel }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if $a.metrics }}
    {{- toYaml $a.metrics | nindent 4 }}
    {{- else }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
  behavior:
    scaleDown:
      # Model loading is slow: do not flap replicas away right after a burst.
      stabilizationWindowSeconds: 300
{{- end }}
