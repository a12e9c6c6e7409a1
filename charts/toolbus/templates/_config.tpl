{{/*
Configuration and secrets of a service: the ConfigMap's data, the secret references, and the
environment of its containers.
*/}}

{{/*
How long in-flight work may finish after SIGTERM: the grace period minus the preStop sleep,
with 2 s to spare so the process exits before the kubelet kills it.
*/}}
{{- define "toolbus.shutdownDeadlineMs" -}}
{{- $g := .Values.global -}}
{{- mul (max 1 (sub (sub $g.terminationGracePeriodSeconds $g.preStopSleepSeconds) 2)) 1000 -}}
{{- end }}

{{/*
The ConfigMap data (non-secret environment). Common variables first, then the service's own
(`.config`), then the user's `env`. Values are strings, as environment variables are. Each name
is one the service's config spec reads: scripts/charts/env-check.py holds every render to that.
*/}}
{{- define "toolbus.configData" -}}
{{- $root := .root -}}
{{- $v := .v -}}
{{- $data := dict
  "HOST" "0.0.0.0"
  "PORT" (toString .port)
  "MANAGEMENT_PORT" (toString .management)
  "LOG_LEVEL" ($v.logLevel | default $root.Values.global.logLevel)
  "SHUTDOWN_DEADLINE_MS" (include "toolbus.shutdownDeadlineMs" $root)
-}}
{{- if .kafka }}
{{- $_ := set $data "KAFKA_BROKERS" $root.Values.kafka.brokers }}
{{- $_ := set $data "KAFKA_TLS" (toString $root.Values.kafka.tls) }}
{{- if include "toolbus.kafkaCaVolume" $root }}
{{- $_ := set $data "KAFKA_TLS_CA_FILE" (printf "%s/%s" (include "toolbus.kafkaCaDir" $root) $root.Values.kafka.ca.key) }}
{{- end }}
{{- with $root.Values.kafka.saslMechanism }}{{ $_ := set $data "KAFKA_SASL_MECHANISM" . }}{{ end }}
{{- with $root.Values.kafka.namespace }}{{ $_ := set $data "KAFKA_NAMESPACE" . }}{{ end }}
{{- end }}
{{- if and $v.redis (not $root.Values.secrets.redis.name) $root.Values.redis.url }}
{{- $_ := set $data "REDIS_URL" $root.Values.redis.url }}
{{- end }}
{{- if and .otel $root.Values.otel.endpoint }}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" $root.Values.otel.endpoint }}
{{- end }}
{{- if $root.Values.mtls.enabled }}
{{- $_ := set $data "MTLS_PORT" (toString $root.Values.mtls.port) }}
{{- $_ := set $data "TLS_CERT_FILE" "/etc/toolbus/mtls/tls.crt" }}
{{- $_ := set $data "TLS_KEY_FILE" "/etc/toolbus/mtls/tls.key" }}
{{- $_ := set $data "TLS_CA_FILE" "/etc/toolbus/mtls/ca.crt" }}
{{- end }}
{{- range $k, $val := .config }}{{ $_ := set $data $k (toString $val) }}{{ end }}
{{- range $k, $val := $v.env }}
{{- include "toolbus.checkNotSecret" (dict "service" $.name "key" $k "value" $val) }}
{{- $_ := set $data $k (toString $val) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
Refuses a plain environment variable that looks like a secret: by its name (HF_TOKEN, DB_PASSWORD,
..., but not MAX_TOKENS or TOKEN_BUDGET: tokens are also what models count), or by a URL that
carries credentials. Release values are stored in clear text in the cluster; secrets belong
in a Secret, referenced with secretEnv.
*/}}
{{- define "toolbus.checkNotSecret" -}}
{{- if regexMatch "(?i)(PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL|(^|_)TOKEN$)" .key -}}
{{- fail (printf "%s: env.%s looks like a secret; reference an existing Secret with secretEnv instead (values are stored in the release in clear text)" .service .key) -}}
{{- end -}}
{{- if regexMatch "://[^/@\\s]+:[^/@\\s]*@" (toString .value) -}}
{{- fail (printf "%s: env.%s is a URL with credentials; keep the URL in a Secret and reference it with secretEnv" .service .key) -}}
{{- end -}}
{{- end }}

