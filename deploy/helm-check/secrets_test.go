package helmcheck

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/scheme"
)

// fakeCluster answers Helm's `lookup` from a fake dynamic client holding the given objects,
// as a cluster with a live release would.
type fakeCluster struct {
	client *dynamicfake.FakeDynamicClient
}

func (f fakeCluster) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false, err
	}
	if kind != "Secret" || gv.Version != "v1" || gv.Group != "" {
		return nil, false, fmt.Errorf("the fake cluster only knows Secrets, not %s %s", apiVersion, kind)
	}
	return f.client.Resource(gv.WithResource("secrets")), true, nil
}

func secretData(t *testing.T, manifests []Manifest, name string) map[string]string {
	t.Helper()
	objects, problems := Decode(manifests, loadCRDs(t))
	for _, p := range problems {
		t.Error(p)
	}
	o := Find(objects, "Secret", name)
	if o == nil {
		t.Fatalf("Secret %s not rendered", name)
	}
	out := map[string]string{}
	for key, value := range o.Typed.(*corev1.Secret).Data {
		out[key] = string(value)
	}
	return out
}

var passwordKeys = []string{
	"rabbitmq-admin-password", "rabbitmq-publisher-password", "rabbitmq-consumer-password",
	"mongodb-root-password", "mongodb-consumer-password", "mongodb-liveview-password", "mongodb-keyfile",
}

// A fresh install generates every password, different each time, and builds the services'
// connection strings from those same passwords.
func TestPasswordsAreGeneratedOnInstall(t *testing.T) {
	first, err := Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := secretData(t, first, ReleaseName+"-stockmarket-credentials")
	b := secretData(t, second, ReleaseName+"-stockmarket-credentials")
	for _, key := range passwordKeys {
		if len(a[key]) < 32 {
			t.Errorf("%s: %d characters", key, len(a[key]))
		}
		if a[key] == b[key] {
			t.Errorf("%s: the same in two installs", key)
		}
	}
	checkURL := func(service, variable, user, passwordKey string) {
		raw := secretData(t, first, ReleaseName+"-stockmarket-"+service)[variable]
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s %s: %v", service, variable, err)
		}
		password, _ := u.User.Password()
		if u.User.Username() != user || password != a[passwordKey] {
			t.Errorf("%s %s: user %s with another password than the credentials Secret's %s", service, variable, u.User.Username(), passwordKey)
		}
	}
	checkURL("publisher", "RABBITMQ_URL", "publisher", "rabbitmq-publisher-password")
	checkURL("consumer", "RABBITMQ_URL", "consumer", "rabbitmq-consumer-password")
	checkURL("consumer", "MONGODB_URL", "consumer", "mongodb-consumer-password")
	checkURL("liveview", "MONGODB_URL", "liveview", "mongodb-liveview-password")
	// The consumer's leases fence themselves within one AMQP heartbeat (docs/consumer.md): 10 s, as in compose.
	if consumerURL, _ := url.Parse(secretData(t, first, ReleaseName+"-stockmarket-consumer")["RABBITMQ_URL"]); consumerURL.Query().Get("heartbeat") != "10" {
		t.Errorf("consumer RABBITMQ_URL has no 10 s heartbeat: %s", consumerURL.RawQuery)
	}
	mongoURL := secretData(t, first, ReleaseName+"-stockmarket-consumer")["MONGODB_URL"]
	srvHost := ReleaseName + "-stockmarket-mongodb." + Namespace + ".svc.cluster.local"
	if !strings.HasPrefix(mongoURL, "mongodb+srv://") || !strings.Contains(mongoURL, "@"+srvHost+"/stockmarket?") ||
		!strings.Contains(mongoURL, "replicaSet=rs0") || !strings.Contains(mongoURL, "tls=false") {
		t.Errorf("MONGODB_URL does not seed rs0 from the headless Service's SRV record without TLS: %s", mongoURL)
	}
}

// An upgrade reads the passwords back from the live Secret (Helm's lookup), so the broker's and
// the database's users keep working; a password given in values wins.
func TestPasswordsAreKeptOnUpgrade(t *testing.T) {
	live := map[string][]byte{}
	for _, key := range passwordKeys {
		live[key] = []byte("live-" + key)
	}
	existing := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: ReleaseName + "-stockmarket-credentials", Namespace: Namespace},
		Data:       live,
	}
	unstructuredSecret, err := runtime.DefaultUnstructuredConverter.ToUnstructured(existing)
	if err != nil {
		t.Fatal(err)
	}
	client := dynamicfake.NewSimpleDynamicClient(scheme.Scheme, &unstructured.Unstructured{Object: unstructuredSecret})
	vals := map[string]interface{}{"passwords": map[string]interface{}{"mongodbLiveview": "given-in-values"}}
	manifests, err := RenderWithClient(vals, fakeCluster{client})
	if err != nil {
		t.Fatal(err)
	}
	got := secretData(t, manifests, ReleaseName+"-stockmarket-credentials")
	for _, key := range passwordKeys {
		want := "live-" + key
		if key == "mongodb-liveview-password" {
			want = "given-in-values"
		}
		if got[key] != want {
			t.Errorf("%s: %q after upgrade, want %q", key, got[key], want)
		}
	}
	if url := secretData(t, manifests, ReleaseName+"-stockmarket-publisher")["RABBITMQ_URL"]; !strings.Contains(url, ":live-rabbitmq-publisher-password@") {
		t.Errorf("publisher URL not built from the kept password: %s", url)
	}
}
