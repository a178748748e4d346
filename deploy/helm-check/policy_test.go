package helmcheck

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

// Ports any pod here listens on: the services', AMQP, RabbitMQ management, Prometheus and
// clustering, MongoDB, DNS.
var candidatePorts = []int32{53, 3000, 4369, 5672, 8080, 8081, 15672, 15692, 25672, 27017}

// peers: one pod per workload of the release (named by component), the operators' pods, and
// pods of the namespaces the chart lets in, plus one of a namespace nobody should reach us from.
func peers(t *testing.T, objects []Object) []Peer {
	var out []Peer
	for _, tpl := range podTemplates(objects) {
		out = append(out, Peer{Name: tpl.Labels["app.kubernetes.io/component"], Namespace: Namespace, Labels: tpl.Labels})
	}
	for workload, podLabels := range operatorPodLabels(objects) {
		name := "rabbitmq"
		if strings.HasPrefix(workload, "MongoDBCommunity/") {
			name = "mongodb"
		}
		out = append(out, Peer{Name: name, Namespace: Namespace, Labels: podLabels})
	}
	for _, ns := range []string{"ingress-nginx", "monitoring", "keda"} {
		out = append(out, Peer{Name: ns, Namespace: ns, Labels: map[string]string{"app": "x"}})
	}
	out = append(out,
		Peer{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Peer{Name: "stranger", Namespace: "default", Labels: map[string]string{"app.kubernetes.io/name": "stockmarket", "app.kubernetes.io/component": "consumer"}},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func policies(t *testing.T, objects []Object) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, o := range Kind(objects, "NetworkPolicy") {
		policy := typed[*networkingv1.NetworkPolicy](o)
		for _, rule := range policy.Spec.Ingress {
			for _, port := range rule.Ports {
				if port.Port != nil && port.Port.StrVal != "" {
					t.Errorf("%s: named port %s (numeric ports only, so the edges can be checked)", o.Describe(), port.Port.StrVal)
				}
			}
		}
		out = append(out, policy)
	}
	return out
}

func edges(lines ...string) []string {
	var out []string
	for _, line := range lines {
		from, rest, _ := strings.Cut(line, "->")
		to, ports, _ := strings.Cut(rest, ":")
		if ports == "*" {
			for _, p := range candidatePorts {
				out = append(out, fmt.Sprintf("%s->%s:%d", from, to, p))
			}
			continue
		}
		for _, p := range strings.Split(ports, ",") {
			out = append(out, fmt.Sprintf("%s->%s:%s", from, to, p))
		}
	}
	sort.Strings(out)
	return out
}

// The data flow, and nothing else: every connection the policies allow between the release's
// pods and from other namespaces, on every port those pods use, is one of these.
func TestNetworkPoliciesAllowExactlyTheDataFlow(t *testing.T) {
	base := []string{
		"ingress-nginx->liveview:3000",
		"publisher->rabbitmq:5672",
		"consumer->rabbitmq:5672",
		"consumer->mongodb:27017",
		"liveview->mongodb:27017",
		// Write notices, and the System view reading every replica and broker node.
		"liveview->rabbitmq:5672,15692",
		"liveview->publisher:8080", "liveview->consumer:8081", "liveview->liveview:3000",
		"mongodb->mongodb:27017",
		"rabbitmq->rabbitmq:*",
	}
	cases := map[string][]string{
		"defaults": append(append([]string{}, base...),
			"mongodb-init->mongodb:27017",
			"monitoring->publisher:8080", "monitoring->consumer:8081", "monitoring->liveview:3000", "monitoring->rabbitmq:15692"),
		// No monitoring namespace, KEDA reads the queues, the operator runs MongoDB (no init Job).
		"keda-operator-monitoring": append(append([]string{}, base...), "keda->rabbitmq:5672"),
	}
	for name, wantLines := range cases {
		t.Run(name, func(t *testing.T) {
			objects := rendered(t, name)
			all := peers(t, objects)
			got, unisolated, err := Edges(policies(t, objects), all, candidatePorts)
			if err != nil {
				t.Fatal(err)
			}
			if len(unisolated) > 0 {
				t.Errorf("pods selected by no ingress policy: %v", unisolated)
			}
			want := edges(wantLines...)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("allowed edges differ\n%s", diff(got, want))
			}
			// The services and the Job reach DNS, and nothing outside the edges above.
			for _, src := range all {
				if src.Namespace != Namespace || src.Name == "rabbitmq" || src.Name == "mongodb" {
					continue
				}
				dns := Peer{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}}
				if ok, _ := EgressAllows(policies(t, objects), src, dns, 53); !ok {
					t.Errorf("%s cannot resolve names (no egress to kube-dns:53)", src.Name)
				}
				outside := Peer{Name: "internet", Namespace: "elsewhere", Labels: map[string]string{}}
				if ok, _ := EgressAllows(policies(t, objects), src, outside, 443); ok {
					t.Errorf("%s may connect anywhere (egress not restricted)", src.Name)
				}
			}
		})
	}
}

func diff(got, want []string) string {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, g := range got {
		if !in(want, g) {
			fmt.Fprintf(&b, "  allowed but not in the data flow: %s\n", g)
		}
	}
	for _, w := range want {
		if !in(got, w) {
			fmt.Fprintf(&b, "  in the data flow but blocked:     %s\n", w)
		}
	}
	return b.String()
}

// The evaluation itself can fail: without the chart's policies everything is open, and a policy
// opened to every source shows up as extra edges.
func TestEdgeEvaluationDetectsOpenPolicies(t *testing.T) {
	objects := rendered(t, "defaults")
	all := peers(t, objects)
	_, unisolated, err := Edges(nil, all, candidatePorts)
	if err != nil || len(unisolated) == 0 {
		t.Fatalf("no policies, yet every pod counts as isolated (%v)", err)
	}
	list := policies(t, objects)
	opened := list[0].DeepCopy()
	opened.Spec.Ingress = append(opened.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{})
	got, _, err := Edges(append(list[1:], opened), all, candidatePorts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(got, " "), "stranger->") {
		t.Errorf("a policy open to all sources was not noticed: %v", got)
	}
}
