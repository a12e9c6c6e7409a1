{{/*
The model shim: consumes model requests from Kafka (no HTTP callers besides Prometheus) and
calls the providers named in its routes: vLLM in-cluster, hosted providers through
modelShim.egress CIDRs.
*/}}
{{- define "toolbus.model-shim.context" -}}
{{- $root := .root -}}
{{- $_ := set . "name" "model-shim" -}}
{{- $_ := set . "v" $root.Values.modelShim -}}
{{- include "toolbus.init" . -}}
{{- $ms := .v -}}
{{- $vllm := $root.Values.vllm -}}
{{- $config := dict "MODEL_ROUTES" (include "toolbus.modelRoutes" $root) "OPENAI_PROVIDER_NAME" $ms.openaiProviderName -}}
{{- with include "toolbus.openaiBaseUrl" $root }}{{ $_ := set $config "OPENAI_BASE_URL" . }}{{ end -}}
{{- $_ := set . "config" $config -}}
{{- if $vllm.enabled -}}
{{- $_ := set . "egressTo" (list (include "toolbus.componentPeer" (dict "root" $root "name" "vllm" "port" 8000) | fromYaml)) -}}
{{- end -}}
{{- $_ := set . "secretRefs" (list (dict "env" "ANTHROPIC_API_KEY" "ref" "anthropicApiKey") (dict "env" "OPENAI_API_KEY" "ref" "openaiApiKey")) -}}
{{- end }}

{{/* OPENAI_BASE_URL: modelShim.openaiBaseUrl, else the chart's vLLM Service (with /v1) when vLLM is on. */}}
{{- define "toolbus.openaiBaseUrl" -}}
{{- if .Values.modelShim.openaiBaseUrl -}}
{{- .Values.modelShim.openaiBaseUrl -}}
{{- else if .Values.vllm.enabled -}}
{{- printf "%s/v1" (include "toolbus.url" (dict "root" . "name" "vllm" "port" 8000)) -}}
{{- end -}}
{{- end }}

{{/*
MODEL_ROUTES: modelShim.routes as given, else `default=<provider>[,<fallbackProvider>]`, each
provider as the model shim names it: anthropic:<model>, <openaiProviderName>:<model> (vLLM's
alias, stable across model swaps), offline:planner.
*/}}
{{- define "toolbus.modelRoutes" -}}
{{- $ms := .Values.modelShim -}}
{{- if $ms.routes -}}
{{- $ms.routes -}}
{{- else -}}
{{- $vllm := .Values.vllm -}}
{{- $openaiModel := $ms.openaiModel | default ($vllm.enabled | ternary ($vllm.model.alias | default $vllm.model.servedName) "") -}}
{{- $names := dict "anthropic" (printf "anthropic:%s" $ms.anthropicModel) "openai-compatible" (printf "%s:%s" $ms.openaiProviderName $openaiModel) "offline" "offline:planner" -}}
{{- $chain := list (get $names $ms.provider) -}}
{{- if and $ms.fallbackProvider (ne $ms.fallbackProvider $ms.provider) }}{{ $chain = append $chain (get $names $ms.fallbackProvider) }}{{ end -}}
{{- printf "default=%s" (join "," $chain) -}}
{{- end -}}
{{- end }}
