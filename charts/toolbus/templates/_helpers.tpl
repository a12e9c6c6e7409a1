{{/*
Shared helpers. Every per-service template is one line:

  {{ include "toolbus.render" (dict "root" $ "service" "gateway" "what" "deployment") }}

`toolbus.render` builds the service's context (a dict) with `toolbus.<service>.context`
(defined in the service's folder: its config, who may call it, what it calls, which secrets it
reads), then renders the shared `toolbus.<what>` template with it. The context carries:

  root        the chart's root context ($)
  name        service name (gateway, orchestrator, ..., or a tool consumer's name)
  v           the service's values (for consumers: toolConsumerDefaults overlaid with the entry)
  tier        edge | core | model | tools
  ns          the tier's namespace
  fullname    resource name: <prefix>-<name>
  port        API port (8080; vLLM 8000)
  management  port of health and metrics (MANAGEMENT_PORT): the service's managementPort, else
              global.managementPort; 0 for vLLM, which serves both on its API port
  config      service-specific environment for its ConfigMap
  ingressFrom peers allowed to call its API port (Prometheus reaches only the management port)
  egressTo    peers it calls (besides Kafka, PostgreSQL, Redis, the collector and DNS)
  secretRefs  [{env, ref, name, key}]: variables read from an entry of `.Values.secrets` (or
              `global.auth.jwtSecret`); `name` and `key` override the entry's
  credentialSecrets  names of existing Secrets mounted read-only at /var/run/secrets/toolbus/<name>
*/}}

{{- define "toolbus.render" -}}
{{- $ctx := dict "root" .root "entry" (.entry | default dict) -}}
{{- $_ := include (printf "toolbus.%s.context" .service) $ctx -}}
{{- if $ctx.v.enabled }}
{{- include (printf "toolbus.%s" .what) $ctx }}
{{- end }}
{{- end }}

{{/* helm.sh/chart label value. */}}
{{- define "toolbus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/*
Prefix of every resource name: the release name, with the chart name added unless it is
already in it (release "toolbus" gives toolbus-gateway). Capped at 20 characters so that
<prefix>-<consumer name (30)>-migrate stays a valid 63-character name.
*/}}
{{- define "toolbus.prefix" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 20 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 20 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* The tier of a platform service; tool consumers are "tools". */}}
{{- define "toolbus.tierOf" -}}
{{- $tiers := dict "gateway" "edge" "orchestrator" "core" "registry" "core" "model-shim" "model" "vllm" "model" -}}
{{- get $tiers . | default "tools" -}}
{{- end }}

{{/*
Completes a context: tier, namespace, full name, port, and empty defaults the service's
context may fill. Consumers get toolConsumerDefaults overlaid with their entry, key by key
(not mergeOverwrite: it would ignore an entry's `false`, 0 and empty values).
*/}}
{{- define "toolbus.init" -}}
{{- $root := .root -}}
{{- if .consumer -}}
{{- $v := dict "enabled" true -}}
{{- range $k, $d := $root.Values.toolConsumerDefaults }}{{ $_ := set $v $k $d }}{{ end -}}
{{- range $k, $e := .entry }}{{ $_ := set $v $k $e }}{{ end -}}
{{- if not $v.topic }}{{ $_ := set $v "topic" (printf "tool_requests.%s" $v.name) }}{{ end -}}
{{- $_ := set . "v" $v -}}
{{- $_ := set . "name" $v.name -}}
{{- $_ := set . "tier" "tools" -}}
{{- else -}}
{{- $_ := set . "tier" (include "toolbus.tierOf" .name) -}}
{{- end -}}
{{- $_ := set . "ns" (get $root.Values.namespaces .tier) -}}
{{- $_ := set . "fullname" (printf "%s-%s" (include "toolbus.prefix" $root) .name) -}}
{{- range $k, $d := dict "port" 8080 "config" dict "ingressFrom" list "egressTo" list "secretRefs" list "credentialSecrets" list "kafka" true "otel" true -}}
{{- if not (hasKey $ $k) }}{{ $_ := set $ $k $d }}{{ end -}}
{{- end -}}
{{- if not (hasKey . "management") -}}
{{- $_ := set . "management" (int (.v.managementPort | default $root.Values.global.managementPort)) -}}
{{- end -}}
{{- end }}

