// Package helmcheck renders the stockmarket Helm chart with Helm's own Go packages and checks
// every rendered object against the Kubernetes API types and the operators' CRD schemas.
// No cluster is needed; see docs/kubernetes.md for what this does and does not prove.
package helmcheck

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// Namespace and release name used for every render; the tests assert on names derived from them.
const (
	Namespace   = "stockmarket"
	ReleaseName = "demo"
)

// KubeVersion is the cluster version the renders assume (Chart.yaml accepts 1.27 and newer), so
// that .Capabilities look like a current cluster's.
var KubeVersion = &chartutil.KubeVersion{Version: "v1.33.0", Major: "1", Minor: "33"}

// RepoRoot is the repository's root directory (this file is deploy/helm-check/render.go).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ChartDir is the chart's directory.
func ChartDir() string { return filepath.Join(RepoRoot(), "deploy", "helm", "stockmarket") }

// LoadChart loads the chart from its directory, as `helm install ./deploy/helm/stockmarket` does.
func LoadChart() (*chart.Chart, error) { return loader.Load(ChartDir()) }

// Manifest is one rendered document: its source template and YAML text.
type Manifest struct {
	Source string
	Hook   bool
	YAML   string
}

// Render runs a client-only dry-run install (what `helm template` does) with the given values
// and returns every rendered document, hooks included, in a stable order.
func Render(values map[string]interface{}) ([]Manifest, error) {
	return RenderRelease(ReleaseName, values)
}

// RenderRelease is Render with another release name.
func RenderRelease(releaseName string, values map[string]interface{}) ([]Manifest, error) {
	chrt, err := LoadChart()
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	return RenderChart(chrt, releaseName, values)
}

// RenderChart renders a loaded chart (from its directory or a packaged archive).
func RenderChart(chrt *chart.Chart, releaseName string, values map[string]interface{}) ([]Manifest, error) {
	cfg := &action.Configuration{Log: func(string, ...interface{}) {}}
	install := action.NewInstall(cfg)
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = releaseName
	install.Namespace = Namespace
	install.KubeVersion = KubeVersion
	install.DisableOpenAPIValidation = true
	rel, err := install.Run(chrt, values)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var out []Manifest
	out = append(out, split(rel.Manifest, false)...)
	for _, hook := range rel.Hooks {
		out = append(out, split(fmt.Sprintf("# Source: %s\n%s", hook.Path, hook.Manifest), true)...)
	}
	return out, nil
}

// RenderWithClient renders the templates through Helm's engine with a ClientProvider, so that
// `lookup` sees the objects the provider holds (as on an upgrade of a live release).
func RenderWithClient(values map[string]interface{}, provider engine.ClientProvider) ([]Manifest, error) {
	chrt, err := LoadChart()
	if err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = *KubeVersion
	options := chartutil.ReleaseOptions{Name: ReleaseName, Namespace: Namespace, Revision: 2, IsUpgrade: true}
	vals, err := chartutil.ToRenderValues(chrt, values, options, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.RenderWithClientProvider(chrt, vals, provider)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Manifest
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		out = append(out, split(files[name], false)...)
	}
	return out, nil
}

func split(text string, hook bool) []Manifest {
	docs := releaseutil.SplitManifests(text)
	keys := make([]string, 0, len(docs))
	for key := range docs {
		keys = append(keys, key)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []Manifest
	for _, key := range keys {
		doc := docs[key]
		source := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "# Source: ") {
				source = strings.TrimPrefix(line, "# Source: ")
				break
			}
		}
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		out = append(out, Manifest{Source: source, Hook: hook, YAML: doc})
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

// Lint runs `helm lint` (with the values schema) and returns its messages of severity
// warning or worse, formatted.
func Lint(values map[string]interface{}) []string {
	linter := lint.AllWithKubeVersionAndSchemaValidation(ChartDir(), values, Namespace, KubeVersion, false)
	var problems []string
	for _, msg := range linter.Messages {
		if msg.Severity >= support.WarningSev {
			problems = append(problems, msg.Error())
		}
	}
	return problems
}