{{/*
The secret references the chart knows, by the name ExternalSecrets (`remoteRefs.<ref>`) and
Vault (`paths.<ref>`) use: every entry of `.Values.secrets`, and `jwtSecret`
(`global.auth.jwtSecret`). Each is {name, key, ...}; an empty name means unused.
*/}}
{{- define "toolbus.secretEntries" -}}
{{- $entries := dict "jwtSecret" .Values.global.auth.jwtSecret -}}
{{- range $k, $e := .Values.secrets }}{{ $_ := set $entries $k $e }}{{ end -}}
{{- toYaml $entries -}}
{{- end }}

{{/*
Configuration of a service that verifies bearer tokens (the registry, the gateway), from
global.auth: the same names in every such service (libs/security's authConfig).
AUTH_JWT_SECRET is a secret: see toolbus.authSecretRefs. The services accept the shared HS256
key only behind AUTH_ALLOW_SHARED_KEY, set here exactly when jwtSecret is referenced (the
validation refuses it beside jwksUrl, as the services do).
*/}}
{{- define "toolbus.authConfig" -}}
{{- $a := .Values.global.auth -}}
{{- $config := dict "AUTH_ISSUER" $a.issuer "AUTH_AUDIENCE" $a.audience -}}
{{- with $a.jwksUrl }}{{ $_ := set $config "AUTH_JWKS_URL" . }}{{ end -}}
{{- if $a.jwtSecret.name }}{{ $_ := set $config "AUTH_ALLOW_SHARED_KEY" "true" }}{{ end -}}
{{- toYaml $config -}}
{{- end }}

{{/*
Where secret-backed files are mounted (SECRETS_DIR): each of a service's `credentialSecrets`
at <dir>/<name>, the layout libs/security's SecretStore reads (<dir>/<secret>/<key>).
*/}}
{{- define "toolbus.secretsDir" -}}
/var/run/secrets/toolbus
{{- end }}

{{/*
Secret references of a service as a list of {env, name, key, ref, file}: `ref` names the entry
of toolbus.secretEntries (empty for the service's own secretEnv), `name` and `key` override the
entry's (another Secret, or a second key of the same one), and `file` is where Vault Agent
writes it.
*/}}
{{- define "toolbus.secretUses" -}}
{{- $root := .root -}}
{{- $s := include "toolbus.secretEntries" $root | fromYaml -}}
{{- $refs := list -}}
{{- if .v.database -}}
{{- if .v.databaseSecret -}}
{{- $refs = append $refs (dict "env" "DATABASE_URL" "name" .v.databaseSecret.name "key" .v.databaseSecret.key "ref" "database") -}}
{{- else -}}
{{- $refs = append $refs (dict "env" "DATABASE_URL" "ref" "database") -}}
{{- end -}}
{{- end -}}
{{- if and .v.redis $s.redis.name }}{{ $refs = append $refs (dict "env" "REDIS_URL" "ref" "redis") }}{{ end -}}
{{- if and .kafka $root.Values.kafka.saslMechanism -}}
{{- /* perService: one Kafka user per service (k8s/kafka-users.yaml), its keys prefixed with the service's name. */ -}}
{{- $prefix := ternary (printf "%s-" .name) "" (eq (toString $s.kafkaSasl.perService) "true") -}}
{{- $refs = append $refs (dict "env" "KAFKA_SASL_USERNAME" "ref" "kafkaSasl" "key" (printf "%s%s" $prefix $s.kafkaSasl.usernameKey)) -}}
{{- $refs = append $refs (dict "env" "KAFKA_SASL_PASSWORD" "ref" "kafkaSasl" "key" (printf "%s%s" $prefix $s.kafkaSasl.passwordKey)) -}}
{{- end -}}
{{- range .secretRefs }}{{ $refs = append $refs (dict "env" .env "ref" .ref "name" .name "key" .key) }}{{ end -}}
{{- $out := list -}}
{{- range $refs -}}
{{- $entry := get $s .ref -}}
{{- $name := .name | default $entry.name -}}
{{- $key := .key | default $entry.key -}}
{{- if $name -}}
{{- $out = append $out (dict "env" .env "name" $name "key" $key "ref" .ref "file" (printf "%s-%s" .ref $key)) -}}
{{- end -}}
{{- end -}}
{{- range .v.secretEnv -}}
{{- $out = append $out (dict "env" .name "name" .secretName "key" .key "ref" "" "file" "") -}}
{{- end -}}
{{- toYaml (dict "uses" $out) -}}
{{- end }}

