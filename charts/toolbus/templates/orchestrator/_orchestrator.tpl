{{/*
The orchestrator: called by the gateway (whose principal assertions it verifies against the
gateway's JWKS); reads the catalog from the registry; calls synchronous tools over HTTP at the
URL each consumer registered, signing a call grant for each call, whose public keys the
consumers fetch from its /.well-known/jwks.json. Owns the audit ledger (PostgreSQL: it consumes
toolbus.audit and serves GET /v1/audit, verifying its readers' bearer tokens with global.auth)
and the shared state of its replicas (Redis).
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
{{- /*
The ledger's keys are mounted the same way, one file per key id (AUDIT_KEYS_DIR), so a rotation
adds a key to the Secret and points keyId at it; retired keys stay to open the rows they sealed.
Its API verifies bearer tokens as the registry's does (AUTH_*, the shared key by reference).
*/ -}}
{{- $ledger := .v.auditLedger -}}
{{- $_ := set $config "AUDIT_LEDGER_ENABLED" (toString $ledger.enabled) -}}
{{- if $ledger.enabled -}}
{{- with $ledger.keysSecret -}}
{{- $_ := set $config "AUDIT_KEYS_DIR" (printf "%s/%s" (include "toolbus.secretsDir" $root) .) -}}
{{- if not (has . $credentials) }}{{ $credentials = append $credentials . }}{{ end -}}
{{- end -}}
{{- with $ledger.keyId }}{{ $_ := set $config "AUDIT_KEY_ID" . }}{{ end -}}
{{- $_ := set $config "AUDIT_LEDGER_ARGUMENTS" (toString $ledger.arguments) -}}
{{- range $k, $val := include "toolbus.authConfig" $root | fromYaml }}{{ $_ := set $config $k $val }}{{ end -}}
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
{{- if $ledger.enabled }}{{ $refs = append $refs (dict "env" "AUTH_JWT_SECRET" "ref" "jwtSecret") }}{{ end -}}
{{- $_ := set . "secretRefs" $refs -}}
{{- end }}
