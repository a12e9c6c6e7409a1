{{/*
A tool consumer (one entry of toolConsumers): reads tool_requests.<name> from Kafka (the tool
SDK derives the topic from the service name), answers synchronous calls from the orchestrator
over HTTP, registers its tools with the registry, and reaches its backends through its
`egress` CIDRs. The topic and tools are recorded as annotations, for people and tooling.
*/}}
{{- define "toolbus.tool-consumer.context" -}}
{{- $root := .root -}}
{{- $_ := set . "consumer" true -}}
{{- include "toolbus.init" . -}}
{{- $_ := set . "config" (dict
  "REGISTRY_URL" (include "toolbus.url" (dict "root" $root "name" "registry"))
  "TOOL_HTTP_URL" (include "toolbus.url" (dict "root" $root "name" .name "tier" "tools"))) -}}
{{- $_ := set . "annotations" (dict "toolbus.io/topic" .v.topic "toolbus.io/tools" (join "," (.v.tools | default list))) -}}
{{- $_ := set . "ingressFrom" (list (include "toolbus.componentPeer" (dict "root" $root "name" "orchestrator") | fromYaml)) -}}
{{- $_ := set . "egressTo" (list (include "toolbus.componentPeer" (dict "root" $root "name" "registry") | fromYaml)) -}}
{{- end }}
