{{/*
Names: <release>-stockmarket, or the release name when it already says stockmarket; at most 36
characters, so that the operators' derived names (<name>-rabbitmq-server-<n> and its revision
label) stay within the 63 characters of a label value.
*/}}
{{- define "stockmarket.fullname" -}}
{{- if contains "stockmarket" .Release.Name -}}
{{- .Release.Name | trunc 36 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-stockmarket" .Release.Name | trunc 36 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "stockmarket.name" -}}
{{- printf "%s-%s" (include "stockmarket.fullname" .root) .component -}}
{{- end -}}

{{/* Labels on every object; selector labels are the stable subset. */}}
{{- define "stockmarket.selectorLabels" -}}
app.kubernetes.io/name: stockmarket
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "stockmarket.labels" -}}
{{ include "stockmarket.selectorLabels" . }}
app.kubernetes.io/part-of: stockmarket
app.kubernetes.io/version: {{ .root.Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "stockmarket.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image .root.Values.image.tag -}}
{{- else -}}
{{- printf "%s:%s" .image .root.Values.image.tag -}}
{{- end -}}
{{- end -}}

{{/* Secret names. */}}
{{- define "stockmarket.credentialsSecret" -}}
{{- printf "%s-credentials" (include "stockmarket.fullname" .) -}}
{{- end -}}

{{/* The RabbitmqCluster's name; the operator names its Service and pods after it. */}}
{{- define "stockmarket.rabbitmqName" -}}
{{- printf "%s-rabbitmq" (include "stockmarket.fullname" .) -}}
{{- end -}}

{{- define "stockmarket.mongodbName" -}}
{{- printf "%s-mongodb" (include "stockmarket.fullname" .) -}}
{{- end -}}

{{/* Labels on the broker's pods, set by the RabbitMQ Cluster Operator. */}}
{{- define "stockmarket.rabbitmqPodLabels" -}}
app.kubernetes.io/name: {{ include "stockmarket.rabbitmqName" . }}
{{- end -}}

{{/* Labels on the MongoDB pods: this chart's StatefulSet, or the community operator's (app: <name>-svc). */}}
{{- define "stockmarket.mongodbPodLabels" -}}
{{- if eq .Values.mongodb.mode "operator" -}}
app: {{ include "stockmarket.mongodbName" . }}-svc
{{- else -}}
{{ include "stockmarket.selectorLabels" (dict "root" . "component" "mongodb") }}
{{- end -}}
{{- end -}}

{{/* Replica-set members, host:port, comma-separated. */}}
{{- define "stockmarket.mongodbHosts" -}}
{{- $name := include "stockmarket.mongodbName" . -}}
{{- $service := ternary (printf "%s-svc" $name) $name (eq .Values.mongodb.mode "operator") -}}
{{- $hosts := list -}}
{{- range $i := until (int .Values.mongodb.replicas) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s.%s.svc.%s:27017" $name $i $service $.Release.Namespace $.Values.clusterDomain) -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/*
The services' seed: the DNS SRV record Kubernetes publishes for the headless Service's port named
"mongodb" (_mongodb._tcp.<service>), which lists every member; the driver then follows the
replica set. mongodb+srv turns TLS on by default, so the URL says tls=false (the members here
speak plain TCP inside the cluster). The community operator's own connection strings use the
same record of its <name>-svc Service.
*/}}
{{- define "stockmarket.mongodbSrvHost" -}}
{{- $name := include "stockmarket.mongodbName" . -}}
{{- $service := ternary (printf "%s-svc" $name) $name (eq .Values.mongodb.mode "operator") -}}
{{- printf "%s.%s.svc.%s" $service .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/* The replica set's name: rs0 here; the operator names it after the resource. */}}
{{- define "stockmarket.mongodbReplicaSet" -}}
{{- ternary (include "stockmarket.mongodbName" .) .Values.mongodb.replicaSetName (eq .Values.mongodb.mode "operator") -}}
{{- end -}}

{{/* Broker host (the operator's client Service, named after the cluster). */}}
{{- define "stockmarket.rabbitmqHost" -}}
{{- printf "%s.%s.svc.%s" (include "stockmarket.rabbitmqName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/* Settings shared by the three services. */}}
{{- define "stockmarket.commonEnv" -}}
- name: COMPANIES
  value: {{ join "," .Values.config.companies | quote }}
- name: LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- end -}}

{{- define "stockmarket.mongodbEnv" -}}
- name: MONGODB_DB
  value: {{ .Values.config.mongodbDb | quote }}
- name: MONGODB_COLLECTION
  value: {{ .Values.config.mongodbCollection | quote }}
{{- end -}}

{{/* prometheus.io annotations for a pod that serves /metrics on .port. */}}
{{- define "stockmarket.metricsAnnotations" -}}
{{- if .root.Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* Probes on the ops port: /healthz (alive), /readyz (connected and able to work). */}}
{{- define "stockmarket.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: {{ .port }} }
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: { path: /healthz, port: {{ .port }} }
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: {{ .port }} }
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 2
{{- end -}}

{{/* A writable /tmp on a read-only root file system. */}}
{{- define "stockmarket.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/*
A service Deployment: dict root, component, port, replicas (omit: an autoscaler owns the count),
env (YAML list), terminationGracePeriodSeconds. Same image, probes and hardening for all three.
*/}}
{{- define "stockmarket.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "stockmarket.name" . }}
  labels:
    {{- include "stockmarket.labels" . | nindent 4 }}
spec:
  {{- if hasKey . "replicas" }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "stockmarket.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "stockmarket.labels" . | nindent 8 }}
      annotations:
        {{- include "stockmarket.metricsAnnotations" . | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ .terminationGracePeriodSeconds }}
      # Spread replicas over nodes, so that one node's loss takes one replica.
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "stockmarket.selectorLabels" . | nindent 14 }}
      containers:
        - name: {{ .component }}
          image: {{ include "stockmarket.image" (dict "root" $root "image" $values.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: {{ .portName }}
              containerPort: {{ .port }}
              protocol: TCP
          env:
            {{- include "stockmarket.commonEnv" $root | nindent 12 }}
            {{- .env | nindent 12 }}
          envFrom:
            - secretRef:
                name: {{ include "stockmarket.name" . }}
          {{- include "stockmarket.probes" . | nindent 10 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        {{- include "stockmarket.tmpVolume" . | nindent 8 }}
{{- end -}}

{{/* The Service in front of a Deployment (dict root, component, port, portName). */}}
{{- define "stockmarket.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "stockmarket.name" . }}
  labels:
    {{- include "stockmarket.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "stockmarket.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .port }}
      protocol: TCP
{{- end -}}

{{/*
A headless Service beside a component's Service: its DNS name resolves to every pod (ready or
not), the way compose's service name resolves to every replica, so that the liveview's System
view finds each replica (LIVEVIEW_SYSTEM_DNS). Nothing connects through it.
*/}}
{{- define "stockmarket.podsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "stockmarket.name" . }}-pods
  labels:
    {{- /* Its own component label: a ServiceMonitor selecting the service's Service must not scrape every pod twice. */}}
    {{- include "stockmarket.labels" (dict "root" .root "component" (printf "%s-pods" .component)) | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "stockmarket.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ .port }}
      targetPort: {{ .port }}
      protocol: TCP
{{- end -}}

{{/* host:port of a component's pods Service (dict root, component, port). */}}
{{- define "stockmarket.podsHost" -}}
{{- printf "%s-pods.%s.svc.%s:%d" (include "stockmarket.name" .) .root.Release.Namespace .root.Values.clusterDomain (int .port) -}}
{{- end -}}

{{/* rabbitmq_prometheus' per-object page of every broker pod (the operator's <name>-server-N, headless <name>-nodes). */}}
{{- define "stockmarket.rabbitmqMetricsUrls" -}}
{{- $name := include "stockmarket.rabbitmqName" . -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.rabbitmq.replicas) -}}
{{- $urls = append $urls (printf "http://%s-server-%d.%s-nodes.%s.svc.%s:15692/metrics/per-object" $name $i $name $.Release.Namespace $.Values.clusterDomain) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}

{{/* A PodDisruptionBudget for a component (dict root, component, pdb). */}}
{{- define "stockmarket.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "stockmarket.name" . }}
  labels:
    {{- include "stockmarket.labels" . | nindent 4 }}
spec:
  {{- toYaml .pdb | nindent 2 }}
  selector:
    matchLabels:
      {{- include "stockmarket.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* NetworkPolicy rules: from a namespace, from components, to pods (numeric ports only). */}}
{{- define "stockmarket.fromNamespace" -}}
- from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .namespace }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}
{{- define "stockmarket.fromComponents" -}}
- from:
    {{- range .components }}
    - podSelector:
        matchLabels:
          {{- include "stockmarket.selectorLabels" (dict "root" $.root "component" .) | nindent 10 }}
    {{- end }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}
{{- define "stockmarket.toPods" -}}
- to:
    - podSelector:
        matchLabels:
          {{- .labels | nindent 10 }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}
