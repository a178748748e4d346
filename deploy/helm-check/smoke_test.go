package helmcheck

import (
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	ms, err := Render(map[string]interface{}{})
	if err != nil {
		t.Fatal(err)
	}
	crds, err := LoadCRDs("testdata/crds")
	if err != nil {
		t.Fatal(err)
	}
	objs, problems := Decode(ms, crds)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d objects", len(objs))
	if os.Getenv("DUMP") != "" {
		for _, m := range ms {
			t.Log(m.YAML)
		}
	}
	for _, p := range Lint(map[string]interface{}{}) {
		t.Error(p)
	}
}
