package helmcheck

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Value sets the chart is checked with: the defaults and every switch flipped at least once.
var valueSets = map[string]string{
	"defaults": ``,
	"keda-operator-monitoring": `
consumer:
  keda: { enabled: true, minReplicas: 1, maxReplicas: 6, queueLength: 500 }
liveview:
  autoscaling: { enabled: false }
  replicas: 3
mongodb:
  mode: operator
metrics:
  serviceMonitors: { enabled: true, labels: { release: kube-prometheus-stack } }
networkPolicy:
  monitoringNamespace: ""
`,
	"own-settings": `
image: { registry: registry.example.com/trading/, tag: "1.2.3", pullPolicy: Always }
imagePullSecrets: [{ name: regcred }]
env:
  COMPANIES: AAPL,MSFT,TSLA,NVDA,BRK.B
  MONGODB_DB: markets
  LOG_LEVEL: debug
publisher:
  env: { PUBLISHER_RATE: 500, PUBLISHER_MAX_IN_FLIGHT: 1000000 }
consumer:
  env: { CONSUMER_WRITE_CONCURRENCY: 4, BATCH_SIZE: 500 }
passwords:
  rabbitmqAdmin: Admin-Pass.1
  rabbitmqPublisher: pub_pass
  rabbitmqConsumer: con~pass
  mongodbRoot: root-pass
  mongodbConsumer: mc-pass
  mongodbLiveview: ml-pass
ingress:
  host: stockmarket.example.com
  tls: [{ secretName: stockmarket-tls, hosts: [stockmarket.example.com] }]
rabbitmq: { queueType: classic, storageClassName: fast-ssd }
mongodb: { storageClassName: fast-ssd, replicas: 5 }
metrics: { annotations: false }
`,
	"no-ingress-no-policies": `
ingress: { enabled: false }
networkPolicy: { enabled: false }
`,
}

func values(t testing.TB, name string) map[string]interface{} {
	t.Helper()
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(valueSets[name]), &out); err != nil {
		t.Fatalf("value set %s: %v", name, err)
	}
	return out
}

var (
	crdsOnce sync.Once
	crds     map[schema.GroupVersionKind]*CRD
	crdsErr  error
)

func loadCRDs(t testing.TB) map[schema.GroupVersionKind]*CRD {
	t.Helper()
	crdsOnce.Do(func() { crds, crdsErr = LoadCRDs(filepath.Join("testdata", "crds")) })
	if crdsErr != nil {
		t.Fatal(crdsErr)
	}
	return crds
}

// rendered renders and decodes one value set; any decoding problem fails the test.
func rendered(t *testing.T, name string) []Object {
	t.Helper()
	manifests, err := Render(values(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	objects, problems := Decode(manifests, loadCRDs(t))
	for _, problem := range problems {
		t.Errorf("%s: %v", name, problem)
	}
	if len(objects) == 0 {
		t.Fatalf("%s: nothing rendered", name)
	}
	return objects
}

func forEachValueSet(t *testing.T, check func(t *testing.T, name string, objects []Object)) {
	names := make([]string, 0, len(valueSets))
	for name := range valueSets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { check(t, name, rendered(t, name)) })
	}
}

func typed[T runtime.Object](o Object) T { return o.Typed.(T) }

func TestHelmLint(t *testing.T) {
	for name := range valueSets {
		for _, problem := range Lint(values(t, name)) {
			t.Errorf("helm lint (%s): %s", name, problem)
		}
	}
	// And it can fail: a value the schema refuses is reported.
	bad := map[string]interface{}{"mongodb": map[string]interface{}{"mode": "helm"}}
	if problems := Lint(bad); len(problems) == 0 || !strings.Contains(strings.Join(problems, " "), "mode") {
		t.Errorf("helm lint accepted mongodb.mode=helm: %v", problems)
	}
}

