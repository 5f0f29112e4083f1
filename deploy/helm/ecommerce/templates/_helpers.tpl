{{/*
Names, labels and the small pieces every template shares.
Every object name comes from "ecommerce.fullname" so any release name works,
and two releases can live in one namespace.
*/}}

{{- define "ecommerce.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ecommerce.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The name of one component's objects: <fullname>-<component>, at most 63 characters.
The release part is shortened, never the component, so names stay distinct.
*/}}
{{- define "ecommerce.componentName" -}}
{{- $room := int (sub 62 (len .component)) -}}
{{- printf "%s-%s" (include "ecommerce.fullname" .root | trunc $room | trimSuffix "-") .component -}}
{{- end -}}

{{- define "ecommerce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component (dict "root" $ "component" "user-service"). */}}
{{- define "ecommerce.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecommerce.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Standard labels of one component. */}}
{{- define "ecommerce.labels" -}}
helm.sh/chart: {{ include "ecommerce.chart" .root }}
{{ include "ecommerce.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ include "ecommerce.name" .root }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The four Django services: their values key, component name, Python package,
store, and whether they use the broker and the shared cache (Redis). The one table the templates loop over.
*/}}
{{- define "ecommerce.services" -}}
userService:
  component: user-service
  module: user_service
  store: postgresql
  database: users
  broker: false
  cache: true
productService:
  component: product-service
  module: product_service
  store: mongodb
  broker: false
  cache: true
orderService:
  component: order-service
  module: order_service
  store: postgresql
  database: orders
  broker: true
  cache: true
integrationService:
  component: integration-service
  module: integration_service
  store: postgresql
  database: integration
  broker: true
  cache: false
{{- end -}}

{{/* The image reference of one service (dict "root" $ "image" .Values.xService.image). */}}
{{- define "ecommerce.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .image.digest -}}
{{- printf "%s%s@%s" (ternary "" (printf "%s/" $registry) (empty $registry)) .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s%s:%s" (ternary "" (printf "%s/" $registry) (empty $registry)) .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "ecommerce.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "ecommerce.componentName" . -}}
{{- else -}}
{{- default "default" .root.Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding every generated or given secret value. */}}
{{- define "ecommerce.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "ecommerce.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "ecommerce.configMapName" -}}
{{- include "ecommerce.componentName" (dict "root" . "component" "config") -}}
{{- end -}}

{{/* In-cluster URL of a web service (dict "root" $ "key" "userService"). */}}
{{- define "ecommerce.serviceUrl" -}}
{{- $svc := get (fromYaml (include "ecommerce.services" .root)) .key -}}
{{- $values := get .root.Values .key -}}
{{- printf "http://%s:%v" (include "ecommerce.componentName" (dict "root" .root "component" $svc.component)) $values.service.port -}}
{{- end -}}

{{/* Hosts Django accepts: the ingress host, the in-cluster names, and localhost (probes). */}}
{{- define "ecommerce.allowedHosts" -}}
{{- if .Values.config.allowedHosts -}}
{{- join "," .Values.config.allowedHosts -}}
{{- else if and .Values.ingress.enabled (not .Values.ingress.host) -}}
*
{{- else -}}
{{- $hosts := list "localhost" "127.0.0.1" -}}
{{- if and .Values.ingress.enabled .Values.ingress.host -}}
{{- $hosts = append $hosts .Values.ingress.host -}}
{{- end -}}
{{- if .Values.ingress.docs.enabled -}}
{{- range $key, $host := .Values.ingress.docs.hosts -}}
{{- if $host }}{{ $hosts = append $hosts $host }}{{ end -}}
{{- end -}}
{{- end -}}
{{- range $key, $svc := fromYaml (include "ecommerce.services" .) -}}
{{- $name := include "ecommerce.componentName" (dict "root" $ "component" $svc.component) -}}
{{- $hosts = concat $hosts (list $name (printf "%s.%s" $name $.Release.Namespace) (printf "%s.%s.svc" $name $.Release.Namespace) (printf "%s.%s.svc.%s" $name $.Release.Namespace $.Values.clusterDomain)) -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}
{{- end -}}

{{/* Host, port and scheme of each backing store: in-chart or external. */}}
{{- define "ecommerce.postgresql.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "ecommerce.componentName" (dict "root" . "component" "postgresql") -}}
{{- else -}}
{{- required "externalPostgresql.host is required when postgresql.enabled is false" .Values.externalPostgresql.host -}}
{{- end -}}
{{- end -}}

{{- define "ecommerce.postgresql.port" -}}
{{- if .Values.postgresql.enabled -}}5432{{- else -}}{{ .Values.externalPostgresql.port }}{{- end -}}
{{- end -}}

{{/* (dict "root" $ "database" "users") → {name, username} of that logical database. */}}
{{- define "ecommerce.postgresql.database" -}}
{{- if .root.Values.postgresql.enabled -}}
{{- toYaml (get .root.Values.postgresql.databases .database) -}}
{{- else -}}
{{- toYaml (get .root.Values.externalPostgresql.databases .database) -}}
{{- end -}}
{{- end -}}

{{- define "ecommerce.mongodb.host" -}}
{{- if .Values.mongodb.enabled -}}
{{- include "ecommerce.componentName" (dict "root" . "component" "mongodb") -}}
{{- else -}}
{{- required "externalMongodb.host is required when mongodb.enabled is false" .Values.externalMongodb.host -}}
{{- end -}}
{{- end -}}

{{- define "ecommerce.rabbitmq.host" -}}
{{- if .Values.rabbitmq.enabled -}}
{{- include "ecommerce.componentName" (dict "root" . "component" "rabbitmq") -}}
{{- else -}}
{{- required "externalRabbitmq.host is required when rabbitmq.enabled is false" .Values.externalRabbitmq.host -}}
{{- end -}}
{{- end -}}

{{/*
Environment of a Django container (dict "root" $ "key" "orderService").
Non-secret settings come from the ConfigMap (envFrom); secrets are referenced key by key,
and the connection URLs that embed a password are composed by Kubernetes from $(VAR)
references, so no password is ever written into a pod spec or ConfigMap.
*/}}
{{- define "ecommerce.djangoEnv" -}}
{{- $root := .root -}}
{{- $svc := get (fromYaml (include "ecommerce.services" $root)) .key -}}
{{- $values := get $root.Values .key -}}
{{- $secret := include "ecommerce.secretName" $root -}}
- name: PORT
  value: {{ $values.service.port | quote }}
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $svc.component }}-secret-key
- name: INTERNAL_API_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: internal-api-tokens
{{- if eq $svc.store "postgresql" }}
{{- $db := fromYaml (include "ecommerce.postgresql.database" (dict "root" $root "database" $svc.database)) }}
{{- $params := ternary "" (printf "?sslmode=%s" $root.Values.externalPostgresql.sslmode) (or $root.Values.postgresql.enabled (empty $root.Values.externalPostgresql.sslmode)) }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $svc.database }}-database-password
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DATABASE_PASSWORD)@%s:%s/%s%s" $db.username (include "ecommerce.postgresql.host" $root) (include "ecommerce.postgresql.port" $root) $db.name $params | quote }}
{{- else if eq $svc.store "mongodb" }}
{{- $mongo := ternary $root.Values.mongodb.auth $root.Values.externalMongodb $root.Values.mongodb.enabled }}
{{- $port := ternary 27017 $root.Values.externalMongodb.port $root.Values.mongodb.enabled }}
{{- $options := ternary "" $root.Values.externalMongodb.options $root.Values.mongodb.enabled }}
- name: MONGODB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: mongodb-password
- name: MONGODB_URI
  value: {{ printf "mongodb://%s:$(MONGODB_PASSWORD)@%s:%v/%s%s" $mongo.username (include "ecommerce.mongodb.host" $root) $port $mongo.database (ternary "" (printf "?%s" $options) (empty $options)) | quote }}
{{- end }}
{{- if $svc.broker }}
{{- $rabbit := ternary $root.Values.rabbitmq.auth $root.Values.externalRabbitmq $root.Values.rabbitmq.enabled }}
{{- $scheme := ternary "amqp" (ternary "amqps" "amqp" $root.Values.externalRabbitmq.tls) $root.Values.rabbitmq.enabled }}
{{- $port := ternary 5672 $root.Values.externalRabbitmq.port $root.Values.rabbitmq.enabled }}
- name: RABBITMQ_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: rabbitmq-password
- name: CELERY_BROKER_URL
  value: {{ printf "%s://%s:$(RABBITMQ_PASSWORD)@%s:%v/%s" $scheme $rabbit.username (include "ecommerce.rabbitmq.host" $root) $port $rabbit.vhost | quote }}
{{- end }}
{{- with $values.payment }}
- name: PAYMENT_GATEWAY
  value: {{ .gateway | quote }}
- name: PAYMENT_SIMULATOR_ALLOWED
  value: {{ .allowSimulator | quote }}
{{- end }}
{{- if and $svc.cache $root.Values.redis.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: redis-password
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "ecommerce.componentName" (dict "root" $root "component" "redis")) | quote }}
{{- else if and $svc.cache $root.Values.externalRedis.enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: redis-url
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* envFrom of a Django container: the shared, non-secret settings. */}}
{{- define "ecommerce.djangoEnvFrom" -}}
- configMapRef:
    name: {{ include "ecommerce.configMapName" . }}
{{- end -}}

{{/* Pod-level settings shared by every pod the chart runs for the services. */}}
{{- define "ecommerce.podSpecCommon" -}}
automountServiceAccountToken: false
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The init container that holds a pod back until its database schema is migrated
(the migration Job runs after install and before upgrade, see job.yaml).
(dict "root" $ "key" "orderService")
*/}}
{{- define "ecommerce.waitForMigrations" -}}
{{- $root := .root -}}
{{- $svc := get (fromYaml (include "ecommerce.services" $root)) .key -}}
{{- $values := get $root.Values .key -}}
- name: wait-for-migrations
  image: {{ include "ecommerce.image" (dict "root" $root "image" $values.image) }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  workingDir: /app/{{ $svc.module }}
  command:
    - sh
    - -c
    - |
      until out=$(python manage.py migrate --check 2>&1); do
        echo "waiting for the {{ $svc.module }} migrations (applied by the migration Job): $(printf '%s' "$out" | tail -n 1)"
        sleep 5
      done
  envFrom:
    {{- include "ecommerce.djangoEnvFrom" $root | nindent 4 }}
  env:
    {{- include "ecommerce.djangoEnv" . | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml $root.Values.migrations.resources | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{/* The non-secret settings every Django process reads (the ConfigMap's data). */}}
{{- define "ecommerce.settings" -}}
DJANGO_DEBUG: {{ .Values.config.debug | quote }}
DJANGO_ALLOWED_HOSTS: {{ include "ecommerce.allowedHosts" . | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
LOG_FORMAT: {{ .Values.config.logFormat | quote }}
WEB_CONCURRENCY: {{ .Values.config.webConcurrency | quote }}
USER_SERVICE_URL: {{ include "ecommerce.serviceUrl" (dict "root" . "key" "userService") | quote }}
PRODUCT_SERVICE_URL: {{ include "ecommerce.serviceUrl" (dict "root" . "key" "productService") | quote }}
ORDER_SERVICE_URL: {{ include "ecommerce.serviceUrl" (dict "root" . "key" "orderService") | quote }}
TRUSTED_PROXY_COUNT: {{ ternary (ternary 1 0 .Values.ingress.enabled) .Values.config.trustedProxyCount (kindIs "invalid" .Values.config.trustedProxyCount) | quote }}
{{- $secure := ternary .Values.ingress.tls.enabled .Values.config.secureCookies (kindIs "invalid" .Values.config.secureCookies) }}
AUTH_COOKIE_SECURE: {{ $secure | quote }}
DJANGO_SECURE_COOKIES: {{ $secure | quote }}
PYTHONUNBUFFERED: "1"
TMPDIR: /tmp
HOME: /tmp
VAR_DIR: /tmp/var
WORKER_HEARTBEAT_FILE: /tmp/worker-heartbeat
CELERY_BEAT_DIR: /var/lib/celery-beat
CACHE_KEY_PREFIX: {{ .Values.redis.keyPrefix | default (include "ecommerce.fullname" .) | quote }}
{{- range $name, $value := .Values.config.extra }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Security context, pod settings and volume claim of an in-chart store (UID 999 in the official images). */}}
{{- define "ecommerce.storeSecurityContext" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .readOnlyRootFilesystem }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
{{- define "ecommerce.storePodSpecCommon" -}}
automountServiceAccountToken: false
serviceAccountName: {{ include "ecommerce.serviceAccountName" (dict "root" .root "component" .component) }}
securityContext:
  runAsNonRoot: true
  runAsUser: 999
  runAsGroup: 999
  fsGroup: 999
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
{{- define "ecommerce.storeVolumeClaim" -}}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "ecommerce.selectorLabels" (dict "root" .root "component" .component) | nindent 8 }}
    spec:
      accessModes: ["ReadWriteOnce"]
      {{- with .values.persistence.storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .values.persistence.size }}
{{- end -}}

{{/* With ingress.requireTls (values-production.yaml): no render without a host and TLS. */}}
{{- define "ecommerce.requireSecure" -}}
{{- if .Values.ingress.requireTls -}}
{{- if not (and .Values.ingress.enabled .Values.ingress.host) -}}
{{- fail "ingress.requireTls: set ingress.host to the shop's host name (e.g. --set ingress.host=shop.example.com)" -}}
{{- end -}}
{{- if not .Values.ingress.tls.enabled -}}
{{- fail "ingress.requireTls: set ingress.tls.enabled=true (and ingress.tls.secretName, or let cert-manager make <fullname>-tls)" -}}
{{- end -}}
{{- if eq (include "ecommerce.allowedHosts" .) "*" -}}
{{- fail "ingress.requireTls: config.allowedHosts may not be *" -}}
{{- end -}}
{{- if and (not (kindIs "invalid" .Values.config.secureCookies)) (not .Values.config.secureCookies) -}}
{{- fail "ingress.requireTls: config.secureCookies may not be false" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The simulated payment gateway only where allowed: order_service would refuse to start. */}}
{{- define "ecommerce.requirePaymentGateway" -}}
{{- $payment := .Values.orderService.payment -}}
{{- if and (eq $payment.gateway "payments.gateway.SimulatedGateway") (not $payment.allowSimulator) -}}
{{- fail "orderService.payment: the simulated gateway takes no money; set orderService.payment.gateway to your provider's class (or allowSimulator=true for a demo)" -}}
{{- end -}}
{{- end -}}

{{/* Whether the release is served as a shop must be: a host, over TLS. */}}
{{- define "ecommerce.insecure" -}}
{{- if not (and .Values.ingress.enabled .Values.ingress.host .Values.ingress.tls.enabled) -}}true{{- end -}}
{{- end -}}

{{/* Scrape annotations of a pod serving /metrics (prometheus.io/*), when metrics are on. */}}
{{- define "ecommerce.metricsAnnotations" -}}
{{- if .Values.metrics.enabled -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}
