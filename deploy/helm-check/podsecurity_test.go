package helmcheck

import (
	"testing"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Every pod the chart itself runs passes the "restricted" Pod Security Standard, evaluated with
// the checks of Kubernetes' Pod Security admission (k8s.io/pod-security-admission). The brokers'
// and the operator-run members' pods are the operators' (see docs/kubernetes.md).
func TestPodsMeetTheRestrictedPodSecurityStandard(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		templates := podTemplates(objects)
		if len(templates) < 3 {
			t.Fatalf("only %d pod templates", len(templates))
		}
		for workload, tpl := range templates {
			for _, result := range evaluator.EvaluatePod(restricted, &tpl.ObjectMeta, &tpl.Spec) {
				if !result.Allowed {
					t.Errorf("%s: %s (%s)", workload, result.ForbiddenReason, result.ForbiddenDetail)
				}
			}
		}
	})
	// The evaluation can fail: the same pod without its seccomp profile is refused.
	objects := rendered(t, "defaults")
	for workload, tpl := range podTemplates(objects) {
		spec := tpl.Spec.DeepCopy()
		spec.SecurityContext.SeccompProfile = nil
		refused := false
		for _, result := range evaluator.EvaluatePod(restricted, &tpl.ObjectMeta, spec) {
			refused = refused || !result.Allowed
		}
		if !refused {
			t.Errorf("%s without a seccomp profile passes the restricted standard", workload)
		}
		break
	}
}