// Each value set renders, and every object decodes strictly into its API type or validates
// against its operator's CRD; the expected kinds are there.
func TestRenderAndDecodeStrictly(t *testing.T) {
	want := map[string]map[string]int{
		"defaults": {
			"Deployment": 3, "StatefulSet": 1, "Job": 1, "Service": 7, "PodDisruptionBudget": 5,
			"HorizontalPodAutoscaler": 1, "Ingress": 1, "RabbitmqCluster": 1, "NetworkPolicy": 6,
			"Secret": 4, "ConfigMap": 5, "ScaledObject": 0, "MongoDBCommunity": 0, "ServiceMonitor": 0,
		},
		"keda-operator-monitoring": {
			"Deployment": 3, "StatefulSet": 0, "Job": 0, "HorizontalPodAutoscaler": 0, "ScaledObject": 1,
			"TriggerAuthentication": 1, "MongoDBCommunity": 1, "ServiceMonitor": 4, "NetworkPolicy": 5,
		},
		"no-ingress-no-policies": {"Ingress": 0, "NetworkPolicy": 0},
	}
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		counts := map[string]int{}
		for _, o := range objects {
			counts[o.GVK.Kind]++
		}
		for kind, n := range want[name] {
			if counts[kind] != n {
				t.Errorf("%d %s, want %d (all: %v)", counts[kind], kind, n, counts)
			}
		}
	})
}

// The checks above can fail: an unknown field, a wrong type and a broken CEL or schema rule are
// each refused, for a built-in kind and for the operators' kinds.
func TestDecodeRejectsWhatAServerWould(t *testing.T) {
	objects := rendered(t, "keda-operator-monitoring")
	mutate := func(kind string, change func(map[string]interface{})) Manifest {
		for _, o := range objects {
			if o.GVK.Kind == kind {
				copied := o.Unstructured.DeepCopy()
				change(copied.Object)
				data, err := yaml.Marshal(copied.Object)
				if err != nil {
					t.Fatal(err)
				}
				return Manifest{Source: "mutated " + kind, YAML: string(data)}
			}
		}
		t.Fatalf("no %s rendered", kind)
		return Manifest{}
	}
	cases := map[string]Manifest{
		"Deployment: unknown field": mutate("Deployment", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["replica"] = 2
		}),
		"Deployment: wrong type": mutate("Deployment", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["replicas"] = "two"
		}),
		"RabbitmqCluster: unknown field": mutate("RabbitmqCluster", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["nodes"] = 3
		}),
		"RabbitmqCluster: override with unknown container field": mutate("RabbitmqCluster", func(o map[string]interface{}) {
			spec := o["spec"].(map[string]interface{})["override"].(map[string]interface{})["statefulSet"].(map[string]interface{})["spec"].(map[string]interface{})["template"].(map[string]interface{})["spec"].(map[string]interface{})
			spec["containers"].([]interface{})[0].(map[string]interface{})["mounts"] = []interface{}{}
		}),
		"ScaledObject: wrong type": mutate("ScaledObject", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["minReplicaCount"] = "one"
		}),
		"ScaledObject: CEL rule min <= max": mutate("ScaledObject", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["minReplicaCount"] = int64(9)
		}),
		"ScaledObject: no trigger": mutate("ScaledObject", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["triggers"] = []interface{}{}
		}),
		"MongoDBCommunity: bad enum": mutate("MongoDBCommunity", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["type"] = "Cluster"
		}),
		"ServiceMonitor: unknown field": mutate("ServiceMonitor", func(o map[string]interface{}) {
			o["spec"].(map[string]interface{})["endpoint"] = []interface{}{}
		}),
	}
	for name, manifest := range cases {
		if _, problems := Decode([]Manifest{manifest}, loadCRDs(t)); len(problems) == 0 {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: refused: %v", name, problems[0])
		}
	}
}

// Bad values stop the install with an error naming them, before anything reaches a cluster.
func TestBadValuesAreRefused(t *testing.T) {
	cases := map[string]string{
		"passwords.rabbitmqPublisher": `passwords: { rabbitmqPublisher: "p@ss/word" }`,
		"mongodb.mode":                `mongodb: { mode: helm }`,
		"env.COMPANIES":               `env: { COMPANIES: "AAPL,aapl" }`,
		"env.NO_SUCH_SETTING":         `env: { NO_SUCH_SETTING: "1" }`,
		"consumer.env.PORT":           `consumer: { env: { PORT: 8000 } }`,
		"liveview.env.PORT":           `liveview: { env: { PORT: 8000 } }`,
		"rabbitmq.queueType":          `rabbitmq: { queueType: stream }`,
		"passwords.unknown":           `passwords: { rabbitmqGuest: x }`,
	}
	for field, text := range cases {
		vals := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(text), &vals); err != nil {
			t.Fatal(err)
		}
		_, err := Render(vals)
		if err == nil {
			t.Errorf("%s: rendered", field)
			continue
		}
		leaf := field[strings.LastIndex(field, ".")+1:]
		if strings.HasSuffix(field, ".env.PORT") {
			leaf = field // not the consumer's variable; set by the chart for the liveview
		}
		if field == "passwords.unknown" {
			leaf = "rabbitmqGuest"
		}
		if !strings.Contains(err.Error(), leaf) {
			t.Errorf("%s: error does not name it: %v", field, err)
		}
	}
}

