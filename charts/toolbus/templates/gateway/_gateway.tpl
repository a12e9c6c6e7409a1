{{/*
The gateway: the only service reachable from outside, and only through the ingress controller.
It calls the orchestrator (HTTP for synchronous tool calls; asks go over Kafka).
*/}}
{{- define "toolbus.gateway.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "gateway" -}}
{{- $_ := set . "v" $root.Values.gateway -}}
{{- include "toolbus.init" . -}}
{{- $g := .v -}}
{{- $public := $g.publicUrl -}}
{{- if and (not $public) $g.ingress.enabled -}}
{{- $public = printf "%s://%s" (ternary "https" "http" $g.ingress.tls.enabled) $g.ingress.host -}}
{{- else if and (not $public) $g.httpRoute.enabled $g.httpRoute.hostnames -}}
{{- $public = printf "https://%s" (first $g.httpRoute.hostnames) -}}
{{- end -}}
{{- /* Caller authentication: AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL from global.auth, as the registry. */ -}}
{{- $config := include "toolbus.authConfig" $root | fromYaml -}}
{{- $orchestrator := include "toolbus.enabled" (dict "root" $root "name" "orchestrator") -}}
{{- if $orchestrator }}{{ $_ := set $config "ORCHESTRATOR_URL" (include "toolbus.url" (dict "root" $root "name" "orchestrator")) }}{{ end -}}
{{- with $public }}{{ $_ := set $config "PUBLIC_URL" . }}{{ end -}}
{{- $_ := set . "config" $config -}}
{{- /* TLS ends at the ingress controller, which forwards plain HTTP to port 8080. */ -}}
{{- $ic := $root.Values.networkPolicy.ingressController -}}
{{- $_ := set . "ingressFrom" (list (dict "namespaceSelector" $ic.namespaceSelector "podSelector" $ic.podSelector "cidrs" $ic.cidrs "ports" (list (dict "port" 8080)))) -}}
{{- if $orchestrator }}{{ $_ := set . "egressTo" (list (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml)) }}{{ end -}}
{{- $_ := set . "secretRefs" (list
  (dict "env" "GATEWAY_BOOTSTRAP_API_KEY" "ref" "gatewayBootstrapApiKey")
  (dict "env" "AUTH_JWT_SECRET" "ref" "jwtSecret")) -}}
{{- end }}
