package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// repo is the repository root (this module lives in deploy/compose-check).
var repo = func() string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return dir
}()

func load(t *testing.T, dir string, opts LoadOptions) *types.Project {
	t.Helper()
	project, err := LoadProject(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("docker compose config: %v", err)
	}
	return project
}

func runChecks(t *testing.T, p *types.Project, dir string) {
	for _, check := range Checks {
		t.Run(check.Name, func(t *testing.T) {
			for _, problem := range check.Run(p, dir) {
				t.Error(problem)
			}
		})
	}
}

// As users run it: `docker compose up` with the committed .env.
func TestComposeWithDotEnv(t *testing.T) {
	p := load(t, repo, LoadOptions{EnvFile: filepath.Join(repo, ".env")})
	runChecks(t, p, repo)
	if got := scale(p, "consumer"); got != 3 {
		t.Errorf("consumer replicas %d, want 3", got)
	}
	if got := scale(p, "liveview"); got != 2 {
		t.Errorf("liveview replicas %d, want 2", got)
	}
	nginx := p.Services["nginx"].Ports[0]
	if nginx.HostIP != "127.0.0.1" || nginx.Published != "3000" {
		t.Errorf("nginx publishes %s:%s, want 127.0.0.1:3000 by default", nginx.HostIP, nginx.Published)
	}
}

// `docker compose up -d --scale liveview=3 --scale consumer=5`: still valid, same invariants.
func TestComposeScaled(t *testing.T) {
	p := load(t, repo, LoadOptions{EnvFile: filepath.Join(repo, ".env"), Scale: map[string]int{"liveview": 3, "consumer": 5}})
	runChecks(t, p, repo)
	if scale(p, "liveview") != 3 || scale(p, "consumer") != 5 {
		t.Errorf("scale not applied")
	}
}

// The shell overrides .env, as in docker compose: the documented ways to publish wider and to
// run with the course's original programs.
func TestComposeEnvironmentOverrides(t *testing.T) {
	p := load(t, repo, LoadOptions{
		EnvFile: filepath.Join(repo, ".env"),
		Env:     map[string]string{"NGINX_BIND": "0.0.0.0", "COMPANY_QUEUES_DURABLE": "false"},
	})
	runChecks(t, p, repo)
	if ip := p.Services["nginx"].Ports[0].HostIP; ip != "0.0.0.0" {
		t.Errorf("NGINX_BIND=0.0.0.0: nginx publishes on %q", ip)
	}
	for _, name := range []string{"rabbitmq-definitions", "publisher", "consumer"} {
		if got := env(p.Services[name], "COMPANY_QUEUES_DURABLE"); got != "false" {
			t.Errorf("%s: COMPANY_QUEUES_DURABLE %q", name, got)
		}
	}
}

// Without .env (deleted, or not copied) compose stops at once and names a missing setting,
// instead of starting with an empty administrator name.
func TestComposeWithoutDotEnvNamesTheMissingVariable(t *testing.T) {
	_, err := LoadProject(context.Background(), repo, LoadOptions{})
	if err == nil {
		t.Fatal("loaded without .env: MONGO_ROOT_USERNAME would be empty")
	}
	if !strings.Contains(err.Error(), "in .env") || !strings.Contains(err.Error(), "MONGO_ROOT_USERNAME") {
		t.Errorf("error does not name the variable and .env: %v", err)
	}
}

// .env and .env.example hold the same variables; compose reads every one of them (interpolated,
// or passed to a service by name), and README.md's generated tables explain each.
func TestEnvFilesDocumentEveryVariable(t *testing.T) {
	read := func(path string) []string {
		dt, err := os.ReadFile(filepath.Join(repo, path))
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, line := range strings.Split(string(dt), "\n") {
			if key, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				keys = append(keys, key)
			}
		}
		return keys
	}
	dotenv, example := read(".env"), read(".env.example")
	if strings.Join(dotenv, ",") != strings.Join(example, ",") {
		t.Errorf(".env %v and .env.example %v differ (npm run settings writes .env.example from .env)", dotenv, example)
	}
	compose, _ := os.ReadFile(filepath.Join(repo, "docker-compose.yml"))
	p := load(t, repo, LoadOptions{EnvFile: filepath.Join(repo, ".env")})
	guide, _ := os.ReadFile(filepath.Join(repo, "README.md"))
	for _, key := range example {
		passed := false
		for _, s := range p.Services {
			if _, ok := s.Environment[key]; ok {
				passed = true
			}
		}
		if !strings.Contains(string(compose), "${"+key) && !passed {
			t.Errorf("%s is documented but the compose file does not use it", key)
		}
		if !strings.Contains(string(guide), "`"+key+"`") {
			t.Errorf("%s is not explained in README.md's tables", key)
		}
	}
}

func scale(p *types.Project, name string) int {
	s := p.Services[name]
	return s.GetScale()
}

// An .env from before generated passwords (issue 24): compose gives the secrets one-shot the
// names of the password variables it still sets, never their values, so the one-shot can say
// what to do; the configuration still shows no password.
func TestComposeOldEnvPasswordsAreNamedNotShown(t *testing.T) {
	p := load(t, repo, LoadOptions{
		EnvFile: filepath.Join(repo, ".env"),
		Env:     map[string]string{"RABBITMQ_ADMIN_PASSWORD": "old-admin-secret", "MONGO_ROOT_PASSWORD": "old-root-secret"},
	})
	if got := env(p.Services["secrets"], "OLD_ENV_PASSWORDS"); got != " RABBITMQ_ADMIN_PASSWORD MONGO_ROOT_PASSWORD" {
		t.Errorf("OLD_ENV_PASSWORDS %q", got)
	}
	config, err := p.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(config), "old-admin-secret") || strings.Contains(string(config), "old-root-secret") {
		t.Error("docker compose config shows an old .env's password")
	}
	for _, problem := range passwordProblems(p) {
		t.Error(problem)
	}
	if got := env(load(t, repo, LoadOptions{EnvFile: filepath.Join(repo, ".env")}).Services["secrets"], "OLD_ENV_PASSWORDS"); got != "" {
		t.Errorf("the committed .env: OLD_ENV_PASSWORDS %q, want empty", got)
	}
}
