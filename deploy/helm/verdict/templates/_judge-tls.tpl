{{/*
TLS of the judge-server's gRPC port (judgeServer.tls) and of its in-chart clients (the
reward-service and the helm test pod). Every helper takes the chart root and renders nothing
when judgeServer.tls.enabled is false. Clients get only ca.crt of the judge's Secret (never
its tls.key) plus, with mutual TLS, the client certificate from rewardService.judgeTls.clientCertSecret.
*/}}

{{- define "verdict.judgeTls.on" -}}
{{- if and .Values.judgeServer.enabled .Values.judgeServer.tls.enabled }}true{{ end }}
{{- end }}

{{- define "verdict.judgeTls.mutual" -}}
{{- if and (include "verdict.judgeTls.on" .) .Values.judgeServer.tls.clientCa.enabled }}true{{ end }}
{{- end }}

{{- define "verdict.judgeTls.secretName" -}}
{{- required "judgeServer.tls.existingSecret is required when judgeServer.tls.enabled (a kubernetes.io/tls Secret: tls.crt, tls.key, ca.crt)" .Values.judgeServer.tls.existingSecret }}
{{- end }}

{{- define "verdict.judgeTls.clientCertSecret" -}}
{{- required "rewardService.judgeTls.clientCertSecret is required when judgeServer.tls.clientCa.enabled (a kubernetes.io/tls Secret: tls.crt, tls.key)" .Values.rewardService.judgeTls.clientCertSecret }}
{{- end }}

{{/* The judge container: JUDGE_TLS_* and the plaintext health port for the probes. */}}
{{- define "verdict.judgeTls.serverEnv" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: JUDGE_TLS_CERT_FILE
  value: /etc/verdict/tls/tls.crt
- name: JUDGE_TLS_KEY_FILE
  value: /etc/verdict/tls/tls.key
{{- if include "verdict.judgeTls.mutual" . }}
- name: JUDGE_TLS_CLIENT_CA_FILE
  value: /etc/verdict/tls/client-ca.crt
{{- end }}
- name: JUDGE_HEALTH_PORT
  value: {{ .Values.judgeServer.tls.healthPort | toString | quote }}
{{- end }}
{{- end }}

{{- define "verdict.judgeTls.serverVolume" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: judge-tls
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ include "verdict.judgeTls.secretName" . }}
          items:
            - key: tls.crt
              path: tls.crt
            - key: tls.key
              path: tls.key
      {{- if include "verdict.judgeTls.mutual" . }}
      - secret:
          name: {{ .Values.judgeServer.tls.clientCa.existingSecret | default (include "verdict.judgeTls.secretName" .) }}
          items:
            - key: ca.crt
              path: client-ca.crt
      {{- end }}
{{- end }}
{{- end }}

{{- define "verdict.judgeTls.serverMount" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: judge-tls
  mountPath: /etc/verdict/tls
  readOnly: true
{{- end }}
{{- end }}

{{/* Client side (reward-service, helm test): ca.crt and, with mutual TLS, a client certificate. */}}
{{- define "verdict.judgeTls.clientVolume" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: judge-tls
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ include "verdict.judgeTls.secretName" . }}
          items:
            - key: ca.crt
              path: ca.crt
      {{- if include "verdict.judgeTls.mutual" . }}
      - secret:
          name: {{ include "verdict.judgeTls.clientCertSecret" . }}
          items:
            - key: tls.crt
              path: tls.crt
            - key: tls.key
              path: tls.key
      {{- end }}
{{- end }}
{{- end }}

{{- define "verdict.judgeTls.clientMount" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: judge-tls
  mountPath: /etc/verdict/judge-tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "verdict.judgeTls.rewardEnv" -}}
{{- if include "verdict.judgeTls.on" . }}
- name: REWARD_JUDGE_TLS
  value: "true"
- name: REWARD_JUDGE_TLS_CA_FILE
  value: /etc/verdict/judge-tls/ca.crt
{{- /* Always set: the reward-service dials the headless twin (dns:///...-headless), whose name
the certificate need not carry; it verifies the judge's service name instead. */}}
- name: REWARD_JUDGE_TLS_SERVER_NAME
  value: {{ .Values.judgeServer.tls.serverName | default (printf "%s-judge-server" (include "verdict.fullname" .)) | quote }}
{{- if include "verdict.judgeTls.mutual" . }}
- name: REWARD_JUDGE_TLS_CERT_FILE
  value: /etc/verdict/judge-tls/tls.crt
- name: REWARD_JUDGE_TLS_KEY_FILE
  value: /etc/verdict/judge-tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{/* `verdict judge --remote` flags of the helm test pod (one per line, YAML list items). */}}
{{- define "verdict.judgeTls.cliArgs" -}}
{{- if include "verdict.judgeTls.on" . }}
- --tls
- --ca
- /etc/verdict/judge-tls/ca.crt
{{- with .Values.judgeServer.tls.serverName }}
- --server-name
- {{ . | quote }}
{{- end }}
{{- if include "verdict.judgeTls.mutual" . }}
- --cert
- /etc/verdict/judge-tls/tls.crt
- --key
- /etc/verdict/judge-tls/tls.key
{{- end }}
{{- end }}
{{- end }}
