{{/*
A tool consumer (one entry of toolConsumers): reads tool_requests.<name> from Kafka (the tool
SDK derives the topic from the service name), answers synchronous calls from the orchestrator
over HTTP, registers its tools with the registry (or reads its catalog) with REGISTRY_TOKEN,
and reaches its backends through its `egress` CIDRs with the credentials of its
`credentialSecrets`, mounted under SECRETS_DIR. The topic and tools are recorded as
annotations, for people and tooling.
*/}}
{{- define "toolbus.tool-consumer.context" -}}
{{- $root := .root -}}
{{- $_ := set . "consumer" true -}}
{{- include "toolbus.init" . -}}
{{- $registry := include "toolbus.enabled" (dict "root" $root "name" "registry") -}}
{{- $config := dict "TOOL_HTTP_URL" (include "toolbus.url" (dict "root" $root "name" .name "tier" "tools")) -}}
{{- /* Every call is verified against the orchestrator's grant keys; without an orchestrator, none runs. */ -}}
{{- $orchestrator := include "toolbus.enabled" (dict "root" $root "name" "orchestrator") -}}
{{- $_ := set $config "CALL_GRANT_JWKS_URL" (printf "%s/.well-known/jwks.json" (include "toolbus.url" (dict "root" $root "name" "orchestrator"))) -}}
{{- if $registry }}{{ $_ := set $config "REGISTRY_URL" (include "toolbus.url" (dict "root" $root "name" "registry")) }}{{ end -}}
{{- $_ := set . "credentialSecrets" (.v.credentialSecrets | default list) -}}
{{- if .credentialSecrets }}{{ $_ := set $config "SECRETS_DIR" (include "toolbus.secretsDir" $root) }}{{ end -}}
{{- $_ := set . "config" $config -}}
{{- /* Each consumer its own registry token, with the scopes it needs (a consumer that registers its
tools registry:write, one that reads the catalog registry:read): key <name>-<key> of
secrets.registryToken (perService), or the entry's own registryToken {name, key}. */ -}}
{{- $rt := $root.Values.secrets.registryToken -}}
{{- $own := .v.registryToken | default dict -}}
{{- $layoutKey := ternary (printf "%s-%s" .name $rt.key) $rt.key (ne (toString $rt.perService) "false") -}}
{{- $_ := set . "secretRefs" (list (dict "env" "REGISTRY_TOKEN" "ref" "registryToken" "name" ($own.name | default $rt.name) "key" ($own.key | default $layoutKey))) -}}
{{- /* The generic consumers (http-executor, mcp-bridge) list no tools: theirs come from the registry's catalog. */ -}}
{{- $_ := set . "annotations" (dict "toolbus.io/topic" .v.topic) -}}
{{- with .v.tools }}{{ $_ := set $.annotations "toolbus.io/tools" (join "," .) }}{{ end -}}
{{- /* Synchronous tool calls come from the orchestrator only; with it off, only Prometheus gets in. */ -}}
{{- if include "toolbus.enabled" (dict "root" $root "name" "orchestrator") -}}
{{- $_ := set . "ingressFrom" (list (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml)) -}}
{{- end -}}
{{- $egress := list -}}
{{- if $registry }}{{ $egress = append $egress (include "toolbus.componentPeer" (dict "root" $root "name" "registry") | fromYaml) }}{{ end -}}
{{- if $orchestrator }}{{ $egress = append $egress (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml) }}{{ end -}}
{{- $_ := set . "egressTo" $egress -}}
{{- end }}
