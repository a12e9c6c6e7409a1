{{/*
The registry: the tool catalog. Called by the orchestrator (tool definitions) and by the tool
consumers (registration at start-up). Verifies every caller's bearer token (global.auth). Its
own egress (OpenAPI documents, upstream MCP servers, the identity provider's JWKS) comes from
registry.egress; the Secrets its upstream MCP servers name are mounted under SECRETS_DIR, and
so is the key it signs catalog change events with (registry.signingKey).
*/}}
{{- define "toolbus.registry.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "registry" -}}
{{- $_ := set . "v" $root.Values.registry -}}
{{- include "toolbus.init" . -}}
{{- $config := include "toolbus.authConfig" $root | fromYaml -}}
{{- $_ := set $config "SECRETS_DIR" (include "toolbus.secretsDir" $root) -}}
{{- $credentials := .v.credentialSecrets | default list -}}
{{- /* The signing key is mounted as the credentials are; every replica signs with it. */ -}}
{{- with .v.signingKey.secret -}}
{{- $dir := printf "%s/%s" (include "toolbus.secretsDir" $root) . -}}
{{- $_ := set $config "REGISTRY_SIGNING_KEY_FILE" (printf "%s/%s" $dir $.v.signingKey.key) -}}
{{- with $.v.signingKey.verificationKeysKey }}{{ $_ := set $config "REGISTRY_VERIFICATION_KEYS_FILE" (printf "%s/%s" $dir .) }}{{ end -}}
{{- if not (has . $credentials) }}{{ $credentials = append $credentials . }}{{ end -}}
{{- end -}}
{{- $_ := set . "config" $config -}}
{{- $_ := set . "secretRefs" (list (dict "env" "AUTH_JWT_SECRET" "ref" "jwtSecret")) -}}
{{- $_ := set . "credentialSecrets" $credentials -}}
{{- $ingress := list -}}
{{- if include "toolbus.enabled" (dict "root" $root "name" "orchestrator") -}}
{{- $ingress = append $ingress (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml) -}}
{{- end -}}
{{- $consumers := include "toolbus.consumerNames" $root | fromYamlArray -}}
{{- if $consumers -}}
{{- $peer := include "toolbus.componentPeer" (dict "root" $root "name" "consumers" "tier" "tools") | fromYaml -}}
{{- $_ := set $peer "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $root.Release.Name) "matchExpressions" (list (dict "key" "app.kubernetes.io/name" "operator" "In" "values" $consumers))) -}}
{{- $ingress = append $ingress $peer -}}
{{- end -}}
{{- $_ := set . "ingressFrom" $ingress -}}
{{- end }}
