package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Each service's own Dockerfile, built with the repository root as context.
var dockerfiles = map[string]string{
	"publisher": filepath.Join(repo, "publisher", "Dockerfile"),
	"consumer":  filepath.Join(repo, "consumer", "Dockerfile"),
	"liveview":  filepath.Join(repo, "liveview", "Dockerfile"),
}

// The file asks BuildKit for every rule, experimental ones included, and to fail the build on
// any warning: `docker build` itself then enforces what this test checks.
func TestDockerfileTurnsEveryRuleOn(t *testing.T) {
	for name, dockerfile := range dockerfiles {
		directive, err := CheckDirective(dockerfile)
		if err != nil {
			t.Fatal(err)
		}
		if directive != "error=true;experimental=all" {
			t.Errorf("%s: # check=%s, want error=true;experimental=all (and nothing skipped)", name, directive)
		}
	}
}

// With check=error=true, a floating frontend (`docker/dockerfile:1`) brings each new lint rule
// the day it is released and fails a build that passed the day before: an exact version, the
// same in every Dockerfile.
func TestDockerfileFrontendIsPinned(t *testing.T) {
	pinned := regexp.MustCompile(`^docker/dockerfile:\d+\.\d+\.\d+$`)
	var first string
	for name, dockerfile := range dockerfiles {
		dt, err := os.ReadFile(dockerfile)
		if err != nil {
			t.Fatal(err)
		}
		syntax, _, _, _ := parser.ParseDirective("syntax", dt)
		if !pinned.MatchString(syntax) {
			t.Errorf("%s: # syntax=%s, want docker/dockerfile:MAJOR.MINOR.PATCH", name, syntax)
		}
		if first == "" {
			first = syntax
		} else if syntax != first {
			t.Errorf("%s: # syntax=%s, another Dockerfile names %s", name, syntax, first)
		}
	}
}

func TestDockerfileLintsClean(t *testing.T) {
	for name, dockerfile := range dockerfiles {
		for _, target := range []string{"", name} {
			problems, err := LintDockerfile(context.Background(), dockerfile, target)
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range problems {
				t.Errorf("%s, target %q: %s", name, target, problem)
			}
		}
	}
}

// Each service's image (the last stage): production dependencies only, non-root, node directly,
// its port.
func TestDockerfileTargets(t *testing.T) {
	ports := map[string]string{"publisher": "8080", "consumer": "8081", "liveview": "3000"}
	for name, port := range ports {
		f, err := os.Open(dockerfiles[name])
		if err != nil {
			t.Fatal(err)
		}
		ast, err := parser.Parse(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		stages, _, err := instructions.Parse(ast.AST, nil)
		if err != nil {
			t.Fatal(err)
		}
		stage := stages[len(stages)-1]
		if stage.Name != name {
			t.Errorf("%s/Dockerfile: the last stage is %q, want %s", name, stage.Name, name)
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
				t.Errorf("%s/Dockerfile lacks %q:\n%s", name, want, text)
			}
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "CMD") {
			t.Errorf("%s/Dockerfile ends with %q, want CMD", name, last)
		}
	}
}

// Every COPY source is in the build context and not excluded by .dockerignore; secrets and
// build output are not sent.
func TestBuildContext(t *testing.T) {
	for _, dockerfile := range dockerfiles {
		problems, err := ContextProblems(repo, dockerfile)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range problems {
			t.Error(problem)
		}
	}
	for _, path := range []string{".env", ".git", "node_modules", "common/node_modules", "common/dist", ".cache", "deploy/compose-check/go.mod", "publisher/Dockerfile"} {
		sent, err := Sent(repo, path)
		if err != nil {
			t.Fatal(err)
		}
		if sent {
			t.Errorf("%s is sent with the build context", path)
		}
	}
}

// One Node image for the whole suite: every Dockerfile's base is the one-shot's image.
func TestDockerfileNodeImageMatchesCompose(t *testing.T) {
	p, err := LoadProject(context.Background(), repo, LoadOptions{EnvFile: filepath.Join(repo, ".env")})
	if err != nil {
		t.Fatal(err)
	}
	want := p.Services["rabbitmq-definitions"].Image
	for name, dockerfile := range dockerfiles {
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
		if base != want {
			t.Errorf("%s/Dockerfile NODE_IMAGE %q, rabbitmq-definitions runs %q", name, base, want)
		}
	}
}