{{/*
The `env` list of a container: each secret by reference (secretKeyRef), or, with Vault Agent,
the path of the file it renders (<VAR>_FILE). Empty when the service reads no secret. (No
POD_NAME or OTEL_RESOURCE_ATTRIBUTES: no service starts the OpenTelemetry SDK that would read them.)
*/}}
{{- define "toolbus.env" -}}
{{- $root := .root -}}
{{- range (include "toolbus.secretUses" . | fromYaml).uses }}
{{- if and $root.Values.vault.enabled .ref }}
- name: {{ .env }}_FILE
  value: /vault/secrets/{{ .file }}
{{- else }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Vault Agent annotations for the secrets a pod reads: one rendered file per secret, from the
KV v2 path in vault.paths (a missing field renders an empty file, not "<no value>"). `prePopulateOnly` (Jobs) uses the init container only, because a
sidecar would keep the Job from completing.
*/}}
{{- define "toolbus.vaultAnnotations" -}}
{{- $root := .root -}}
{{- if $root.Values.vault.enabled -}}
vault.hashicorp.com/agent-inject: "true"
vault.hashicorp.com/role: {{ $root.Values.vault.role | quote }}
{{- if .prePopulateOnly }}
vault.hashicorp.com/agent-pre-populate-only: "true"
{{- end }}
{{- range (include "toolbus.secretUses" . | fromYaml).uses }}
{{- if .ref }}
{{- $path := get $root.Values.vault.paths .ref }}
{{- if not $path }}
{{- fail (printf "vault.paths.%s is required: %s reads %s from it" .ref $.name .env) }}
{{- end }}
vault.hashicorp.com/agent-inject-secret-{{ .file }}: {{ $path | quote }}
vault.hashicorp.com/agent-inject-template-{{ .file }}: {{ printf "{{- with secret %q -}}{{ with index .Data.data %q }}{{ . }}{{ end }}{{- end -}}" $path .key | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.vault.annotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The volume with the CA bundle the brokers' certificates are verified against (kafka.ca), from
a Secret or a ConfigMap; empty when neither is set (the system CAs). Only the bundle's key is
mounted, without subPath, so a renewed CA reaches the pod and the next connection reads it.
*/}}
{{- define "toolbus.kafkaCaVolume" -}}
{{- $ca := .Values.kafka.ca -}}
{{- if $ca.secret -}}
secret:
  secretName: {{ $ca.secret }}
  items:
    - key: {{ $ca.key }}
      path: {{ $ca.key }}
  defaultMode: 0444
{{- else if $ca.configMap -}}
configMap:
  name: {{ $ca.configMap }}
  items:
    - key: {{ $ca.key }}
      path: {{ $ca.key }}
  defaultMode: 0444
{{- end -}}
{{- end }}

{{/* Where the Kafka CA bundle is mounted (KAFKA_TLS_CA_FILE is <dir>/<kafka.ca.key>). */}}
{{- define "toolbus.kafkaCaDir" -}}
/etc/toolbus/kafka-ca
{{- end }}
