package helmcheck

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Names and labels an API server accepts, also for the longest release name Helm allows (53
// characters): object names are DNS subdomains, Service names DNS labels, StatefulSet names
// short enough for their pods' controller-revision-hash label, label keys and values valid.
func TestNamesAndLabelsAreValid(t *testing.T) {
	for _, release := range []string{ReleaseName, "stockmarket", strings.Repeat("r", 53), "stockmarket-" + strings.Repeat("s", 41)} {
		for _, set := range []string{"defaults", "keda-operator-monitoring"} {
			manifests, err := RenderRelease(release, values(t, set))
			if err != nil {
				t.Fatalf("release %s: %v", release, err)
			}
			objects, problems := Decode(manifests, loadCRDs(t))
			for _, p := range problems {
				t.Error(p)
			}
			for _, o := range objects {
				where := release + " " + set + ": " + o.Describe()
				for _, msg := range validation.IsDNS1123Subdomain(o.Name) {
					t.Errorf("%s: name: %s", where, msg)
				}
				if o.GVK.Kind == "Service" || o.GVK.Kind == "RabbitmqCluster" || o.GVK.Kind == "MongoDBCommunity" {
					for _, msg := range validation.IsDNS1035Label(o.Name) {
						t.Errorf("%s: name is not a DNS label: %s", where, msg)
					}
				}
				if errs := metavalidation.ValidateLabels(o.Unstructured.GetLabels(), field.NewPath("metadata", "labels")); len(errs) > 0 {
					t.Errorf("%s: %v", where, errs.ToAggregate())
				}
				// The StatefulSets the operators derive: <name>-server (RabbitMQ), <name> and
				// <name>-arb (MongoDB community operator).
				derived := map[string][]string{"RabbitmqCluster": {"-server"}, "MongoDBCommunity": {"", "-arb"}}
				for _, suffix := range derived[o.GVK.Kind] {
					if len(o.Name+suffix) > 52 {
						t.Errorf("%s: the operator's StatefulSet %s%s is longer than 52 characters", where, o.Name, suffix)
					}
				}
				if sts, ok := o.Typed.(*appsv1.StatefulSet); ok {
					// <name>-<hash of up to 10 characters> must fit a label value (63).
					if len(sts.Name) > 52 {
						t.Errorf("%s: StatefulSet name longer than 52 characters", where)
					}
					if errs := metavalidation.ValidateLabels(sts.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")); len(errs) > 0 {
						t.Errorf("%s: %v", where, errs.ToAggregate())
					}
				}
			}
		}
	}
}
