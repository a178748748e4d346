package helmcheck

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// The chart's liveview gets what compose's gets: the consumer's write notices over AMQP (user
// liveview, the password of the credentials Secret) and a System view that finds every replica
// of each service by DNS (a headless Service per service, as compose's service name resolves to
// every replica) and every broker pod's rabbitmq_prometheus page.
func TestLiveviewGetsWriteNoticesAndTheSystemView(t *testing.T) {
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		prefix := ReleaseName + "-stockmarket-"
		d := Find(objects, "Deployment", prefix+"liveview")
		if d == nil {
			t.Fatal("no liveview Deployment")
		}
		env := map[string]string{}
		for _, e := range typed[*appsv1.Deployment](*d).Spec.Template.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		domain := ".stockmarket.svc.cluster.local"

		// LIVEVIEW_SYSTEM_DNS: one host:port per service, each a headless Service selecting that
		// service's pods on a port their container exposes.
		want := map[string]int32{"publisher": 8080, "consumer": 8081, "liveview": 3000}
		entries := strings.Split(env["LIVEVIEW_SYSTEM_DNS"], ",")
		if len(entries) != len(want) {
			t.Fatalf("LIVEVIEW_SYSTEM_DNS = %q, want one entry per service", env["LIVEVIEW_SYSTEM_DNS"])
		}
		for _, entry := range entries {
			host, portText, _ := strings.Cut(entry, ":")
			port, _ := strconv.Atoi(portText)
			serviceName := strings.TrimSuffix(host, domain)
			o := Find(objects, "Service", serviceName)
			if o == nil || serviceName == host {
				t.Errorf("LIVEVIEW_SYSTEM_DNS entry %s: no Service %s in the release's namespace", entry, serviceName)
				continue
			}
			svc := typed[*corev1.Service](*o)
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("%s: not headless, so its name resolves to one virtual address, not to every pod", o.Describe())
			}
			component := strings.TrimSuffix(strings.TrimPrefix(serviceName, prefix), "-pods")
			if want[component] != int32(port) || svc.Spec.Ports[0].Port != int32(port) {
				t.Errorf("%s: port %d, want %d", entry, port, want[component])
			}
			target := Find(objects, "Deployment", prefix+component)
			if target == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(typed[*appsv1.Deployment](*target).Spec.Template.Labels)) {
				t.Errorf("%s does not select the %s pods", o.Describe(), component)
			}
			delete(want, component)
		}
		if len(want) > 0 {
			t.Errorf("LIVEVIEW_SYSTEM_DNS misses %v", want)
		}

		// A ServiceMonitor scrapes each pod once: through one Service, not also the headless one.
		for _, sm := range Kind(objects, "ServiceMonitor") {
			selector, _, _ := unstructured.NestedStringMap(sm.Unstructured.Object, "spec", "selector", "matchLabels")
			var selected []string
			for _, o := range Kind(objects, "Service") {
				if labels.SelectorFromSet(selector).Matches(labels.Set(typed[*corev1.Service](o).Labels)) {
					selected = append(selected, o.Describe())
				}
			}
			if len(selected) > 1 {
				t.Errorf("%s selects %v: every pod would be scraped twice", sm.Describe(), selected)
			}
		}

		// LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS: every pod of the RabbitmqCluster, by the
		// operator's names (<cluster>-server-<n> under the headless <cluster>-nodes).
		cluster := Kind(objects, "RabbitmqCluster")
		if len(cluster) != 1 {
			t.Fatalf("%d RabbitmqClusters", len(cluster))
		}
		replicas, _, _ := unstructured.NestedInt64(cluster[0].Unstructured.Object, "spec", "replicas")
		rabbit := cluster[0].Unstructured.GetName()
		urls := strings.Split(env["LIVEVIEW_SYSTEM_RABBITMQ_METRICS_URLS"], ",")
		if int64(len(urls)) != replicas {
			t.Errorf("%d broker metrics URLs for %d broker pods", len(urls), replicas)
		}
		for i, raw := range urls {
			want := fmt.Sprintf("http://%s-server-%d.%s-nodes%s:15692/metrics/per-object", rabbit, i, rabbit, domain)
			if raw != want {
				t.Errorf("broker metrics URL %d = %s, want %s", i, raw, want)
			}
		}

		// LIVEVIEW_RABBITMQ_URLS: in the liveview's Secret, user liveview with the generated password.
		secret := typed[*corev1.Secret](*Find(objects, "Secret", prefix+"liveview"))
		credentials := typed[*corev1.Secret](*Find(objects, "Secret", prefix+"credentials"))
		notices, err := url.Parse(string(secret.Data["LIVEVIEW_RABBITMQ_URLS"]))
		if err != nil || notices.Scheme != "amqp" {
			t.Fatalf("LIVEVIEW_RABBITMQ_URLS = %q: not an amqp URL", secret.Data["LIVEVIEW_RABBITMQ_URLS"])
		}
		password, _ := notices.User.Password()
		if notices.User.Username() != "liveview" || password != string(credentials.Data["rabbitmq-liveview-password"]) {
			t.Errorf("LIVEVIEW_RABBITMQ_URLS: user %s and not the credentials' liveview password", notices.User.Username())
		}
		if notices.Hostname() != rabbit+domain || notices.Path != "/stockmarket" {
			t.Errorf("LIVEVIEW_RABBITMQ_URLS: %s%s, want the broker's Service %s and vhost stockmarket", notices.Hostname(), notices.Path, rabbit+domain)
		}
	})
}
