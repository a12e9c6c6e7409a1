{{/*
The orchestrator: called by the gateway; calls the registry and, for synchronous tools, the
tool consumers over HTTP. Owns the audit ledger (PostgreSQL) and session state (Redis).
*/}}
{{- define "toolbus.orchestrator.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "orchestrator" -}}
{{- $_ := set . "v" $root.Values.orchestrator -}}
{{- include "toolbus.init" . -}}
{{- $toolsHost := printf "%s-{service}.%s.svc.%s" (include "toolbus.prefix" $root) $root.Values.namespaces.tools $root.Values.global.clusterDomain -}}
{{- $toolsUrl := $root.Values.mtls.enabled | ternary (printf "https://%s:%v" $toolsHost $root.Values.mtls.port) (printf "http://%s:8080" $toolsHost) -}}
{{- $registry := include "toolbus.enabled" (dict "root" $root "name" "registry") -}}
{{- $config := dict "TOOL_SERVICE_URL_TEMPLATE" $toolsUrl "SYNC_TOOL_TIMEOUT_MS" .v.syncToolTimeoutMs -}}
{{- if $registry }}{{ $_ := set $config "REGISTRY_URL" (include "toolbus.url" (dict "root" $root "name" "registry")) }}{{ end -}}
{{- $_ := set . "config" $config -}}
{{- if include "toolbus.enabled" (dict "root" $root "name" "gateway") -}}
{{- $_ := set . "ingressFrom" (list (include "toolbus.componentPeer" (dict "root" $root "name" "gateway") | fromYaml)) -}}
{{- end -}}
{{- $egress := list -}}
{{- if $registry }}{{ $egress = append $egress (include "toolbus.componentPeer" (dict "root" $root "name" "registry") | fromYaml) }}{{ end -}}
{{- $consumers := include "toolbus.consumerNames" $root | fromYamlArray -}}
{{- if $consumers -}}
{{- $peer := include "toolbus.componentPeer" (dict "root" $root "name" "consumers" "tier" "tools") | fromYaml -}}
{{- $_ := set $peer "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $root.Release.Name) "matchExpressions" (list (dict "key" "app.kubernetes.io/name" "operator" "In" "values" $consumers))) -}}
{{- $egress = append $egress $peer -}}
{{- end -}}
{{- $_ := set . "egressTo" $egress -}}
{{- /* The previous key decrypts ledger entries written before the last rotation (k8s/RUNBOOK.md). */ -}}
{{- $_ := set . "secretRefs" (list
  (dict "env" "AUDIT_ENCRYPTION_KEY" "ref" "auditKey")
  (dict "env" "AUDIT_ENCRYPTION_KEY_PREVIOUS" "ref" "auditKey" "key" "previous" "optional" true)) -}}
{{- end }}
