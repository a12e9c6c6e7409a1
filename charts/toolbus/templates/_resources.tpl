{{/*
The other per-service resources: Service, ServiceAccount, ConfigMap, HPA, PDB, ServiceMonitor,
mTLS Certificate and the migration hook Job.
*/}}

{{- define "toolbus.service" -}}
---
apiVersion: v1
kind: Service
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "toolbus.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
    {{- if .management }}
    # Health and /metrics, for the ServiceMonitor; the NetworkPolicy admits only Prometheus.
    - name: metrics
      port: {{ .management }}
      targetPort: management
      protocol: TCP
    {{- end }}
    {{- if and .root.Values.mtls.enabled (ne .name "vllm") }}
    - name: https-mtls
      port: {{ .root.Values.mtls.port }}
      targetPort: https-mtls
      protocol: TCP
    {{- end }}
{{- end }}

{{- define "toolbus.serviceaccount" -}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
  {{- with (.v.serviceAccount | default dict).annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: {{ include "toolbus.automountToken" . }}
{{- end }}

{{- define "toolbus.configmap" -}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
data:
  {{- include "toolbus.configData" . | nindent 2 }}
{{- end }}

{{- define "toolbus.hpa" -}}
{{- $a := .v.autoscaling -}}
{{- if $a.enabled }}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
{{- fail (printf "%s: autoscaling.minReplicas (%v) is above maxReplicas (%v)" .name $a.minReplicas $a.maxReplicas) }}
{{- end }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .fullname }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
  behavior:
    # Scale in slowly: Kafka consumer groups rebalance on every membership change.
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Pods
          value: 1
          periodSeconds: 60
{{- end }}
{{- end }}

{{- define "toolbus.pdb" -}}
{{- if .v.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
spec:
  maxUnavailable: {{ .v.pdb.maxUnavailable }}
  # A crash-looping pod must not block node drains.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "toolbus.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "toolbus.servicemonitor" -}}
{{- $sm := .root.Values.monitoring.serviceMonitor -}}
{{- if $sm.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "toolbus.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .ns }}
  endpoints:
    # The management port (vLLM, without one, serves /metrics on its API port).
    - port: {{ if .management }}metrics{{ else }}http{{ end }}
      path: /metrics
      interval: {{ $sm.interval }}
      # The tier and namespace become labels of every series, for the dashboard's filters.
      relabelings:
        - targetLabel: tier
          replacement: {{ .tier }}
{{- end }}
{{- end }}

{{/*
A service's mTLS certificate: server and client auth, with the service's DNS names and a
SPIFFE-style URI naming its namespace and service account, which peers can authorize on.
*/}}
{{- define "toolbus.certificate" -}}
{{- $m := .root.Values.mtls -}}
{{- if $m.enabled }}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  {{- $meta := dict }}
  {{- range $k, $val := . }}{{ $_ := set $meta $k $val }}{{ end }}
  {{- $_ := set $meta "fullname" (printf "%s-mtls" .fullname) }}
  {{- include "toolbus.metadata" $meta | nindent 2 }}
spec:
  secretName: {{ .fullname }}-mtls
  duration: {{ $m.duration }}
  renewBefore: {{ $m.renewBefore }}
  privateKey:
    algorithm: ECDSA
    size: 256
    rotationPolicy: Always
  usages:
    - server auth
    - client auth
  dnsNames:
    - {{ .fullname }}
    - {{ .fullname }}.{{ .ns }}
    - {{ .fullname }}.{{ .ns }}.svc
    - {{ .fullname }}.{{ .ns }}.svc.{{ .root.Values.global.clusterDomain }}
  uris:
    - spiffe://{{ .root.Values.global.clusterDomain }}/ns/{{ .ns }}/sa/{{ .fullname }}
  issuerRef:
    name: {{ $m.issuerRef.name }}
    kind: {{ $m.issuerRef.kind }}
    group: cert-manager.io
{{- end }}
{{- end }}

{{/*
Database migrations: a pre-install/pre-upgrade hook Job, so the schema is current before any
new pod starts. It runs before the release's ConfigMap and ServiceAccount exist, so it gets
its environment inline and a hook ServiceAccount of its own.
*/}}
{{- define "toolbus.migrations" -}}
{{- $root := .root -}}
{{- $m := $root.Values.migrations -}}
{{- if and $m.enabled .v.database }}
{{- $job := dict }}
{{- range $k, $val := . }}{{ $_ := set $job $k $val }}{{ end }}
{{- $_ := set $job "component" "migrations" }}
{{- $_ := set $job "fullname" (printf "%s-migrate" .fullname) }}
{{- $_ := set $job "prePopulateOnly" true }}
{{- /* Migrations never call the registry: a consumer's Job gets no registry token. */}}
{{- if .consumer }}{{ $_ := set $job "secretRefs" list }}{{ end }}
{{- $path := (default false .consumer) | ternary (printf "services/tool-consumers/%s" .name) (printf "services/%s" .name) }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "toolbus.metadata" $job | nindent 2 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation
automountServiceAccountToken: {{ include "toolbus.automountToken" . }}
---
apiVersion: batch/v1
kind: Job
metadata:
  {{- include "toolbus.metadata" $job | nindent 2 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    # Kept when it fails, for `kubectl logs`; replaced by the next attempt.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "toolbus.labels" $job | nindent 8 }}
      {{- with include "toolbus.podAnnotations" $job }}
      annotations:
        {{- . | trim | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ $job.fullname }}
      automountServiceAccountToken: {{ include "toolbus.automountToken" . }}
      enableServiceLinks: false
      securityContext:
        {{- include "toolbus.podSecurityContext" . | nindent 8 }}
      {{- with include "toolbus.scheduling" . | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: migrate
          image: {{ include "toolbus.image" . }}
          imagePullPolicy: {{ include "toolbus.pullPolicy" . }}
          command:
            {{- toYaml (.v.migrationCommand | default (list "node" (printf "%s/dist/main.js" $path) "--migrate-only")) | nindent 12 }}
          env:
            {{- range $k, $val := (include "toolbus.configData" . | fromYaml) }}
            {{- /* The mTLS certificate is issued with the release, after this hook: not mounted here. Nor is
            the Kafka CA bundle: migrations never reach Kafka (the system CAs stand in). */}}
            {{- if not (or (hasPrefix "TLS_" $k) (hasPrefix "MTLS_" $k) (eq $k "KAFKA_TLS_CA_FILE")) }}
            - name: {{ $k }}
              value: {{ $val | quote }}
            {{- end }}
            {{- end }}
            {{- include "toolbus.env" $job | nindent 12 }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- include "toolbus.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $root.Values.global.tmpSizeLimit }}
{{- end }}
{{- end }}
