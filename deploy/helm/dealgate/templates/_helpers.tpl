{{- define "dealgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dealgate.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one process: dict "root" $ "component" "deals-api" "service" "deals" */}}
{{- define "dealgate.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "dealgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "dealgate.secretName" -}}
{{ include "dealgate.fullname" . }}
{{- end -}}

{{/* The environment every process of a service reads (shared/config.py and the service's settings.py). */}}
{{- define "dealgate.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
- name: DEALGATE_ENV
  value: {{ $v.environment | quote }}
- name: DEALGATE_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: {{ upper .service }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.postgresql.existingSecret | default (include "dealgate.secretName" $root) }}
      key: {{ index $v.postgresql.keys .service }}
# The relay runs in its own pod, so the API's UDP doorbell (127.0.0.1) cannot reach it: the relay polls instead.
- name: {{ upper .service }}_RELAY_DOORBELL_PORT
  value: "0"
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $v.kafka.bootstrapServers | quote }}
- name: DEALGATE_KAFKA_REPLICATION_FACTOR
  value: {{ $v.kafka.replicationFactor | quote }}
- name: DEALGATE_KAFKA_MIN_INSYNC_REPLICAS
  value: {{ $v.kafka.minInsyncReplicas | quote }}
- name: DEALGATE_KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.securityProtocol | quote }}
{{- if $v.kafka.sasl.mechanism }}
- name: DEALGATE_KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
- name: DEALGATE_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret | default (include "dealgate.secretName" $root) }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: DEALGATE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret | default (include "dealgate.secretName" $root) }}
      key: {{ $v.kafka.sasl.passwordKey }}
{{- end }}
{{- with $v.kafka.tls }}
{{- if .existingSecret }}
- name: DEALGATE_KAFKA_SSL_CAFILE
  value: /etc/dealgate/kafka-tls/{{ .caKey }}
{{- if .certKey }}
- name: DEALGATE_KAFKA_SSL_CERTFILE
  value: /etc/dealgate/kafka-tls/{{ .certKey }}
- name: DEALGATE_KAFKA_SSL_KEYFILE
  value: /etc/dealgate/kafka-tls/{{ .keyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- with $v.auth }}
{{- if and .existingSecret .oidcIssuerKey }}
- name: DEALGATE_OIDC_ISSUER
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .oidcIssuerKey }}
{{- else if .oidc.issuer }}
- name: DEALGATE_OIDC_ISSUER
  value: {{ .oidc.issuer | quote }}
{{- end }}
- name: DEALGATE_OIDC_AUDIENCE
  value: {{ .oidc.audience | quote }}
- name: DEALGATE_OIDC_ROLE_CLAIM
  value: {{ .oidc.roleClaim | quote }}
- name: DEALGATE_OIDC_PARTNER_ID_CLAIM
  value: {{ .oidc.partnerIdClaim | quote }}
- name: DEALGATE_OIDC_CHANNEL_CLAIM
  value: {{ .oidc.channelClaim | quote }}
- name: DEALGATE_OIDC_DESK_CLIENT_ID
  value: {{ .oidc.deskClientId | quote }}
- name: DEALGATE_OIDC_MAX_TOKEN_LIFETIME_S
  value: {{ .oidc.maxTokenLifetimeSeconds | quote }}
{{- if or .existingSecret .jwtSecret }}
- name: DEALGATE_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret | default (include "dealgate.secretName" $root) }}
      key: {{ .jwtSecretKey }}
      optional: {{ not .jwtSecret }}
{{- end }}
{{- end }}
{{- if and (eq .service "conflict") (ne .component "conflict-migrate") }}
- name: CONFLICT_RULES_FILE
  value: /etc/dealgate/rules/rules.yaml
{{- end }}
{{- range $name, $value := $v.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "dealgate.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/dealgate/kafka-tls
  readOnly: true
{{- end }}
{{- if and (eq .service "conflict") (ne .component "conflict-migrate") }}
- name: rules
  mountPath: /etc/dealgate/rules
  readOnly: true
{{- end }}
{{- end -}}

{{- define "dealgate.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .root.Values.kafka.tls.existingSecret }}
{{- end }}
{{- if and (eq .service "conflict") (ne .component "conflict-migrate") }}
- name: rules
  configMap:
    name: {{ include "dealgate.fullname" .root }}-rules
{{- end }}
{{- end -}}

{{- define "dealgate.podScheduling" -}}
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
