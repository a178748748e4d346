package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

var dockerfile = filepath.Join(repo, "Dockerfile")

// The file asks BuildKit for every rule, experimental ones included, and to fail the build on
// any warning: `docker build` itself then enforces what this test checks.
func TestDockerfileTurnsEveryRuleOn(t *testing.T) {
	directive, err := CheckDirective(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	if directive != "error=true;experimental=all" {
		t.Errorf("# check=%s, want error=true;experimental=all (and nothing skipped)", directive)
	}
}

func TestDockerfileLintsClean(t *testing.T) {
	for _, target := range []string{"", "publisher", "consumer", "liveview"} {
		problems, err := LintDockerfile(context.Background(), dockerfile, target)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range problems {
			t.Errorf("target %q: %s", target, problem)
		}
	}
}

// Each service's target: production dependencies only, non-root, node directly, its port.
func TestDockerfileTargets(t *testing.T) {
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{"publisher": "8080", "consumer": "8081", "liveview": "3000"}
	for name, port := range ports {
		var stage *instructions.Stage
		for i := range stages {
			if stages[i].Name == name {
				stage = &stages[i]
			}
		}
		if stage == nil {
			t.Errorf("no target %s", name)
			continue
		}
		var lines []string
		for _, c := range stage.Commands {
			lines = append(lines, c.(interface{ String() string }).String())
		}
		text := strings.Join(lines, "\n")
		for _, want := range []string{
			"npm ci --omit=dev --no-audit --no-fund -w " + name + " -w common",
			"USER node",
			"WORKDIR /app/" + name,
			"EXPOSE " + port,
			`CMD ["node", "dist/main.js"]`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("target %s lacks %q:\n%s", name, want, text)
			}
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "CMD") {
			t.Errorf("target %s ends with %q, want CMD", name, last)
		}
	}
}

// Every COPY source is in the build context and not excluded by .dockerignore; secrets and
// build output are not sent.
func TestBuildContext(t *testing.T) {
	problems, err := ContextProblems(repo, dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range problems {
		t.Error(problem)
	}
	for _, path := range []string{".env", ".git", "node_modules", "common/node_modules", "common/dist", ".cache", "deploy/compose-check/go.mod"} {
		sent, err := Sent(repo, path)
		if err != nil {
			t.Fatal(err)
		}
		if sent {
			t.Errorf("%s is sent with the build context", path)
		}
	}
}

// One Node image for the whole suite: the Dockerfile's base is the one-shot's image.
func TestDockerfileNodeImageMatchesCompose(t *testing.T) {
	dt, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var base string
	for _, line := range strings.Split(string(dt), "\n") {
		if value, ok := strings.CutPrefix(line, "ARG NODE_IMAGE="); ok {
			base = value
		}
	}
	p, err := LoadProject(context.Background(), repo, LoadOptions{EnvFile: filepath.Join(repo, ".env")})
	if err != nil {
		t.Fatal(err)
	}
	if want := p.Services["rabbitmq-definitions"].Image; base != want {
		t.Errorf("Dockerfile NODE_IMAGE %q, rabbitmq-definitions runs %q", base, want)
	}
}