// podSpecs returns every pod template the release runs: its workloads' and the one the chart
// merges into the RabbitMQ operator's StatefulSet.
func podSpecs(t *testing.T, objects []Object) map[string]*corev1.PodSpec {
	t.Helper()
	out := map[string]*corev1.PodSpec{}
	for _, o := range objects {
		switch w := o.Typed.(type) {
		case *appsv1.Deployment:
			out[o.Describe()] = &w.Spec.Template.Spec
		case *appsv1.StatefulSet:
			out[o.Describe()] = &w.Spec.Template.Spec
		case *batchv1.Job:
			out[o.Describe()] = &w.Spec.Template.Spec
		}
		if o.GVK.Kind == "RabbitmqCluster" {
			raw, found, err := unstructured.NestedMap(o.Unstructured.Object, "spec", "override", "statefulSet", "spec", "template", "spec")
			if err != nil || !found {
				t.Fatalf("%s: no pod override", o.Describe())
			}
			spec := &corev1.PodSpec{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(raw, spec, true); err != nil {
				t.Fatalf("%s: %v", o.Describe(), err)
			}
			out[o.Describe()+" (override)"] = spec
		}
	}
	return out
}

// Every container: non-root (numeric uid, as the kubelet must verify it), no privilege
// escalation, no capabilities, read-only root file system, CPU and memory requests and limits;
// every long-running container has liveness and readiness probes, the services' on /healthz and
// /readyz.
func TestContainersAreHardenedAndProbed(t *testing.T) {
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		specs := podSpecs(t, objects)
		if len(specs) == 0 {
			t.Fatal("no pod specs")
		}
		for workload, spec := range specs {
			pod := spec.SecurityContext
			if pod == nil {
				pod = &corev1.PodSecurityContext{}
			}
			operatorContainer := strings.HasPrefix(workload, "RabbitmqCluster/")
			all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
			for i, c := range all {
				where := fmt.Sprintf("%s container %s", workload, c.Name)
				if operatorContainer && i >= len(spec.InitContainers) {
					continue // the operator's own container, hardened and probed by the operator
				}
				sc := c.SecurityContext
				if sc == nil {
					t.Errorf("%s: no securityContext", where)
					continue
				}
				nonRoot := sc.RunAsNonRoot
				if nonRoot == nil {
					nonRoot = pod.RunAsNonRoot
				}
				uid := sc.RunAsUser
				if uid == nil {
					uid = pod.RunAsUser
				}
				if nonRoot == nil || !*nonRoot || uid == nil || *uid == 0 {
					t.Errorf("%s: not runAsNonRoot with a numeric non-zero runAsUser", where)
				}
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					t.Errorf("%s: privilege escalation allowed", where)
				}
				if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("%s: root file system writable", where)
				}
				if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0 {
					t.Errorf("%s: capabilities not dropped", where)
				}
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if _, ok := c.Resources.Limits[r]; !ok {
						t.Errorf("%s: no %s limit", where, r)
					}
					if _, ok := c.Resources.Requests[r]; !ok {
						t.Errorf("%s: no %s request", where, r)
					}
				}
				if i < len(spec.InitContainers) || strings.HasPrefix(workload, "Job/") {
					continue
				}
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: missing liveness or readiness probe", where)
				}
				if strings.HasPrefix(workload, "Deployment/") {
					if c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
						t.Errorf("%s: liveness probe is not GET /healthz", where)
					}
					if c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
						t.Errorf("%s: readiness probe is not GET /readyz", where)
					}
					if c.ReadinessProbe.HTTPGet.Port.IntVal != c.Ports[0].ContainerPort {
						t.Errorf("%s: probe port %v is not the container port", where, c.ReadinessProbe.HTTPGet.Port)
					}
				}
			}
			if !operatorContainer && spec.AutomountServiceAccountToken != nil && *spec.AutomountServiceAccountToken {
				t.Errorf("%s: mounts a service-account token it does not need", workload)
			}
		}
	})
}

type secretRef struct{ where, name, key string }

