{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "tickstream.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "tickstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels selecting one component's pods: call with (list $ "bridge"). */}}
{{- define "tickstream.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "tickstream.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tickstream.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tickstream.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The environment every tickstreamd shares: brokers, data directory, logs, secret Kafka properties. */}}
{{- define "tickstream.env" -}}
- name: TICKSTREAM_BROKERS
  value: {{ required "kafka.brokers is required" .Values.kafka.brokers | quote }}
- name: TICKSTREAM_REPLICATION_FACTOR
  value: {{ .Values.kafka.replicationFactor | quote }}
- name: TICKSTREAM_DATA_DIR
  value: /var/lib/tickstream
- name: TICKSTREAM_LOG_FORMAT
  value: json
{{- range .Values.kafka.secretProperties }}
- name: {{ printf "TICKSTREAM_KAFKA__%s" (.property | replace "." "_" | upper) }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .secretKey }}
{{- end }}
{{- end -}}

{{/* Imports the API keys into the pod's empty store before tickstreamd starts. */}}
{{- define "tickstream.importKeys" -}}
- name: import-keys
  image: {{ include "tickstream.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["/bin/sh", "-ec"]
  args:
    - |
      {{- range .Values.apiKeys.keys }}
      tickstreamd keys import --name {{ .name }} --scope {{ .scope }} --key-file /etc/tickstream/keys/{{ .secretKey }}
      {{- end }}
  env:
    - name: TICKSTREAM_DATA_DIR
      value: /var/lib/tickstream
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: data
      mountPath: /var/lib/tickstream
    - name: keys
      mountPath: /etc/tickstream/keys
      readOnly: true
{{- end -}}

{{/* The config file and the keys, as volumes. */}}
{{- define "tickstream.configVolumes" -}}
- name: config
  configMap:
    name: {{ include "tickstream.fullname" . }}
- name: keys
  secret:
    secretName: {{ required "apiKeys.secretName is required: tickstreamd listens beyond loopback and needs keys" .Values.apiKeys.secretName }}
    defaultMode: 0400
{{- end -}}

{{/* Liveness on /healthz, readiness on /readyz, at `port`: call with (list $ port). */}}
{{- define "tickstream.probes" -}}
{{- $port := index . 1 -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ $port }}}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: {{ $port }}}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: {{ $port }}}
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}

{{/* Egress to DNS and the Kafka brokers' ports. */}}
{{- define "tickstream.egress" -}}
- ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
- ports:
    {{- range .Values.kafka.ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end -}}
