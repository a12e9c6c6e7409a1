{{/*
NetworkPolicies. Each tier namespace denies everything by default and allows DNS
(templates/namespaces/networkpolicies.yaml); each service then gets one policy allowing exactly
its callers in and its dependencies out.
*/}}

{{/*
One rule from a peer: (dict "dir" "to"|"from" "peer" {namespaceSelector, podSelector, cidrs, ports}).
A CIDR is a string, or {cidr, except} to keep blocks inside it denied (an ipBlock's `except`:
e.g. the whole internet but the cloud metadata endpoint and the cluster's private ranges).
Renders {} when the peer selects nothing: a rule with an empty `to`/`from` would allow every
address, the opposite of what an empty peer means here.
*/}}
{{- define "toolbus.npRule" -}}
{{- $peer := .peer -}}
{{- $peers := list -}}
{{- if or $peer.namespaceSelector $peer.podSelector -}}
{{- $p := dict -}}
{{- with $peer.namespaceSelector }}{{ $_ := set $p "namespaceSelector" . }}{{ end -}}
{{- with $peer.podSelector }}{{ $_ := set $p "podSelector" . }}{{ end -}}
{{- $peers = append $peers $p -}}
{{- end -}}
{{- range $peer.cidrs -}}
{{- if kindIs "map" . -}}
{{- $block := dict "cidr" .cidr -}}
{{- range .except -}}
{{- /* The API server refuses an except outside its block; another address family always is. */ -}}
{{- if ne (contains ":" .) (contains ":" $block.cidr) }}{{ fail (printf "egress except %s is not inside %s: an except must be a block of the same address family within its cidr" . $block.cidr) }}{{ end -}}
{{- end -}}
{{- with .except }}{{ $_ := set $block "except" . }}{{ end -}}
{{- $peers = append $peers (dict "ipBlock" $block) -}}
{{- else -}}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .)) -}}
{{- end -}}
{{- end -}}
{{- if $peers -}}
{{- $rule := dict .dir $peers -}}
{{- with (.ports | default $peer.ports) -}}
{{- $ports := list -}}
{{- range . }}{{ $ports = append $ports (dict "port" (int .port) "protocol" (.protocol | default "TCP")) }}{{ end -}}
{{- $_ := set $rule "ports" $ports -}}
{{- end -}}
{{- toYaml $rule -}}
{{- else -}}
{}
{{- end -}}
{{- end }}

{{- define "toolbus.networkpolicy" -}}
{{- $root := .root -}}
{{- $V := $root.Values -}}
{{- if $V.networkPolicy.enabled }}
{{- $ingress := list -}}
{{- range .ingressFrom -}}
{{- $r := include "toolbus.npRule" (dict "dir" "from" "peer" .) | fromYaml -}}
{{- if $r }}{{ $ingress = append $ingress $r }}{{ end -}}
{{- end -}}
{{- /* Prometheus, and only Prometheus, reaches the management port (vLLM: /metrics on its API port). */ -}}
{{- $r := include "toolbus.npRule" (dict "dir" "from" "peer" $V.networkPolicy.prometheus "ports" (list (dict "port" (.management | default .port)))) | fromYaml -}}
{{- if $r }}{{ $ingress = append $ingress $r }}{{ end -}}
{{- $egressPeers := list -}}
{{- if .kafka }}{{ $egressPeers = append $egressPeers $V.kafka.peer }}{{ end -}}
{{- if .v.database }}{{ $egressPeers = append $egressPeers $V.postgresql.peer }}{{ end -}}
{{- if .v.redis }}{{ $egressPeers = append $egressPeers $V.redis.peer }}{{ end -}}
{{- if and .otel $V.otel.endpoint }}{{ $egressPeers = append $egressPeers $V.otel.peer }}{{ end -}}
{{- /* Vault Agent runs in the pod: it needs the Vault API. */ -}}
{{- if $V.vault.enabled }}{{ $egressPeers = append $egressPeers $V.vault.peer }}{{ end -}}
{{- range .egressTo }}{{ $egressPeers = append $egressPeers . }}{{ end -}}
{{- with .v.egress }}{{ $egressPeers = append $egressPeers (dict "cidrs" .cidrs "ports" .ports) }}{{ end -}}
{{- $egress := list -}}
{{- range $egressPeers -}}
{{- $r := include "toolbus.npRule" (dict "dir" "to" "peer" .) | fromYaml -}}
{{- if $r }}{{ $egress = append $egress $r }}{{ end -}}
{{- end }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
spec:
  # Name and instance only: the policy covers the migration Job's pods too.
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/instance: {{ $root.Release.Name }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    {{- toYaml $ingress | nindent 4 }}
  egress:
    {{- toYaml $egress | nindent 4 }}
{{- end }}
{{- end }}