// Every Secret (and key) and ConfigMap a pod or custom resource refers to is rendered by the chart.
func TestReferencedSecretsAndConfigMapsExist(t *testing.T) {
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		secrets := map[string]map[string]bool{}
		for _, o := range Kind(objects, "Secret") {
			s := typed[*corev1.Secret](o)
			secrets[s.Name] = map[string]bool{}
			for key := range s.Data {
				secrets[s.Name][key] = true
			}
			for key := range s.StringData {
				secrets[s.Name][key] = true
			}
		}
		configMaps := map[string]bool{}
		for _, o := range Kind(objects, "ConfigMap") {
			configMaps[o.Name] = true
		}
		var refs []secretRef
		for workload, spec := range podSpecs(t, objects) {
			for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
				for _, env := range c.Env {
					if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
						refs = append(refs, secretRef{workload + " env " + env.Name, env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key})
					}
				}
				for _, from := range c.EnvFrom {
					if from.SecretRef != nil {
						refs = append(refs, secretRef{workload + " envFrom", from.SecretRef.Name, ""})
					}
				}
			}
			for _, v := range spec.Volumes {
				if v.Secret != nil {
					for _, item := range v.Secret.Items {
						refs = append(refs, secretRef{workload + " volume " + v.Name, v.Secret.SecretName, item.Key})
					}
				}
				if v.ConfigMap != nil && !configMaps[v.ConfigMap.Name] {
					t.Errorf("%s volume %s: ConfigMap %s not rendered", workload, v.Name, v.ConfigMap.Name)
				}
			}
			for _, pullSecret := range spec.ImagePullSecrets {
				if pullSecret.Name != "regcred" { // the user's own, named in values
					t.Errorf("%s: unexpected image pull secret %s", workload, pullSecret.Name)
				}
			}
		}
		for _, o := range Kind(objects, "TriggerAuthentication") {
			targets, _, _ := unstructured.NestedSlice(o.Unstructured.Object, "spec", "secretTargetRef")
			for _, target := range targets {
				m := target.(map[string]interface{})
				refs = append(refs, secretRef{o.Describe(), m["name"].(string), m["key"].(string)})
			}
		}
		for _, o := range Kind(objects, "MongoDBCommunity") {
			users, _, _ := unstructured.NestedSlice(o.Unstructured.Object, "spec", "users")
			for _, user := range users {
				ref := user.(map[string]interface{})["passwordSecretRef"].(map[string]interface{})
				refs = append(refs, secretRef{o.Describe() + " user", ref["name"].(string), ref["key"].(string)})
			}
		}
		for _, o := range Kind(objects, "ScaledObject") {
			triggers, _, _ := unstructured.NestedSlice(o.Unstructured.Object, "spec", "triggers")
			for _, trigger := range triggers {
				auth, _, _ := unstructured.NestedString(trigger.(map[string]interface{}), "authenticationRef", "name")
				if Find(objects, "TriggerAuthentication", auth) == nil {
					t.Errorf("%s: TriggerAuthentication %q not rendered", o.Describe(), auth)
				}
			}
		}
		if len(refs) < 10 {
			t.Fatalf("only %d secret references found; the walk is broken", len(refs))
		}
		for _, ref := range refs {
			keys, ok := secrets[ref.name]
			if !ok {
				t.Errorf("%s: Secret %s not rendered", ref.where, ref.name)
			} else if ref.key != "" && !keys[ref.key] {
				t.Errorf("%s: Secret %s has no key %s", ref.where, ref.name, ref.key)
			}
		}
	})
}

// podTemplates: the pod labels and container ports of each workload the chart renders.
func podTemplates(objects []Object) map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for _, o := range objects {
		switch w := o.Typed.(type) {
		case *appsv1.Deployment:
			out[o.Describe()] = w.Spec.Template
		case *appsv1.StatefulSet:
			out[o.Describe()] = w.Spec.Template
		case *batchv1.Job:
			out[o.Describe()] = w.Spec.Template
		}
	}
	return out
}

// Labels the operators put on the pods they create (cluster-operator: app.kubernetes.io/name
// = the cluster's name; community operator: app = <name>-svc).
func operatorPodLabels(objects []Object) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, o := range Kind(objects, "RabbitmqCluster") {
		out[o.Describe()] = map[string]string{"app.kubernetes.io/name": o.Name, "app.kubernetes.io/component": "rabbitmq", "app.kubernetes.io/part-of": "rabbitmq"}
	}
	for _, o := range Kind(objects, "MongoDBCommunity") {
		out[o.Describe()] = map[string]string{"app": o.Name + "-svc"}
	}
	return out
}

