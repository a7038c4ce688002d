{{/*
TLS of the policy-server, reward-service, learner and evaluator gRPC ports (<component>.tls, the
same shape as judgeServer.tls, whose own helpers are in _judge-tls.tpl) and of the in-chart
clients that dial them (evaluator -> policy-server: evaluator.policyTls; learner -> evaluator:
learner.evaluatorTls). Every helper takes a dict and renders nothing when the server's tls is off:
  "root" $  "values" .Values.policyServer  "path" "policyServer"  "prefix" "POLICY"
Servers mount their Secret (tls.crt, tls.key, client-ca.crt) at /etc/verdict/tls as volume
grpc-tls; clients get only ca.crt of it (never tls.key) plus, with mutual TLS, their own client
certificate, at /etc/verdict/<target>-tls as volume <target>-tls.
*/}}

{{- define "verdict.grpcTls.on" -}}
{{- /* The caller checks that the component itself is rendered. */}}
{{- if and .values.tls .values.tls.enabled }}true{{ end }}
{{- end }}

{{- define "verdict.grpcTls.mutual" -}}
{{- if and (include "verdict.grpcTls.on" .) .values.tls.clientCa.enabled }}true{{ end }}
{{- end }}

{{- define "verdict.grpcTls.secretName" -}}
{{- required (printf "%s.tls.existingSecret is required when %s.tls.enabled (a kubernetes.io/tls Secret: tls.crt, tls.key, ca.crt)" .path .path) .values.tls.existingSecret }}
{{- end }}

{{/* Fails the render when the plaintext health port would be the TLS gRPC port. */}}
{{- define "verdict.grpcTls.check" -}}
{{- if and (include "verdict.grpcTls.on" .) (eq (int .values.tls.healthPort) (int .values.port)) }}
{{- fail (printf "%s.tls.healthPort must differ from %s.port (the health port is plaintext, the gRPC port has TLS)" .path .path) }}
{{- end }}
{{- end }}

{{/* The health port the probes use: tls.healthPort with TLS on, else 0 (the gRPC port). */}}
{{- define "verdict.grpcTls.healthPort" -}}
{{- if include "verdict.grpcTls.on" . }}{{ int .values.tls.healthPort }}{{ else }}0{{ end }}
{{- end }}

{{/* The server container: <PREFIX>_TLS_* and <PREFIX>_HEALTH_PORT. */}}
{{- define "verdict.grpcTls.serverEnv" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: {{ .prefix }}_TLS_CERT_FILE
  value: /etc/verdict/tls/tls.crt
- name: {{ .prefix }}_TLS_KEY_FILE
  value: /etc/verdict/tls/tls.key
{{- if include "verdict.grpcTls.mutual" . }}
- name: {{ .prefix }}_TLS_CLIENT_CA_FILE
  value: /etc/verdict/tls/client-ca.crt
{{- end }}
- name: {{ .prefix }}_HEALTH_PORT
  value: {{ .values.tls.healthPort | toString | quote }}
{{- end }}
{{- end }}

{{- define "verdict.grpcTls.serverVolume" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: grpc-tls
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ include "verdict.grpcTls.secretName" . }}
          items:
            - key: tls.crt
              path: tls.crt
            - key: tls.key
              path: tls.key
      {{- if include "verdict.grpcTls.mutual" . }}
      - secret:
          name: {{ .values.tls.clientCa.existingSecret | default (include "verdict.grpcTls.secretName" .) }}
          items:
            - key: ca.crt
              path: client-ca.crt
      {{- end }}
{{- end }}
{{- end }}

{{- define "verdict.grpcTls.serverMount" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: grpc-tls
  mountPath: /etc/verdict/tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
Client side. dict
  "root" $  "values" .Values.policyServer  "path" "policyServer"  (the server dialled)
  "component" "policy-server"  "target" "policy"  (volume policy-tls at /etc/verdict/policy-tls)
  "prefix" "EVALUATOR_POLICY_TLS"  "clientCertSecret" .Values.evaluator.policyTls.clientCertSecret
  "clientCertPath" "evaluator.policyTls.clientCertSecret"
*/}}
{{- define "verdict.grpcTls.clientEnv" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: {{ .prefix }}
  value: "true"
- name: {{ .prefix }}_CA_FILE
  value: /etc/verdict/{{ .target }}-tls/ca.crt
{{- /* Always set: clients may dial a headless twin whose name the certificate need not carry. */}}
- name: {{ .prefix }}_SERVER_NAME
  value: {{ .values.tls.serverName | default (printf "%s-%s" (include "verdict.fullname" .root) .component) | quote }}
{{- if include "verdict.grpcTls.mutual" . }}
- name: {{ .prefix }}_CERT_FILE
  value: /etc/verdict/{{ .target }}-tls/tls.crt
- name: {{ .prefix }}_KEY_FILE
  value: /etc/verdict/{{ .target }}-tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{- define "verdict.grpcTls.clientVolume" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: {{ .target }}-tls
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ include "verdict.grpcTls.secretName" . }}
          items:
            - key: ca.crt
              path: ca.crt
      {{- if include "verdict.grpcTls.mutual" . }}
      - secret:
          name: {{ required (printf "%s is required when %s.tls.clientCa.enabled (a kubernetes.io/tls Secret: tls.crt, tls.key)" .clientCertPath .path) .clientCertSecret }}
          items:
            - key: tls.crt
              path: tls.crt
            - key: tls.key
              path: tls.key
      {{- end }}
{{- end }}
{{- end }}

{{- define "verdict.grpcTls.clientMount" -}}
{{- if include "verdict.grpcTls.on" . }}
- name: {{ .target }}-tls
  mountPath: /etc/verdict/{{ .target }}-tls
  readOnly: true
{{- end }}
{{- end }}