{{/* Whether a platform service is enabled: (dict "root" $ "name" "orchestrator"). Peers that are off get no NetworkPolicy rule, config or URL. */}}
{{- define "toolbus.enabled" -}}
{{- $keys := dict "gateway" "gateway" "orchestrator" "orchestrator" "registry" "registry" "model-shim" "modelShim" "vllm" "vllm" -}}
{{- if (get .root.Values (get $keys .name)).enabled }}true{{ end -}}
{{- end }}

{{/* Labels every resource of the chart carries. */}}
{{- define "toolbus.commonLabels" -}}
helm.sh/chart: {{ include "toolbus.chart" . }}
app.kubernetes.io/part-of: toolbus
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.global.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of a service's pods. No chart version or image tag here: selectors are
immutable, and upgrades must not orphan running pods. `component` separates the serving pods
from migration Job pods, so the Service and PDB never pick up a migration.
*/}}
{{- define "toolbus.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component | default "server" }}
{{- end }}

{{/* Full labels of a service's resources. */}}
{{- define "toolbus.labels" -}}
{{ include "toolbus.selectorLabels" . }}
app.kubernetes.io/version: {{ include "toolbus.imageTag" . | quote }}
toolbus.io/tier: {{ .tier }}
{{ include "toolbus.commonLabels" .root }}
{{- end }}

{{/* Metadata block: name, namespace, labels. */}}
{{- define "toolbus.metadata" -}}
name: {{ .fullname }}
namespace: {{ .ns }}
labels:
  {{- include "toolbus.labels" . | nindent 2 }}
{{- end }}

{{/* Image tag: the service's, then global.imageTag, then the chart's appVersion. */}}
{{- define "toolbus.imageTag" -}}
{{- $img := .v.image | default dict -}}
{{- $img.tag | default .root.Values.global.imageTag | default .root.Chart.AppVersion -}}
{{- end }}

{{/* Image reference: <global.imageRegistry>/toolbus-<name>:<tag>, or the service's repository; @digest pins it. */}}
{{- define "toolbus.image" -}}
{{- $img := .v.image | default dict -}}
{{- $repo := $img.repository | default (printf "%s/toolbus-%s" .root.Values.global.imageRegistry .name) -}}
{{- printf "%s:%s" $repo (include "toolbus.imageTag" .) -}}
{{- with $img.digest }}@{{ . }}{{ end -}}
{{- end }}

{{- define "toolbus.pullPolicy" -}}
{{- $img := .v.image | default dict -}}
{{- $img.pullPolicy | default .root.Values.global.imagePullPolicy -}}
{{- end }}

{{/* In-cluster URL of a platform service: (dict "root" $ "name" "orchestrator"). mTLS moves calls to https on mtls.port. */}}
{{- define "toolbus.url" -}}
{{- $root := .root -}}
{{- $ns := get $root.Values.namespaces (.tier | default (include "toolbus.tierOf" .name)) -}}
{{- $host := printf "%s-%s.%s.svc.%s" (include "toolbus.prefix" $root) .name $ns $root.Values.global.clusterDomain -}}
{{- if and $root.Values.mtls.enabled (ne .name "vllm") -}}
https://{{ $host }}:{{ $root.Values.mtls.port }}
{{- else -}}
http://{{ $host }}:{{ .port | default 8080 }}
{{- end -}}
{{- end }}

{{/*
A peer that is one of the chart's own services, for NetworkPolicy rules:
(dict "root" $ "name" "orchestrator" ["tier" "tools"] ["port" 8000]). Selects by namespace
name (the immutable kubernetes.io/metadata.name label) and the pods' name/instance labels.
*/}}
{{- define "toolbus.componentPeer" -}}
{{- $root := .root -}}
{{- $ns := get $root.Values.namespaces (.tier | default (include "toolbus.tierOf" .name)) -}}
{{- $port := .port | default 8080 -}}
{{- if and $root.Values.mtls.enabled (eq (int $port) 8080) }}{{ $port = $root.Values.mtls.port }}{{ end -}}
namespaceSelector:
  matchLabels:
    kubernetes.io/metadata.name: {{ $ns }}
podSelector:
  matchLabels:
    app.kubernetes.io/name: {{ .name }}
    app.kubernetes.io/instance: {{ $root.Release.Name }}
ports:
  - port: {{ $port }}
    protocol: TCP
{{- end }}

{{/* Names of the enabled tool consumers, as a YAML list (for NetworkPolicy peers and KafkaTopics). */}}
{{- define "toolbus.consumerNames" -}}
{{- range .Values.toolConsumers }}
{{- if (hasKey . "enabled" | ternary .enabled true) }}
- {{ .name }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when an enabled tool consumer uses the database (so the database Secret is needed in the tools namespace). */}}
{{- define "toolbus.anyConsumerDatabase" -}}
{{- $d := .Values.toolConsumerDefaults.database -}}
{{- range .Values.toolConsumers -}}
{{- if and (hasKey . "enabled" | ternary .enabled true) (hasKey . "database" | ternary .database $d) }}true{{ end -}}
{{- end -}}
{{- end }}

{{/*
Checks that need more than the schema (cross-field rules). Each failure says what to change.
Rendered once, from templates/validate.yaml.
*/}}
{{- define "toolbus.validate" -}}
{{- $v := .Values -}}
{{- if and $v.gateway.ingress.enabled $v.gateway.httpRoute.enabled -}}
{{- fail "gateway.ingress.enabled and gateway.httpRoute.enabled are both true: expose the gateway with one of them" -}}
{{- end -}}
{{- if and $v.global.auth.jwksUrl $v.global.auth.jwtSecret.name -}}
{{- fail "global.auth.jwksUrl and global.auth.jwtSecret.name are both set: with a JWKS the services refuse the shared HS256 key (AUTH_JWKS_URL beside AUTH_JWT_SECRET); the shared key is for development, drop jwtSecret" -}}
{{- end -}}
{{- if and $v.externalSecrets.enabled $v.vault.enabled -}}
{{- fail "externalSecrets.enabled and vault.enabled are both true: choose one way to deliver secrets" -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $v.toolConsumers -}}
{{- if hasKey $seen .name }}{{ fail (printf "toolConsumers: the name %q appears twice; each consumer needs its own name" .name) }}{{ end -}}
{{- $_ := set $seen .name true -}}
{{- if has .name (list "gateway" "orchestrator" "registry" "model-shim" "vllm") -}}
{{- fail (printf "toolConsumers: %q is the name of a platform service; choose another name" .name) -}}
{{- end -}}
{{- if and .topic (ne .topic (printf "tool_requests.%s" .name)) -}}
{{- fail (printf "toolConsumers[%s].topic is %q but a consumer named %q reads tool_requests.%s (topic names derive from the service name in libs/contracts)" .name .topic .name .name) -}}
{{- end -}}
{{- end -}}
{{- if and $v.orchestrator.enabled (not $v.orchestrator.callGrantKey.secret) -}}
{{- fail "orchestrator.callGrantKey.secret is empty: the orchestrator signs every tool call with that Ed25519 key and refuses to start without it (openssl genpkey -algorithm ed25519)" -}}
{{- end -}}
{{- $ledger := $v.orchestrator.auditLedger -}}
{{- if and $v.orchestrator.enabled $ledger.enabled -}}
{{- if not $ledger.keysSecret -}}
{{- fail "orchestrator.auditLedger.keysSecret is empty: the ledger seals its rows with the keys of that Secret (one key per key id), mounted as AUDIT_KEYS_DIR; reference it, or set orchestrator.auditLedger.enabled=false" -}}
{{- end -}}
{{- if not $ledger.keyId -}}
{{- fail (printf "orchestrator.auditLedger.keyId is empty: name the key of Secret %s that new audit rows are sealed with (AUDIT_KEY_ID; the orchestrator refuses to start without it), e.g. kubectl -n %s create secret generic %s --from-literal=<keyId>=$(openssl rand -base64 32); or set orchestrator.auditLedger.enabled=false" $ledger.keysSecret $v.namespaces.core $ledger.keysSecret) -}}
{{- end -}}
{{- if not (or $v.global.auth.jwksUrl $v.global.auth.jwtSecret.name) -}}
{{- fail "orchestrator.auditLedger serves GET /v1/audit, which verifies bearer tokens, but neither global.auth.jwksUrl nor global.auth.jwtSecret.name is set: the orchestrator refuses to start without one (AUTH_JWKS_URL or AUTH_JWT_SECRET)" -}}
{{- end -}}
{{- end -}}
{{- $ms := $v.modelShim -}}
{{- if $ms.enabled -}}
{{- $routes := include "toolbus.modelRoutes" . -}}
{{- if and (contains "anthropic:" $routes) (not $v.secrets.anthropicApiKey.name) -}}
{{- fail "modelShim routes use anthropic but secrets.anthropicApiKey.name is empty: reference the Secret holding the API key" -}}
{{- end -}}
{{- if contains (printf "%s:" $ms.openaiProviderName) $routes -}}
{{- if not (include "toolbus.openaiBaseUrl" .) -}}
{{- fail (printf "modelShim routes use %s but neither vllm.enabled nor modelShim.openaiBaseUrl is set: say where the model is served" $ms.openaiProviderName) -}}
{{- end -}}
{{- if regexMatch ":(,|;|$)" $routes -}}
{{- fail "modelShim routes name an OpenAI-compatible provider without a model: set modelShim.openaiModel (or enable vllm)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.vllm.enabled (gt (int $v.vllm.replicas) 1) (eq $v.vllm.cache.accessMode "ReadWriteOnce") (not $v.vllm.cache.existingClaim) -}}
{{- fail "vllm.replicas > 1 shares one model cache PVC: set vllm.cache.accessMode to ReadWriteMany (or use an existingClaim of that kind)" -}}
{{- end -}}
{{- /* Probes and Prometheus reach the management port, callers the API and mTLS ports: they must differ. */ -}}
{{- $ports := dict "gateway" $v.gateway "orchestrator" $v.orchestrator "registry" $v.registry "model-shim" $v.modelShim -}}
{{- range $v.toolConsumers -}}
{{- $_ := set $ports .name (dict "enabled" (hasKey . "enabled" | ternary .enabled true) "managementPort" (hasKey . "managementPort" | ternary .managementPort $v.toolConsumerDefaults.managementPort)) -}}
{{- end -}}
{{- range $name, $s := $ports -}}
{{- $m := int ($s.managementPort | default $v.global.managementPort) -}}
{{- if and $s.enabled (or (eq $m 8080) (and $v.mtls.enabled (eq $m (int $v.mtls.port)))) -}}
{{- fail (printf "%s: the management port %d is also its API port (8080) or mtls.port (%v): choose another managementPort" $name $m $v.mtls.port) -}}
{{- end -}}
{{- end -}}
{{- /* Also with Vault: an empty name drops the credentials, and the services would refuse to start. */ -}}
{{- if and $v.kafka.saslMechanism (not $v.secrets.kafkaSasl.name) -}}
{{- fail "kafka.saslMechanism is set but secrets.kafkaSasl.name is empty: reference the Secret with the SASL credentials" -}}
{{- end -}}
{{- /* The services refuse these too (libs/service-kit kafkaSecurityFromConfig); here before any pod starts. */ -}}
{{- if and (eq $v.kafka.saslMechanism "plain") (not $v.kafka.tls) -}}
{{- fail "kafka.saslMechanism is plain but kafka.tls is false: PLAIN sends the password in clear text; set kafka.tls=true or use scram-sha-512" -}}
{{- end -}}
{{- if and $v.kafka.ca.secret $v.kafka.ca.configMap -}}
{{- fail "kafka.ca.secret and kafka.ca.configMap are both set: take the CA bundle from one of them" -}}
{{- end -}}
{{- if and (or $v.kafka.ca.secret $v.kafka.ca.configMap) (not $v.kafka.tls) -}}
{{- fail "kafka.ca is set but kafka.tls is false: the CA bundle verifies TLS connections; set kafka.tls=true" -}}
{{- end -}}
{{- end }}