// Every Service selects the pods of one workload and targets a port they expose; every PDB
// selects a workload's pods (or the pods an operator makes); autoscalers target a Deployment
// whose replica count they own, with the CPU requests the HPA needs.
func TestSelectorsAndTargets(t *testing.T) {
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		templates := podTemplates(objects)
		for _, o := range Kind(objects, "Service") {
			svc := typed[*corev1.Service](o)
			var matched []string
			for workload, tpl := range templates {
				if len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(tpl.Labels)) {
					matched = append(matched, workload)
					for _, port := range svc.Spec.Ports {
						found := false
						for _, c := range tpl.Spec.Containers {
							for _, cp := range c.Ports {
								found = found || cp.ContainerPort == port.TargetPort.IntVal
							}
						}
						if !found {
							t.Errorf("%s port %s: target %v not exposed by %s", o.Describe(), port.Name, port.TargetPort, workload)
						}
					}
				}
			}
			if len(matched) != 1 || strings.HasPrefix(matched[0], "Job/") {
				t.Errorf("%s selects %v, want exactly one Deployment or StatefulSet", o.Describe(), matched)
			}
		}
		operatorPods := operatorPodLabels(objects)
		for _, o := range Kind(objects, "PodDisruptionBudget") {
			pdb := typed[*policyv1.PodDisruptionBudget](o)
			selector, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for workload, tpl := range templates {
				if selector.Matches(labels.Set(tpl.Labels)) && !strings.HasPrefix(workload, "Job/") {
					n++
				}
			}
			for _, podLabels := range operatorPods {
				if selector.Matches(labels.Set(podLabels)) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s selects %d workloads, want 1", o.Describe(), n)
			}
		}
		scaled := map[string]string{}
		for _, o := range Kind(objects, "HorizontalPodAutoscaler") {
			hpa := typed[*autoscalingv2.HorizontalPodAutoscaler](o)
			scaled[hpa.Spec.ScaleTargetRef.Name] = o.Describe()
			d := Find(objects, "Deployment", hpa.Spec.ScaleTargetRef.Name)
			if d == nil || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
				t.Errorf("%s: target %v not rendered", o.Describe(), hpa.Spec.ScaleTargetRef)
				continue
			}
			for _, c := range typed[*appsv1.Deployment](*d).Spec.Template.Spec.Containers {
				if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
					t.Errorf("%s: %s has no CPU request to scale on", o.Describe(), c.Name)
				}
			}
		}
		for _, o := range Kind(objects, "ScaledObject") {
			target, _, _ := unstructured.NestedString(o.Unstructured.Object, "spec", "scaleTargetRef", "name")
			scaled[target] = o.Describe()
			if Find(objects, "Deployment", target) == nil {
				t.Errorf("%s: target %s not rendered", o.Describe(), target)
			}
		}
		for _, o := range Kind(objects, "Deployment") {
			d := typed[*appsv1.Deployment](o)
			if by, ok := scaled[d.Name]; ok && d.Spec.Replicas != nil {
				t.Errorf("%s sets replicas although %s owns the count", o.Describe(), by)
			}
			if _, ok := scaled[d.Name]; !ok && d.Spec.Replicas == nil {
				t.Errorf("%s has no replica count and no autoscaler", o.Describe())
			}
		}
		for _, o := range Kind(objects, "Ingress") {
			ing := typed[*networkingv1.Ingress](o)
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
				t.Errorf("%s: not for ingress-nginx", o.Describe())
			}
			if ing.Annotations["nginx.ingress.kubernetes.io/affinity"] != "cookie" {
				t.Errorf("%s: no cookie affinity", o.Describe())
			}
			backend := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
			svc := Find(objects, "Service", backend.Name)
			if svc == nil || typed[*corev1.Service](*svc).Spec.Ports[0].Port != backend.Port.Number {
				t.Errorf("%s: backend %s:%d is not a rendered Service port", o.Describe(), backend.Name, backend.Port.Number)
			}
		}
	})
}

