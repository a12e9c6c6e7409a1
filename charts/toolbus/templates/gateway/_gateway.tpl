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
{{- $config := dict "ORCHESTRATOR_URL" (include "toolbus.url" (dict "root" $root "name" "orchestrator")) "AUTH_OIDC_AUDIENCE" $g.auth.oidcAudience -}}
{{- with $public }}{{ $_ := set $config "PUBLIC_URL" . }}{{ end -}}
{{- with $g.auth.oidcIssuer }}{{ $_ := set $config "AUTH_OIDC_ISSUER" . }}{{ end -}}
{{- with $g.auth.jwksUrl }}{{ $_ := set $config "AUTH_JWKS_URL" . }}{{ end -}}
{{- $_ := set . "config" $config -}}
{{- /* TLS ends at the ingress controller, which forwards plain HTTP to port 8080. */ -}}
{{- $ic := $root.Values.networkPolicy.ingressController -}}
{{- $_ := set . "ingressFrom" (list (dict "namespaceSelector" $ic.namespaceSelector "podSelector" $ic.podSelector "cidrs" $ic.cidrs "ports" (list (dict "port" 8080)))) -}}
{{- $_ := set . "egressTo" (list (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml)) -}}
{{- $_ := set . "secretRefs" (list (dict "env" "GATEWAY_BOOTSTRAP_API_KEY" "ref" "gatewayBootstrapApiKey")) -}}
{{- end }}
