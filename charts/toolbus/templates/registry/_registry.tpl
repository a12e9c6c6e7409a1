{{/*
The registry: the tool catalog. Called by the orchestrator (tool definitions) and by the tool
consumers (registration at start-up). Its own egress (OpenAPI documents, upstream MCP
servers) comes from registry.egress.
*/}}
{{- define "toolbus.registry.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "registry" -}}
{{- $_ := set . "v" $root.Values.registry -}}
{{- include "toolbus.init" . -}}
{{- $ingress := list (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml) -}}
{{- $consumers := include "toolbus.consumerNames" $root | fromYamlArray -}}
{{- if $consumers -}}
{{- $peer := include "toolbus.componentPeer" (dict "root" $root "name" "consumers" "tier" "tools") | fromYaml -}}
{{- $_ := set $peer "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $root.Release.Name) "matchExpressions" (list (dict "key" "app.kubernetes.io/name" "operator" "In" "values" $consumers))) -}}
{{- $ingress = append $ingress $peer -}}
{{- end -}}
{{- $_ := set . "ingressFrom" $ingress -}}
{{- end }}
