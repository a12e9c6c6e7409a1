{{/*
vLLM: an OpenAI-compatible server on GPU nodes, called only by the model shim. It speaks no
Kafka and sends no traces; its only egress is the model hub, unless it runs offline.
*/}}
{{- define "toolbus.vllm.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "vllm" -}}
{{- $_ := set . "v" $root.Values.vllm -}}
{{- $_ := set . "port" 8000 -}}
{{- $_ := set . "kafka" false -}}
{{- $_ := set . "otel" false -}}
{{- /* vLLM serves /health and /metrics on its API port: no management port. */ -}}
{{- $_ := set . "management" 0 -}}
{{- include "toolbus.init" . -}}
{{- if $root.Values.modelShim.enabled -}}
{{- $_ := set . "ingressFrom" (list (include "toolbus.componentPeer" (dict "root" $root "name" "model-shim" "port" 8000) | fromYaml)) -}}
{{- end -}}
{{- $_ := set . "secretRefs" (list (dict "env" "HF_TOKEN" "ref" "modelHubToken") (dict "env" "VLLM_API_KEY" "ref" "openaiApiKey")) -}}
{{- end }}
