{{/* mcroute.name is the chart name, or nameOverride. */}}
{{- define "mcroute.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* mcroute.fullname is "<release>-<name>", or fullnameOverride; at most 52
characters so that suffixed names ("-memcached", "-policy") stay under 63. */}}
{{- define "mcroute.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mcroute.memcachedName" -}}{{ include "mcroute.fullname" . }}-memcached{{- end -}}
{{- define "mcroute.policyName" -}}{{ include "mcroute.fullname" . }}-policy{{- end -}}
{{- define "mcroute.appName" -}}{{ include "mcroute.fullname" . }}-app{{- end -}}

{{/* mcroute.labels are the common labels of every resource. */}}
{{- define "mcroute.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "mcroute.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* mcroute.selector selects the pods of one component: pass (list . "component"). */}}
{{- define "mcroute.selector" -}}
app.kubernetes.io/name: {{ include "mcroute.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* mcroute.image is the mcroute image reference. */}}
{{- define "mcroute.image" -}}
{{ .Values.mcroute.image.repository }}:{{ .Values.mcroute.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* mcroute.policyFile is the file name mcroute reads in the policy volume. */}}
{{- define "mcroute.policyFile" -}}
{{- if .Values.policy.existingConfigMap.name -}}
{{ .Values.policy.existingConfigMap.key }}
{{- else if .Values.policy.json -}}
config.json
{{- else -}}
policy.cue
{{- end -}}
{{- end -}}

{{/* mcroute.policyConfigMap is the name of the ConfigMap holding the policy. */}}
{{- define "mcroute.policyConfigMap" -}}
{{- if .Values.policy.existingConfigMap.name -}}
{{ .Values.policy.existingConfigMap.name }}
{{- else -}}
{{ include "mcroute.policyName" . }}
{{- end -}}
{{- end -}}

{{/* mcroute.checkValues fails the render on contradictory values. */}}
{{- define "mcroute.checkValues" -}}
{{- $n := 0 -}}
{{- if .Values.policy.cue }}{{ $n = add1 $n }}{{ end -}}
{{- if .Values.policy.json }}{{ $n = add1 $n }}{{ end -}}
{{- if .Values.policy.existingConfigMap.name }}{{ $n = add1 $n }}{{ end -}}
{{- if gt $n 1 -}}
{{- fail "give at most one of policy.cue, policy.json and policy.existingConfigMap.name" -}}
{{- end -}}
{{- if and (eq $n 0) (not .Values.memcached.enabled) -}}
{{- fail "memcached.enabled=false needs a policy (policy.cue, policy.json or policy.existingConfigMap.name) naming your servers" -}}
{{- end -}}
{{- if not (has .Values.mode (list "daemonset" "sidecar")) -}}
{{- fail (printf "mode must be daemonset or sidecar, not %q" .Values.mode) -}}
{{- end -}}
{{- end -}}

{{/* mcroute.defaultPolicy is the CUE policy used when none is given. */}}
{{- define "mcroute.defaultPolicy" -}}
{{- $mc := include "mcroute.memcachedName" . -}}
{{- $domain := printf "%s.%s.svc.%s" $mc .Release.Namespace .Values.clusterDomain -}}
// Written by the mcroute Helm chart (release {{ .Release.Name }}).
package policy
{{ if .Values.policy.discovery.enabled }}
// The memcached pods, found through the headless Service's SRV records
// (re-resolved every {{ .Values.policy.discovery.intervalMs }} ms): their targets are the pods' stable
// names, so the pool lists them in ordinal order, as the static list would.
pools: cache: discovery: {
	name:        "_memcache._tcp.{{ $domain }}"
	interval_ms: {{ .Values.policy.discovery.intervalMs }}
}
{{- else }}
// The memcached StatefulSet's pods by their stable DNS names, in ordinal
// order: a pod that restarts keeps its place on the hash ring.
pools: cache: servers: [
{{- range $i, $_ := until (int .Values.memcached.replicaCount) }}
	"{{ $mc }}-{{ $i }}.{{ $domain }}:{{ $.Values.memcached.port }}",
{{- end }}
]
{{- end }}

// Ch3 consistent hashing over the pool (mcrouter's PoolRoute).
route: {type: "PoolRoute", pool: "cache"}
{{ end -}}

{{/* mcroute.policyVolume is the pod volume holding the policy. */}}
{{- define "mcroute.policyVolume" -}}
- name: policy
  configMap:
    name: {{ include "mcroute.policyConfigMap" . }}
{{- end -}}

{{/* mcroute.container is the mcroute container; pass (dict "ctx" $ "listen" ADDR "sidecar" BOOL). */}}
{{- define "mcroute.container" -}}
{{- $ := .ctx -}}
{{- $v := $.Values.mcroute -}}
name: mcroute
image: {{ include "mcroute.image" $ | quote }}
imagePullPolicy: {{ $v.image.pullPolicy }}
{{- if .sidecar }}
restartPolicy: Always
{{- end }}
args:
  - serve
  - --config=/etc/mcroute/{{ include "mcroute.policyFile" $ }}
  - --listen={{ .listen }}
  {{- if .sidecar }}
  - --socket-mode={{ $.Values.sidecar.socketMode }}
  {{- end }}
  - --metrics-listen=0.0.0.0:{{ $v.metricsPort }}
  - --log-format={{ $v.logFormat }}
  - --log-level={{ $v.logLevel }}
  {{- range $v.extraArgs }}
  - {{ . | quote }}
  {{- end }}
ports:
  {{- if not .sidecar }}
  - name: memcache
    containerPort: {{ $v.port }}
    {{- if $v.hostPort }}
    hostPort: {{ $v.hostPort }}
    {{- end }}
    protocol: TCP
  {{- end }}
  - name: metrics
    containerPort: {{ $v.metricsPort }}
    protocol: TCP
livenessProbe:
  {{- toYaml $v.livenessProbe | nindent 2 }}
readinessProbe:
  {{- toYaml $v.readinessProbe | nindent 2 }}
resources:
  {{- toYaml $v.resources | nindent 2 }}
securityContext:
  {{- toYaml (merge (deepCopy $.Values.securityContext) (dict "runAsUser" 65532 "runAsGroup" 65532)) | nindent 2 }}
volumeMounts:
  - name: policy
    mountPath: /etc/mcroute
    readOnly: true
  {{- if .sidecar }}
  - name: socket
    mountPath: {{ $.Values.sidecar.socketDir }}
  {{- end }}
{{- end -}}
