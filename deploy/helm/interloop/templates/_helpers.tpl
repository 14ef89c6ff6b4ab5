{{/*
Helpers shared by every template. Per-service helpers take a context built with
  dict "root" $ "name" <service name> "svc" <services.<name> entry>
*/}}

{{- define "interloop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "interloop.fullname" -}}
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

{{- define "interloop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-interloop-<svc>": the Deployment, Service, ServiceAccount, ConfigMap, … of one service. */}}
{{- define "interloop.componentName" -}}
{{- printf "%s-%s" (include "interloop.fullname" .root | trunc 50 | trimSuffix "-") .name }}
{{- end }}

{{- define "interloop.secretName" -}}
{{- default (printf "%s-secrets" (include "interloop.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "interloop.imageTag" -}}
{{- default .root.Chart.AppVersion .svc.image.tag }}
{{- end }}

{{- define "interloop.image" -}}
{{- if .svc.image.digest }}
{{- printf "%s@%s" .svc.image.repository .svc.image.digest }}
{{- else }}
{{- printf "%s:%s" .svc.image.repository (include "interloop.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Selector labels: stable for the life of a release, so no version in them. */}}
{{- define "interloop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "interloop.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Labels for pod templates: selector labels plus what may change between releases. */}}
{{- define "interloop.podLabels" -}}
{{ include "interloop.selectorLabels" . }}
app.kubernetes.io/part-of: interloop
app.kubernetes.io/version: {{ include "interloop.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
{{- end }}

{{- define "interloop.labels" -}}
helm.sh/chart: {{ include "interloop.chart" .root }}
{{ include "interloop.podLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* Labels of chart-wide objects (Secret, default-deny policy): no component. */}}
{{- define "interloop.commonLabels" -}}
helm.sh/chart: {{ include "interloop.chart" . }}
app.kubernetes.io/name: {{ include "interloop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: interloop
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selects every pod of this release (services and test pods). */}}
{{- define "interloop.releaseSelector" -}}
app.kubernetes.io/name: {{ include "interloop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "interloop.envPrefix" -}}
{{- printf "INTERLOOP_%s_" (upper .name) }}
{{- end }}

{{/* True when an HPA owns the replica count of this service. */}}
{{- define "interloop.autoscaled" -}}
{{- if and .root.Values.autoscaling.enabled .svc.autoscaling.enabled }}true{{- end }}
{{- end }}

{{/* "host:port" of a service's gRPC endpoint inside the cluster. */}}
{{- define "interloop.grpcTarget" -}}
{{- /* gRPC keeps one HTTP/2 connection per target: through a ClusterIP every call would go to one pod.
The headless Service resolves to every ready pod and the client balances calls round-robin over them. */ -}}
{{- $callee := index .root.Values.services .callee }}
{{- printf "dns:///%s-headless.%s.svc:%v" (include "interloop.componentName" (dict "root" .root "name" .callee)) .root.Release.Namespace $callee.ports.grpc }}
{{- end }}

{{/* The public URL of the gateway: the first Ingress host when there is one. */}}
{{- define "interloop.publicUrl" -}}
{{- $ing := .Values.ingress }}
{{- if and $ing.enabled $ing.hosts }}
{{- $host := (first $ing.hosts).host }}
{{- $scheme := "http" }}
{{- range $ing.tls }}{{ if has $host .hosts }}{{ $scheme = "https" }}{{ end }}{{ end }}
{{- printf "%s://%s" $scheme $host }}
{{- end }}
{{- end }}

{{/*
Plain (non-secret) settings of one service, as a YAML map: the ConfigMap's data and the input of the
checksum/config annotation, so a change rolls only that service's pods.
*/}}
{{- define "interloop.configData" -}}
{{- $p := include "interloop.envPrefix" . }}
{{- $svc := .svc }}
{{- $data := dict }}
{{- $_ := set $data (print $p "GRPC_HOST") "0.0.0.0" }}
{{- $_ := set $data (print $p "GRPC_PORT") (toString $svc.ports.grpc) }}
{{- $_ := set $data (print $p "METRICS_PORT") (toString $svc.ports.metrics) }}
{{- $_ := set $data (print $p "LOG_LEVEL") .root.Values.logLevel }}
{{- $_ := set $data (print $p "TOPIC_PREFIX") .root.Values.kafka.topicPrefix }}
{{- $_ := set $data (print $p "KAFKA_TOPIC_PARTITIONS") (toString .root.Values.kafka.topics.partitions) }}
{{- $_ := set $data (print $p "KAFKA_TOPIC_REPLICATION") (toString .root.Values.kafka.topics.replication) }}
{{- $_ := set $data (print $p "KAFKA_RETENTION_HOURS") (toString .root.Values.kafka.topics.retentionHours) }}
{{- if not .root.Values.kafka.bootstrapServersSecretKey }}
{{- $_ := set $data (print $p "KAFKA_BOOTSTRAP_SERVERS") (required "kafka.bootstrapServers (or kafka.bootstrapServersSecretKey) is required" .root.Values.kafka.bootstrapServers) }}
{{- end }}
{{- if $svc.ports.http }}
{{- $_ := set $data (print $p "HTTP_HOST") "0.0.0.0" }}
{{- $_ := set $data (print $p "HTTP_PORT") (toString $svc.ports.http) }}
{{- with include "interloop.publicUrl" .root }}
{{- $_ := set $data (print $p "PUBLIC_URL") . }}
{{- end }}
{{- end }}
{{- if eq .name "scheduler" }}
{{- with include "interloop.publicUrl" .root }}
{{- /* candidate scheduling links open the gateway's /schedule/<token> page */}}
{{- $_ := set $data (print $p "PUBLIC_BASE_URL") . }}
{{- end }}
{{- end }}
{{- range $callee := $svc.calls }}
{{- $c := index $.root.Values.services $callee | default dict }}
{{- if not $c.enabled }}
{{- fail (printf "services.%s.calls lists %q, which is not an enabled service: enable services.%s or remove it from calls" $.name $callee $callee) }}
{{- end }}
{{- $_ := set $data (printf "%s%s_TARGET" $p (upper $callee)) (include "interloop.grpcTarget" (dict "root" $.root "callee" $callee)) }}
{{- end }}
{{- $_ := set $data "PYTHONDONTWRITEBYTECODE" "1" }}
{{- $_ := set $data "PYTHONUNBUFFERED" "1" }}
{{- range $k, $v := $svc.env }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* Env entries that are not in the ConfigMap: secrets, downward API, OpenTelemetry. */}}
{{- define "interloop.env" -}}
{{- $p := include "interloop.envPrefix" . }}
{{- $secret := include "interloop.secretName" .root -}}
- name: POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: POD_NAMESPACE
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: NODE_NAME
  valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
- name: {{ $p }}DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ printf "%s-database-url" .name }}}
{{- with .root.Values.kafka.bootstrapServersSecretKey }}
- name: {{ $p }}KAFKA_BOOTSTRAP_SERVERS
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ . }}}
{{- end }}
{{- range $suffix, $key := .svc.secretEnv }}
- name: {{ $p }}{{ $suffix }}
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $key }}}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ .name }}
{{- with .root.Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- $attrs := list "service.namespace=interloop" (printf "service.version=%s" (include "interloop.imageTag" .)) (printf "deployment.environment.name=%s" .root.Values.environment) "k8s.namespace.name=$(POD_NAMESPACE)" "k8s.pod.name=$(POD_NAME)" "k8s.node.name=$(NODE_NAME)" }}
{{- range $k, $v := .root.Values.telemetry.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%v" $k $v) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- with .svc.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The chart-created Secret's data (dev); empty values are generated once and kept across upgrades. */}}
{{- define "interloop.secretData" -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "interloop.secretName" .) }}
{{- $old := dict }}
{{- if $existing }}{{ $old = $existing.data | default dict }}{{ end }}
{{- $data := dict }}
{{- range $k, $v := .Values.secrets.data }}
{{- if $v }}
{{- $_ := set $data $k (toString $v | b64enc) }}
{{- else if hasKey $old $k }}
{{- $_ := set $data $k (index $old $k) }}
{{- else }}
{{- $_ := set $data $k (randBytes 32 | replace "+" "-" | replace "/" "_" | b64enc) }}
{{- end }}
{{- end }}
{{- toYaml $data }}
{{- end }}
