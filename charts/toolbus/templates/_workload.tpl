{{/*
Pods: the Deployment of a Node.js service and the pieces vLLM and the migration Jobs share
(security contexts, scheduling, topology spread).
*/}}

{{/* Pod-level security: what Pod Security `restricted` requires, plus a non-root UID and fsGroup. */}}
{{- define "toolbus.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .root.Values.global.runAsUser }}
runAsGroup: {{ .root.Values.global.runAsUser }}
fsGroup: {{ .root.Values.global.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security: read-only root, no privilege escalation, no capabilities. */}}
{{- define "toolbus.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Scheduling: the service's node selector, tolerations, affinity and priority class, each
falling back to global when the service leaves it empty.
*/}}
{{- define "toolbus.scheduling" -}}
{{- $g := .root.Values.global -}}
{{- with (.v.nodeSelector | default $g.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.v.tolerations | default $g.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.v.affinity | default $g.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.v.priorityClassName | default $g.priorityClassName) }}
priorityClassName: {{ . }}
{{- end }}
{{- with $g.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Spread replicas over zones and nodes. matchLabelKeys pod-template-hash counts only the pods of
the current ReplicaSet, so a rollout is not skewed by the pods it is replacing.
*/}}
{{- define "toolbus.topologySpread" -}}
{{- $ts := .root.Values.global.topologySpread -}}
{{- if $ts.enabled }}
topologySpreadConstraints:
  {{- range $ts.topologyKeys }}
  - maxSkew: {{ $ts.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $ts.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "toolbus.selectorLabels" $ | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
  {{- end }}
{{- end }}
{{- end }}

{{/* Pod annotations: global, the service's, and Vault Agent's. */}}
{{- define "toolbus.podAnnotations" -}}
{{- with .root.Values.global.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .v.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with include "toolbus.vaultAnnotations" . }}
{{ . }}
{{- end }}
{{- end }}

{{/* Service-account token: only Vault's Kubernetes auth needs one. */}}
{{- define "toolbus.automountToken" -}}
{{- .root.Values.vault.enabled | ternary "true" "false" -}}
{{- end }}

{{/* The Deployment of a Node.js service. */}}
{{- define "toolbus.deployment" -}}
{{- $root := .root -}}
{{- $g := $root.Values.global -}}
{{- $p := $g.probes -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "toolbus.metadata" . | nindent 2 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if not .v.autoscaling.enabled }}
  replicas: {{ .v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "toolbus.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Surge first, never dip below the desired count: the services hold no local state.
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "toolbus.labels" . | nindent 8 }}
        {{- with .v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when their configuration changes (env from a ConfigMap is read only at start).
        checksum/config: {{ include "toolbus.configData" . | sha256sum }}
        {{- with include "toolbus.podAnnotations" . }}
        {{- . | trim | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .fullname }}
      automountServiceAccountToken: {{ include "toolbus.automountToken" . }}
      # Service links would add an environment variable per Service in the namespace.
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $g.terminationGracePeriodSeconds }}
      securityContext:
        {{- include "toolbus.podSecurityContext" . | nindent 8 }}
      {{- with include "toolbus.scheduling" . | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- with include "toolbus.topologySpread" . | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "toolbus.image" . }}
          imagePullPolicy: {{ include "toolbus.pullPolicy" . }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
            # Health and /metrics (MANAGEMENT_PORT): only the kubelet and Prometheus reach it.
            - name: management
              containerPort: {{ .management }}
              protocol: TCP
            {{- if $root.Values.mtls.enabled }}
            - name: https-mtls
              containerPort: {{ $root.Values.mtls.port }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ .fullname }}
          {{- with include "toolbus.env" . | trim }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /health/live
              port: management
            periodSeconds: {{ $p.startup.periodSeconds }}
            failureThreshold: {{ $p.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: management
            periodSeconds: {{ $p.liveness.periodSeconds }}
            timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
            failureThreshold: {{ $p.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: management
            periodSeconds: {{ $p.readiness.periodSeconds }}
            timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
            failureThreshold: {{ $p.readiness.failureThreshold }}
          lifecycle:
            # Endpoints are removed asynchronously; keep serving a few seconds after SIGTERM is due.
            preStop:
              sleep:
                seconds: {{ $g.preStopSleepSeconds }}
          resources:
            {{- toYaml .v.resources | nindent 12 }}
          securityContext:
            {{- include "toolbus.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $root.Values.mtls.enabled }}
            - name: mtls
              mountPath: /etc/toolbus/mtls
              readOnly: true
            {{- end }}
            {{- range $i, $name := .credentialSecrets }}
            - name: credentials-{{ $i }}
              mountPath: {{ include "toolbus.secretsDir" $root }}/{{ $name }}
              readOnly: true
            {{- end }}
            {{- if and .kafka (include "toolbus.kafkaCaVolume" $root) }}
            - name: kafka-ca
              mountPath: {{ include "toolbus.kafkaCaDir" $root }}
              readOnly: true
            {{- end }}
      volumes:
        # The root filesystem is read-only; /tmp is the one writable place.
        - name: tmp
          emptyDir:
            sizeLimit: {{ $g.tmpSizeLimit }}
        {{- if $root.Values.mtls.enabled }}
        - name: mtls
          secret:
            secretName: {{ .fullname }}-mtls
            defaultMode: 0440
        {{- end }}
        {{- /* Credentials the service reads by reference (SECRETS_DIR/<secret>/<key>), group-readable through fsGroup. */}}
        {{- range $i, $name := .credentialSecrets }}
        - name: credentials-{{ $i }}
          secret:
            secretName: {{ $name }}
            defaultMode: 0440
        {{- end }}
        {{- if .kafka }}
        {{- with include "toolbus.kafkaCaVolume" $root }}
        - name: kafka-ca
          {{- . | nindent 10 }}
        {{- end }}
        {{- end }}
{{- end }}
