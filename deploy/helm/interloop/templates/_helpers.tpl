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

{{/* The public URL of the gateway: publicUrl, else the first Ingress host; empty when neither is set. */}}
{{- define "interloop.publicUrl" -}}
{{- $ing := .Values.ingress }}
{{- if .Values.publicUrl }}
{{- trimSuffix "/" .Values.publicUrl }}
{{- else if and $ing.enabled $ing.hosts }}
{{- $host := (first $ing.hosts).host }}
{{- $scheme := "http" }}
{{- range $ing.tls }}{{ if has $host .hosts }}{{ $scheme = "https" }}{{ end }}{{ end }}
{{- printf "%s://%s" $scheme $host }}
{{- end }}
{{- end }}

{{/* The public URL, required outside dev: without it candidate links would point at 127.0.0.1. */}}
{{- define "interloop.requiredPublicUrl" -}}
{{- $url := include "interloop.publicUrl" . }}
{{- if and (not $url) (ne .Values.environment "dev") }}
{{- fail (printf "publicUrl is required when environment is %q (or enable ingress with a host): candidate scheduling links and the gateway's public URL are built from it, and would otherwise point at http://127.0.0.1:8000" .Values.environment) }}
{{- end }}
{{- $url }}
{{- end }}

{{/*
Replica count of a Deployment. Without an HPA: services.<svc>.replicas. Under an HPA the count is the
HPA's: when the Deployment is already live (helm install/upgrade look it up) its current count is kept
(at least minReplicas), so Helm's three-way patch changes nothing — omitting the field instead would make
the patch delete it when autoscaling is switched on, and the API server would reset it to 1. Where there
is nothing to look up (first install, `helm template` for GitOps) the field is omitted.
*/}}
{{- define "interloop.replicas" -}}
{{- if include "interloop.autoscaled" . }}
{{- $live := lookup "apps/v1" "Deployment" .root.Release.Namespace (include "interloop.componentName" .) }}
{{- $current := dig "spec" "replicas" 0 $live | int }}
{{- if gt $current 0 }}
{{- printf "replicas: %d" (max $current (int .svc.autoscaling.minReplicas)) }}
{{- end }}
{{- else }}
{{- printf "replicas: %d" (int .svc.replicas) }}
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
{{- /* The migration Job applies migrations; serving pods only check the schema is current. */}}
{{- $_ := set $data (print $p "MIGRATE_ON_START") "false" }}
{{- $_ := set $data (print $p "TOPIC_PREFIX") .root.Values.kafka.topicPrefix }}
{{- $_ := set $data (print $p "KAFKA_TOPIC_PARTITIONS") (toString .root.Values.kafka.topics.partitions) }}
{{- $_ := set $data (print $p "KAFKA_TOPIC_REPLICATION") (toString .root.Values.kafka.topics.replication) }}
{{- $_ := set $data (print $p "KAFKA_RETENTION_HOURS") (toString .root.Values.kafka.topics.retentionHours) }}
{{- $k := .root.Values.kafka }}
{{- $_ := set $data (print $p "KAFKA_SECURITY_PROTOCOL") $k.securityProtocol }}
{{- if hasPrefix "SASL_" $k.securityProtocol }}
{{- $_ := set $data (print $p "KAFKA_SASL_MECHANISM") $k.sasl.mechanism }}
{{- $_ := set $data (print $p "KAFKA_SASL_USERNAME") (required (printf "kafka.sasl.username is required with kafka.securityProtocol %s" $k.securityProtocol) $k.sasl.username) }}
{{- $_ := required (printf "kafka.sasl.passwordSecretKey is required with kafka.securityProtocol %s: the key of the Secret holding the SASL password" $k.securityProtocol) $k.sasl.passwordSecretKey }}
{{- end }}
{{- if $k.tls.secretName }}
{{- if not (hasSuffix "SSL" $k.securityProtocol) }}
{{- fail (printf "kafka.tls.secretName needs kafka.securityProtocol SSL or SASL_SSL, not %s" $k.securityProtocol) }}
{{- end }}
{{- $_ := set $data (print $p "KAFKA_SSL_CAFILE") "/etc/interloop/kafka-tls/ca.crt" }}
{{- if $k.tls.clientCertificate }}
{{- $_ := set $data (print $p "KAFKA_SSL_CERTFILE") "/etc/interloop/kafka-tls/tls.crt" }}
{{- $_ := set $data (print $p "KAFKA_SSL_KEYFILE") "/etc/interloop/kafka-tls/tls.key" }}
{{- end }}
{{- end }}
{{- $ptls := .root.Values.partnerApi.tls }}
{{- if and $ptls.requireClientCertificate (not $ptls.secretName) }}
{{- fail "partnerApi.tls.requireClientCertificate needs partnerApi.tls.secretName: a Secret with tls.crt, tls.key and the ca.crt that signs partners' client certificates" }}
{{- end }}
{{- if and (eq .name "gateway") $ptls.secretName }}
{{- /* the partner gRPC API over TLS (and mutual TLS): files of the mounted Secret */}}
{{- $_ := set $data (print $p "PARTNER_TLS_CERT_FILE") "/etc/interloop/partner-tls/tls.crt" }}
{{- $_ := set $data (print $p "PARTNER_TLS_KEY_FILE") "/etc/interloop/partner-tls/tls.key" }}
{{- if $ptls.requireClientCertificate }}
{{- $_ := set $data (print $p "PARTNER_TLS_CLIENT_CA_FILE") "/etc/interloop/partner-tls/ca.crt" }}
{{- end }}
{{- end }}
{{- if not .root.Values.kafka.bootstrapServersSecretKey }}
{{- $_ := set $data (print $p "KAFKA_BOOTSTRAP_SERVERS") (required "kafka.bootstrapServers is required: the chart installs no Kafka; set it to your brokers (host:9092,…), or set kafka.bootstrapServersSecretKey to read them from the Secret" .root.Values.kafka.bootstrapServers) }}
{{- end }}
{{- if $svc.ports.http }}
{{- $_ := set $data (print $p "HTTP_HOST") "0.0.0.0" }}
{{- $_ := set $data (print $p "HTTP_PORT") (toString $svc.ports.http) }}
{{- with include "interloop.requiredPublicUrl" .root }}
{{- $_ := set $data (print $p "PUBLIC_URL") . }}
{{- end }}
{{- end }}
{{- if eq .name "scheduler" }}
{{- with include "interloop.requiredPublicUrl" .root }}
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
    secretKeyRef: {name: {{ $secret }}, key: {{ .databaseKey | default (printf "%s-database-url" .name) }}}
{{- if .databaseKey }}
{{- /* The migration Job as the owner role: it grants the service's own role its data privileges. */}}
- name: {{ $p }}RUNTIME_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ printf "%s-database-url" .name }}}
{{- end }}
{{- with .root.Values.kafka.bootstrapServersSecretKey }}
- name: {{ $p }}KAFKA_BOOTSTRAP_SERVERS
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ . }}}
{{- end }}
{{- if hasPrefix "SASL_" .root.Values.kafka.securityProtocol }}
- name: {{ $p }}KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ .root.Values.kafka.sasl.passwordSecretKey }}}
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

