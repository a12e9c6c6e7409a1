{{/*
The orchestrator: called by the gateway (whose principal assertions it verifies against the
gateway's JWKS); reads the catalog from the registry; calls synchronous tools over HTTP at the
URL each consumer registered, signing a call grant for each call, whose public keys the
consumers fetch from its /.well-known/jwks.json. Owns the audit ledger (PostgreSQL) and the
shared state of its replicas (Redis).
*/}}
{{- define "toolbus.orchestrator.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "orchestrator" -}}
{{- $_ := set . "v" $root.Values.orchestrator -}}
{{- include "toolbus.init" . -}}
{{- $registry := include "toolbus.enabled" (dict "root" $root "name" "registry") -}}
{{- $gateway := include "toolbus.enabled" (dict "root" $root "name" "gateway") -}}
{{- $config := dict -}}
{{- if $registry }}{{ $_ := set $config "REGISTRY_URL" (include "toolbus.url" (dict "root" $root "name" "registry")) }}{{ end -}}
{{- /* The grant signing key is mounted as the registry's signing key is; every replica signs with it. */ -}}
{{- $credentials := list -}}
{{- with .v.callGrantKey.secret -}}
{{- $dir := printf "%s/%s" (include "toolbus.secretsDir" $root) . -}}
{{- $_ := set $config "CALL_GRANT_SIGNING_KEY_FILE" (printf "%s/%s" $dir $.v.callGrantKey.key) -}}
{{- with $.v.callGrantKey.verificationKeysKey }}{{ $_ := set $config "CALL_GRANT_VERIFICATION_KEYS_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- $credentials = append $credentials . -}}
{{- end -}}
{{- $_ := set . "credentialSecrets" $credentials -}}
{{- $_ := set $config "GATEWAY_JWKS_URL" (.v.gatewayJwksUrl | default (printf "%s/.well-known/jwks.json" (include "toolbus.url" (dict "root" $root "name" "gateway")))) -}}
{{- $_ := set . "config" $config -}}
{{- /* Its own registry token (registry:read and registry:catalog), as each consumer has its own. */ -}}
{{- $rt := $root.Values.secrets.registryToken -}}
{{- $own := .v.registryToken | default dict -}}
{{- $tokenKey := ternary (printf "orchestrator-%s" $rt.key) $rt.key (ne (toString $rt.perService) "false") -}}
{{- $refs := list -}}
{{- if or $own.name $rt.name -}}
{{- $refs = append $refs (dict "env" "REGISTRY_TOKEN" "ref" "registryToken" "name" ($own.name | default $rt.name) "key" ($own.key | default $tokenKey)) -}}
{{- end -}}
{{- $consumers := include "toolbus.consumerNames" $root | fromYamlArray -}}
{{- $consumerPeer := dict -}}
{{- if $consumers -}}
{{- $consumerPeer = include "toolbus.componentPeer" (dict "root" $root "name" "consumers" "tier" "tools") | fromYaml -}}
{{- $_ := set $consumerPeer "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $root.Release.Name) "matchExpressions" (list (dict "key" "app.kubernetes.io/name" "operator" "In" "values" $consumers))) -}}
{{- end -}}
{{- /* In: the gateway's calls; the consumers fetching the grant keys. */ -}}
{{- $ingress := list -}}
{{- if $gateway }}{{ $ingress = append $ingress (include "toolbus.componentPeer" (dict "root" $root "name" "gateway") | fromYaml) }}{{ end -}}
{{- if $consumers }}{{ $ingress = append $ingress $consumerPeer }}{{ end -}}
{{- $_ := set . "ingressFrom" $ingress -}}
{{- /* Out: the registry, the consumers' synchronous calls, the gateway's JWKS. */ -}}
{{- $egress := list -}}
{{- if $registry }}{{ $egress = append $egress (include "toolbus.componentPeer" (dict "root" $root "name" "registry") | fromYaml) }}{{ end -}}
{{- if $consumers }}{{ $egress = append $egress $consumerPeer }}{{ end -}}
{{- if $gateway }}{{ $egress = append $egress (include "toolbus.componentPeer" (dict "root" $root "name" "gateway") | fromYaml) }}{{ end -}}
{{- $_ := set . "egressTo" $egress -}}
{{- /* Coming (the ledger is not built): the previous key decrypts ledger entries written before the last rotation (k8s/RUNBOOK.md). */ -}}
{{- if .v.auditLedger.enabled -}}
{{- $refs = concat $refs (list
  (dict "env" "AUDIT_ENCRYPTION_KEY" "ref" "auditKey")
  (dict "env" "AUDIT_ENCRYPTION_KEY_PREVIOUS" "ref" "auditKey" "key" "previous" "optional" true)) -}}
{{- end -}}
{{- $_ := set . "secretRefs" $refs -}}
{{- end }}