// The environment the chart gives each service (its container's env, its settings ConfigMap and
// its Secret) uses only names that service's schema knows: deploy/settings.json, generated from
// the schemas by npm run settings. A renamed variable cannot be silently ignored.
func TestServiceEnvironmentNamesAreKnown(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "deploy", "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		Services map[string]map[string]*string `json:"services"`
	}
	if err := json.Unmarshal(data, &settings); err != nil {
		t.Fatal(err)
	}
	forEachValueSet(t, func(t *testing.T, set string, objects []Object) {
		for _, service := range []string{"publisher", "consumer", "liveview"} {
			known := settings.Services[service]
			if len(known) < 5 {
				t.Fatalf("%s: only %d variables in deploy/settings.json", service, len(known))
			}
			d := Find(objects, "Deployment", ReleaseName+"-stockmarket-"+service)
			if d == nil {
				t.Fatalf("no %s Deployment", service)
			}
			container := typed[*appsv1.Deployment](*d).Spec.Template.Spec.Containers[0]
			names := []string{}
			for _, env := range container.Env {
				names = append(names, env.Name)
			}
			for _, from := range container.EnvFrom {
				switch {
				case from.ConfigMapRef != nil:
					cm := Find(objects, "ConfigMap", from.ConfigMapRef.Name)
					if cm == nil {
						t.Fatalf("%s: ConfigMap %s not rendered", service, from.ConfigMapRef.Name)
					}
					for key := range typed[*corev1.ConfigMap](*cm).Data {
						names = append(names, key)
					}
				case from.SecretRef != nil:
					for key := range typed[*corev1.Secret](*Find(objects, "Secret", from.SecretRef.Name)).Data {
						names = append(names, key)
					}
				}
			}
			for _, name := range names {
				if _, ok := known[name]; !ok {
					t.Errorf("%s: %s is not a variable of the %s's schema (deploy/settings.json)", service, name, service)
				}
			}
		}
	})
}

// The broker imports compose's topology: rabbitmq/definitions.json with only the company queues
// (from values, of the chosen type) changed; the mongo-init Job runs compose's files unchanged.
func TestSameTopologyAndInitAsCompose(t *testing.T) {
	objects := rendered(t, "own-settings")
	cm := Find(objects, "ConfigMap", ReleaseName+"-stockmarket-rabbitmq-definitions")
	if cm == nil {
		t.Fatal("no definitions ConfigMap")
	}
	var chartDefs, composeDefs map[string]interface{}
	if err := json.Unmarshal([]byte(typed[*corev1.ConfigMap](*cm).Data["definitions.json"]), &chartDefs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "rabbitmq", "definitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &composeDefs); err != nil {
		t.Fatal(err)
	}
	var queueNames []string
	for _, q := range chartDefs["queues"].([]interface{}) {
		queue := q.(map[string]interface{})
		queueNames = append(queueNames, queue["name"].(string))
		if len(queue["arguments"].(map[string]interface{})) != 0 {
			t.Errorf("queue %s: arguments %v with queueType classic", queue["name"], queue["arguments"])
		}
	}
	if got, want := strings.Join(queueNames, ","), "AAPL,MSFT,TSLA,NVDA,BRK.B,stockmarket.ledger,stockmarket.dead-letters"; got != want {
		t.Errorf("queues %s, want %s", got, want)
	}
	delete(chartDefs, "queues")
	delete(composeDefs, "queues")
	a, _ := json.Marshal(chartDefs)
	b, _ := json.Marshal(composeDefs)
	if string(a) != string(b) {
		t.Errorf("definitions differ from rabbitmq/definitions.json beyond the queues:\nchart:   %s\ncompose: %s", a, b)
	}
	script, _ := os.ReadFile(filepath.Join(RepoRoot(), "rabbitmq", "render-definitions.mjs"))
	if typed[*corev1.ConfigMap](*cm).Data["render-definitions.mjs"] != string(script) {
		t.Error("render-definitions.mjs in the chart differs from rabbitmq/render-definitions.mjs")
	}
	initCM := Find(objects, "ConfigMap", ReleaseName+"-stockmarket-mongodb-init")
	for _, file := range []string{"init.js", "setup.cjs"} {
		want, _ := os.ReadFile(filepath.Join(RepoRoot(), "mongo-init", file))
		if initCM == nil || typed[*corev1.ConfigMap](*initCM).Data[file] != string(want) {
			t.Errorf("mongo-init/%s in the chart differs from the repository's", file)
		}
	}
	// Quorum by default, for every queue of the definitions.
	defaults := rendered(t, "defaults")
	cm = Find(defaults, "ConfigMap", ReleaseName+"-stockmarket-rabbitmq-definitions")
	if !strings.Contains(typed[*corev1.ConfigMap](*cm).Data["definitions.json"], `"x-queue-type": "quorum"`) {
		t.Error("default queues are not quorum queues")
	}
	for _, o := range Kind(defaults, "Deployment") {
		for _, env := range typed[*appsv1.Deployment](o).Spec.Template.Spec.Containers[0].Env {
			if env.Name == "PUBLISHER_QUEUE_TYPE" && env.Value != "quorum" {
				t.Errorf("publisher declares %s queues on a quorum broker", env.Value)
			}
		}
	}
}