{{/* Secret keys the enabled services read: "<key>" -> "<svc> (<what>)", for the checks and NOTES. */}}
{{- define "interloop.secretKeys" -}}
{{- $keys := dict }}
{{- range $name, $svc := .Values.services }}
{{- if $svc.enabled }}
{{- $_ := set $keys (printf "%s-database-url" $name) (printf "services.%s reads it as INTERLOOP_%s_DATABASE_URL" $name (upper $name)) }}
{{- if $.Values.migrations.separateRole }}
{{- $_ := set $keys (printf "%s-migration-database-url" $name) (printf "the %s migration Job connects with it as the database's owner (migrations.separateRole)" $name) }}
{{- end }}
{{- range $suffix, $key := $svc.secretEnv }}
{{- $_ := set $keys $key (printf "services.%s reads it as INTERLOOP_%s_%s" $name (upper $name) $suffix) }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.kafka.bootstrapServersSecretKey }}
{{- $_ := set $keys . "kafka.bootstrapServersSecretKey names it" }}
{{- end }}
{{- if and (hasPrefix "SASL_" .Values.kafka.securityProtocol) .Values.kafka.sasl.passwordSecretKey }}
{{- $_ := set $keys .Values.kafka.sasl.passwordSecretKey "kafka.sasl.passwordSecretKey names it: the SASL password" }}
{{- end }}
{{- toYaml $keys }}
{{- end }}

