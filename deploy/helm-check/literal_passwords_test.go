package helmcheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

var (
	// A URL with a password in it (`scheme://user:password@`).
	urlWithPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@`)
	// A variable named like a secret: it must come from a Secret (valueFrom) or name a file.
	secretName = regexp.MustCompile(`(?i)pass(word)?|secret|token|credential`)
	// The passwords docker compose's .env carried before they were generated (issue 24).
	retiredPassword = regexp.MustCompile(`[a-z]+-dev-password`)
)

// literalPasswords: every place where a container of the chart would carry a password itself
// (its env `value`, its command or arguments, which `kubectl describe` and the process list
// show) instead of taking it from a Secret. Secret values are recognised by content as well.
func literalPasswords(specs map[string]*corev1.PodSpec, secretValues []string) []string {
	var problems []string
	shows := func(where, text string) {
		switch {
		case urlWithPassword.MatchString(text):
			problems = append(problems, fmt.Sprintf("%s: a URL with a password", where))
		case retiredPassword.MatchString(text):
			problems = append(problems, fmt.Sprintf("%s: a retired development password", where))
		default:
			for _, secret := range secretValues {
				if len(secret) >= 8 && strings.Contains(text, secret) {
					problems = append(problems, fmt.Sprintf("%s: the value of a Secret", where))
					break
				}
			}
		}
	}
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		spec := specs[name]
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			where := name + " " + c.Name
			for _, e := range c.Env {
				if e.Value == "" {
					continue
				}
				if secretName.MatchString(e.Name) && !strings.HasSuffix(e.Name, "_FILE") {
					problems = append(problems, fmt.Sprintf("%s: %s has a literal value (want valueFrom.secretKeyRef)", where, e.Name))
					continue
				}
				shows(where+" env "+e.Name, e.Value)
			}
			for i, arg := range append(append([]string{}, c.Command...), c.Args...) {
				shows(fmt.Sprintf("%s command/args[%d]", where, i), arg)
			}
		}
	}
	return problems
}

func secretValues(objects []Object) []string {
	var out []string
	for _, o := range Kind(objects, "Secret") {
		secret := o.Typed.(*corev1.Secret)
		for _, value := range secret.Data {
			out = append(out, string(value))
		}
		for _, value := range secret.StringData {
			out = append(out, value)
		}
	}
	return out
}

// The chart's containers take every password from a Secret: no literal password in any env
// value, command or argument, with every value set.
func TestEnvironmentCarriesNoLiteralPassword(t *testing.T) {
	forEachValueSet(t, func(t *testing.T, name string, objects []Object) {
		values := secretValues(objects)
		if len(values) == 0 {
			t.Fatalf("%s: no Secret rendered", name)
		}
		for _, problem := range literalPasswords(podSpecs(t, objects), values) {
			t.Error(problem)
		}
	})
}

// The check is not vacuous: a password literal put back into a container's env is caught, by
// name, as a URL and by content.
func TestLiteralPasswordIsCaught(t *testing.T) {
	objects := rendered(t, "defaults")
	values := secretValues(objects)
	specs := podSpecs(t, objects)
	var target *corev1.Container
	for _, name := range []string{"Deployment/" + ReleaseName + "-stockmarket-publisher"} {
		if spec := specs[name]; spec != nil && len(spec.Containers) > 0 {
			target = &spec.Containers[0]
		}
	}
	if target == nil {
		keys := make([]string, 0, len(specs))
		for key := range specs {
			keys = append(keys, key)
		}
		t.Fatalf("no publisher Deployment among %v", keys)
	}
	// A password-like value of a Secret, chosen the same way on every run (map order is random,
	// and a short value such as a user name is below the content check's 8 characters).
	password := ""
	for _, value := range values {
		if len(value) >= 8 && !strings.Contains(value, "://") && (password == "" || value < password) {
			password = value
		}
	}
	if password == "" {
		t.Fatalf("no Secret value of 8 characters or more among %d", len(values))
	}
	target.Env = append(target.Env,
		corev1.EnvVar{Name: "RABBITMQ_PASSWORD", Value: "hunter2-literal"},
		corev1.EnvVar{Name: "RABBITMQ_URL", Value: "amqp://publisher:hunter2@rabbitmq:5672/stockmarket"},
		corev1.EnvVar{Name: "SOMETHING", Value: "x" + password},
	)
	got := literalPasswords(specs, values)
	if len(got) != 3 {
		t.Fatalf("want 3 problems, got %v", got)
	}
	for _, problem := range got {
		if strings.Contains(problem, "hunter2") || strings.Contains(problem, password) {
			t.Errorf("the check shows the password it found: %s", problem)
		}
	}
	t.Log(got)
}
