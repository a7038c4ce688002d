{{/* Variables of the evaluator (CronJob and optional server). */}}
{{- define "verdict.evaluatorEnv" -}}
{{- $v := .Values.evaluator -}}
- name: EVALUATOR_PORT
  value: {{ $v.port | toString | quote }}
- name: EVALUATOR_POLICY_TARGET
  value: {{ include "verdict.balancedAddress" (dict "root" . "component" "policy-server" "port" .Values.policyServer.port) | quote }}
- name: EVALUATOR_REPORT_DIR
  value: /data/reports
- name: EVALUATOR_SUITES
  value: {{ join "," $v.suites | quote }}
- name: EVALUATOR_LIMIT
  value: {{ $v.limit | toString | quote }}
- name: EVALUATOR_SAMPLES
  value: {{ $v.samples | toString | quote }}
{{- with (include "verdict.grpcTls.clientEnv" (include "verdict.evaluatorPolicyClient" . | fromYaml | merge (dict "root" .)) | trim) }}
{{ . }}
{{- end }}
{{- end }}

{{/* The evaluator's policy-server client (EVALUATOR_POLICY_TLS_*) as YAML; merged with "root" by the callers. */}}
{{- define "verdict.evaluatorPolicyClient" -}}
values:
  tls:
    {{- toYaml (ternary .Values.policyServer.tls (dict "enabled" false) .Values.policyServer.enabled) | nindent 4 }}
path: policyServer
component: policy-server
target: policy
prefix: EVALUATOR_POLICY_TLS
clientCertSecret: {{ .Values.evaluator.policyTls.clientCertSecret | quote }}
clientCertPath: evaluator.policyTls.clientCertSecret
{{- end }}

{{/* The policy-server CA (and client certificate) for the evaluator's CronJob and server. */}}
{{- define "verdict.evaluatorClientVolumes" -}}
{{- include "verdict.grpcTls.clientVolume" (include "verdict.evaluatorPolicyClient" . | fromYaml | merge (dict "root" .)) }}
{{- end }}

{{- define "verdict.evaluatorClientMounts" -}}
{{- include "verdict.grpcTls.clientMount" (include "verdict.evaluatorPolicyClient" . | fromYaml | merge (dict "root" .)) }}
{{- end }}

{{- define "verdict.reportsClaimName" -}}
{{- .Values.evaluator.reports.existingClaim | default (printf "%s-evaluator-reports" (include "verdict.fullname" .)) }}
{{- end }}

{{- define "verdict.reportsVolume" -}}
- name: reports
{{- if or .Values.evaluator.reports.existingClaim .Values.evaluator.reports.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "verdict.reportsClaimName" . }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}