{{/*
The chart-created Secret's data: exactly the values given, nothing generated, so every render of the same
values is the same Secret (GitOps) and a reinstall keeps the keys. Fails on a key an enabled service reads
that is missing or empty, saying what to put there.
*/}}
{{- define "interloop.secretData" -}}
{{- $needed := include "interloop.secretKeys" . | fromYaml }}
{{- $given := .Values.secrets.data | default dict }}
{{- range $key, $why := $needed }}
{{- if not (index $given $key) }}
{{- if hasSuffix "-database-url" $key }}
{{- fail (printf "secrets.data.%s is required (%s): the chart installs no PostgreSQL; set it to postgresql://USER:PASSWORD@HOST:5432/DATABASE, or set secrets.existingSecret" $key $why) }}
{{- else if hasSuffix "-keys" $key }}
{{- fail (printf "secrets.data.%s is required (%s): comma-separated Fernet keys, newest first; the chart generates none (a generated key would change on every render and reinstall); create one with `openssl rand -base64 32 | tr '+/' '-_'` and keep it with your values, or set secrets.existingSecret" $key $why) }}
{{- else }}
{{- fail (printf "secrets.data.%s is required (%s): the chart generates no keys (a generated key would change on every render and reinstall); create one with `openssl rand -base64 32 | tr '+/' '-_'` and keep it with your values, or set secrets.existingSecret" $key $why) }}
{{- end }}
{{- end }}
{{- if hasSuffix "-keys" $key }}
{{- range splitList "," (index $given $key) }}
{{- if not (regexMatch "^[A-Za-z0-9_-]{43}=$" (trim .)) }}
{{- fail (printf "secrets.data.%s holds something that is not a Fernet key (32 random bytes, url-safe base64: 44 characters ending in '='); create one with `openssl rand -base64 32 | tr '+/' '-_'`" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $data := dict }}
{{- range $key, $value := $given }}
{{- if $value }}
{{- $_ := set $data $key (toString $value | b64enc) }}
{{- end }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* The migration Job's pod template (its hash names the Job). */}}
{{- define "interloop.migrationPod" -}}
{{- $ctx := .ctx }}
{{- $root := $ctx.root }}
metadata:
  labels:
    {{- include "interloop.podLabels" .jobCtx | nindent 4 }}
    interloop.dev/service: {{ $ctx.name }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ .fullname }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $ctx.svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $ctx.svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: migrate
      image: {{ include "interloop.image" $ctx }}
      imagePullPolicy: {{ $root.Values.imagePullPolicy }}
      command: ["python", "-m", {{ .module | quote }}, "migrate", "--wait", {{ $root.Values.migrations.lockWaitSeconds | quote }}]
      envFrom:
        - configMapRef:
            name: {{ .fullname }}
      env:
        {{- $envCtx := $ctx }}
        {{- if $root.Values.migrations.separateRole }}
        {{- $envCtx = merge (dict "databaseKey" (printf "%s-migration-database-url" $ctx.name)) $ctx }}
        {{- end }}
        {{- include "interloop.env" $envCtx | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      resources:
        {{- toYaml $ctx.svc.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
{{- end }}
