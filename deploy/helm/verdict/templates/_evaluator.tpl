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
