package helmcheck

import (
	"fmt"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Peer is a pod that may send or receive traffic: in the release's namespace or another one.
type Peer struct {
	Name      string
	Namespace string
	Labels    map[string]string
}

// NamespaceLabels are the labels Kubernetes puts on every namespace (kubernetes.io/metadata.name).
func NamespaceLabels(namespace string) labels.Set {
	return labels.Set{"kubernetes.io/metadata.name": namespace}
}

// Edges evaluates NetworkPolicy semantics (as a CNI enforcing them does) over the given peers and
// ports and returns every allowed "from->to:port" for destinations in the release's namespace.
// A connection needs both the destination's ingress and, where the source is selected by an
// egress policy, the source's egress to allow it. Unisolated destinations are returned apart.
func Edges(policies []*networkingv1.NetworkPolicy, peers []Peer, ports []int32) (allowed []string, unisolated []string, err error) {
	for _, dst := range peers {
		if dst.Namespace != Namespace {
			continue
		}
		ingressPolicies, err := selecting(policies, dst, networkingv1.PolicyTypeIngress)
		if err != nil {
			return nil, nil, err
		}
		if len(ingressPolicies) == 0 {
			unisolated = append(unisolated, dst.Name)
			continue
		}
		for _, src := range peers {
			for _, port := range ports {
				in, err := ingressAllows(ingressPolicies, src, port)
				if err != nil {
					return nil, nil, err
				}
				if !in {
					continue
				}
				out, err := EgressAllows(policies, src, dst, port)
				if err != nil {
					return nil, nil, err
				}
				if out {
					allowed = append(allowed, fmt.Sprintf("%s->%s:%d", src.Name, dst.Name, port))
				}
			}
		}
	}
	sort.Strings(allowed)
	return allowed, unisolated, nil
}

// EgressAllows says whether src's egress policies (if any select it) let it reach dst:port.
func EgressAllows(policies []*networkingv1.NetworkPolicy, src, dst Peer, port int32) (bool, error) {
	if src.Namespace != Namespace {
		return true, nil // other namespaces' policies are not ours
	}
	egressPolicies, err := selecting(policies, src, networkingv1.PolicyTypeEgress)
	if err != nil || len(egressPolicies) == 0 {
		return err == nil, err
	}
	for _, policy := range egressPolicies {
		for _, rule := range policy.Spec.Egress {
			match, err := peersMatch(rule.To, dst)
			if err != nil {
				return false, err
			}
			if match && portsMatch(rule.Ports, port) {
				return true, nil
			}
		}
	}
	return false, nil
}

func ingressAllows(policies []*networkingv1.NetworkPolicy, src Peer, port int32) (bool, error) {
	for _, policy := range policies {
		for _, rule := range policy.Spec.Ingress {
			match, err := peersMatch(rule.From, src)
			if err != nil {
				return false, err
			}
			if match && portsMatch(rule.Ports, port) {
				return true, nil
			}
		}
	}
	return false, nil
}

// selecting returns the policies of the release's namespace that select pod for a policy type.
func selecting(policies []*networkingv1.NetworkPolicy, pod Peer, policyType networkingv1.PolicyType) ([]*networkingv1.NetworkPolicy, error) {
	if pod.Namespace != Namespace {
		return nil, nil
	}
	var out []*networkingv1.NetworkPolicy
	for _, policy := range policies {
		selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
		if err != nil {
			return nil, fmt.Errorf("NetworkPolicy %s: %w", policy.Name, err)
		}
		if !selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, t := range effectiveTypes(policy) {
			if t == policyType {
				out = append(out, policy)
			}
		}
	}
	return out, nil
}

// effectiveTypes applies the API's defaulting: without policyTypes, Ingress always, Egress when
// egress rules exist.
func effectiveTypes(policy *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(policy.Spec.PolicyTypes) > 0 {
		return policy.Spec.PolicyTypes
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(policy.Spec.Egress) > 0 {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	return types
}

// peersMatch: an empty list matches everyone; otherwise one peer must match.
func peersMatch(peers []networkingv1.NetworkPolicyPeer, pod Peer) (bool, error) {
	if len(peers) == 0 {
		return true, nil
	}
	for _, peer := range peers {
		if peer.IPBlock != nil {
			return false, fmt.Errorf("ipBlock peers are not evaluated here")
		}
		namespaceOK := pod.Namespace == Namespace
		if peer.NamespaceSelector != nil {
			selector, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
			if err != nil {
				return false, err
			}
			namespaceOK = selector.Matches(NamespaceLabels(pod.Namespace))
		}
		podOK := true
		if peer.PodSelector != nil {
			selector, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
			if err != nil {
				return false, err
			}
			podOK = selector.Matches(labels.Set(pod.Labels))
		}
		if namespaceOK && podOK {
			return true, nil
		}
	}
	return false, nil
}

// portsMatch: no ports allow every port; named ports are refused by the invariant tests.
func portsMatch(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil {
			return true
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port >= p.Port.IntVal && port <= end {
			return true
		}
	}
	return false
}
