package helmcheck

import (
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// `helm package` (Helm's action.Package) makes an archive that holds the files the chart reads
// through symbolic links (definitions, scripts), and the archive renders the same objects as the
// directory, so the chart can be pushed to a registry and installed from there.
func TestPackagedChartRendersTheSame(t *testing.T) {
	pkg := action.NewPackage()
	pkg.Destination = t.TempDir()
	archive, err := pkg.Run(ChartDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	packaged, err := loader.Load(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"files/definitions.json", "files/render-definitions.mjs", "files/mongo-init/init.js", "files/mongo-init/setup.cjs"} {
		found := false
		for _, f := range packaged.Files {
			found = found || (f.Name == file && len(f.Data) > 0)
		}
		if !found {
			t.Errorf("%s: %s missing or empty", archive, file)
		}
	}
	// Fixed passwords, so that the two renders can be compared byte for byte.
	vals := values(t, "own-settings")
	fromDir, err := Render(vals)
	if err != nil {
		t.Fatal(err)
	}
	fromArchive, err := RenderChart(packaged, ReleaseName, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDir) != len(fromArchive) {
		t.Fatalf("%d objects from the directory, %d from the archive", len(fromDir), len(fromArchive))
	}
	for i := range fromDir {
		// The mongodb keyfile is generated in every render; everything else must match.
		if fromDir[i].Source == "stockmarket/templates/secrets.yaml" {
			continue
		}
		if fromDir[i].YAML != fromArchive[i].YAML {
			t.Errorf("%s differs between the directory and the archive", fromDir[i].Source)
		}
	}
}
