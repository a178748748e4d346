package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checks are not vacuous: one deliberate break of each file makes them fail.

// mutated writes a copy of the repository's compose inputs with one replacement applied to
// file, and returns the copy's directory (bind-mount sources are linked to the real ones).
func mutated(t *testing.T, file, old, replacement string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"docker-compose.yml", ".env", ".dockerignore"} {
		dt, err := os.ReadFile(filepath.Join(repo, name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(dt)
		if name == file {
			if !strings.Contains(text, old) {
				t.Fatalf("%s does not contain %q", name, old)
			}
			text = strings.Replace(text, old, replacement, 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"nginx", "rabbitmq", "mongo-init", "secrets", "publisher", "common", "consumer", "liveview", "stack", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.base.json", "deploy", "drill"} {
		if err := os.Symlink(filepath.Join(repo, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func problemsOf(t *testing.T, dir, check string) []string {
	t.Helper()
	p, err := LoadProject(context.Background(), dir, LoadOptions{EnvFile: filepath.Join(dir, ".env")})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	for _, c := range Checks {
		if c.Name == check {
			return c.Run(p, dir)
		}
	}
	t.Fatalf("no check %q", check)
	return nil
}

func TestBreakComposeContainerName(t *testing.T) {
	// On a replicated service compose-go itself refuses it...
	dir := mutated(t, "docker-compose.yml", "  liveview:\n    <<: *node-service\n", "  liveview:\n    <<: *node-service\n    container_name: liveview\n")
	if _, err := LoadProject(context.Background(), dir, LoadOptions{EnvFile: filepath.Join(dir, ".env")}); err == nil {
		t.Error("container_name on the replicated liveview loaded")
	} else {
		t.Log(err)
	}
	// ...on a single one (later scaled, or a second copy of the stack) the invariant does.
	dir = mutated(t, "docker-compose.yml", "  nginx:\n", "  nginx:\n    container_name: nginx\n")
	if got := problemsOf(t, dir, Checks[2].Name); len(got) == 0 {
		t.Error("container_name on nginx was not caught")
	} else {
		t.Log(got)
	}
}

func TestBreakComposePullPolicy(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", "  pull_policy: build\n", "")
	got := problemsOf(t, dir, Checks[6].Name)
	if len(got) != 3 || !strings.Contains(strings.Join(got, "\n"), "pull_policy") {
		t.Errorf("want a pull_policy problem per built service, got %v", got)
	} else {
		t.Log(got)
	}
}

func TestBreakComposeUnknownDependency(t *testing.T) {
	// compose-go itself refuses it (docker compose config fails the same way).
	dir := mutated(t, "docker-compose.yml", "      liveview:\n        condition: service_healthy\n", "      liveviews:\n        condition: service_healthy\n")
	_, err := LoadProject(context.Background(), dir, LoadOptions{EnvFile: filepath.Join(dir, ".env")})
	if err == nil {
		t.Fatal("a dependency on a service that does not exist loaded")
	}
	t.Log(err)
}

func TestBreakDockerfile(t *testing.T) {
	dt, err := os.ReadFile(filepath.Join(repo, "publisher", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(dt), `CMD ["node", "dist/main.js"]`, "CMD node dist/main.js", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := LintDockerfile(context.Background(), broken, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "JSONArgsRecommended") {
		t.Errorf("shell-form CMD (signals do not reach node) not caught: %v", problems)
	}
	t.Log(problems)
}

func TestBreakDockerignore(t *testing.T) {
	problems, err := ContextProblemsWith(repo, dockerfiles["publisher"], []string{"**/node_modules", "common"})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Error("ignoring common/ (copied by the Dockerfile) was not caught")
	}
	t.Log(problems)
}

func TestBreakComposeBrokerList(t *testing.T) {
	node3 := ",amqp://publisher@rabbitmq3:5672/stockmarket"
	dir := mutated(t, "docker-compose.yml", node3, "")
	got := problemsOf(t, dir, "publisher and consumer are given every broker node, as their own user")
	if len(got) != 1 || !strings.Contains(got[0], "publisher") {
		t.Errorf("a publisher without rabbitmq3 in RABBITMQ_URLS was not caught: %v", got)
	} else {
		t.Log(got)
	}
}

func TestBreakComposeClassicQueues(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", `RABBITMQ_QUORUM_QUEUES: "true"`, `RABBITMQ_QUORUM_QUEUES: "false"`)
	got := problemsOf(t, dir, "the durable queues are quorum queues (the definitions are rendered with RABBITMQ_QUORUM_QUEUES=true)")
	if len(got) != 1 {
		t.Errorf("classic queues in the cluster were not caught: %v", got)
	} else {
		t.Log(got)
	}
}

func TestBreakComposeClusterPeers(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", "    hostname: rabbitmq3\n", "    hostname: rabbit3\n")
	got := problemsOf(t, dir, "three broker nodes form one cluster: classic config names each, one cookie, pause_minority")
	if len(got) == 0 {
		t.Error("a node whose name cluster.conf does not list was not caught")
	} else {
		t.Log(got)
	}
}

// A name a service's schema does not know (a typo, or a setting since renamed) would be ignored
// by the service without a word: the check names it.
func TestBreakComposeUnknownSetting(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", "      CONSUMER_MAX_LEASES:\n", "      CONSUMER_MAX_LEASE:\n")
	problems := problemsOf(t, dir, "Node services get only variables their schema knows (deploy/settings.json)")
	if len(problems) != 1 || !strings.Contains(problems[0], "CONSUMER_MAX_LEASE is not a variable") {
		t.Errorf("problems %v", problems)
	}
}

// The ops port compose probes is the service's default when compose does not set it: a schema
// default that moves away from the healthcheck's port is caught.
func TestBreakComposeHealthcheckPortAgainstDefault(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", "http://127.0.0.1:8081/readyz", "http://127.0.0.1:9081/readyz")
	problems := problemsOf(t, dir, "Node services probe /readyz on their own port and expose only it")
	if len(problems) != 1 || !strings.Contains(problems[0], "consumer: healthcheck does not fetch 127.0.0.1:8081/readyz") {
		t.Errorf("problems %v", problems)
	}
}

const noPassword = "docker compose config shows no password: secrets are *_FILE paths on the service's volumes"

// A password literal back in a service's environment, as .env once gave them.
func TestBreakComposePasswordInEnvironment(t *testing.T) {
	dir := mutated(t, "docker-compose.yml",
		"      RABBITMQ_PASSWORD_FILE: /run/secrets/stockmarket/rabbitmq-password\n",
		"      RABBITMQ_PASSWORD: ${RABBITMQ_PUBLISHER_PASSWORD:-publisher-dev-password}\n")
	got := problemsOf(t, dir, noPassword)
	if len(got) != 2 || !strings.Contains(got[0]+got[1], "publisher: RABBITMQ_PASSWORD is in the environment itself") {
		t.Errorf("a password in the publisher's environment was not caught: %v", got)
	} else {
		t.Log(got)
	}
	for _, problem := range got {
		if strings.Contains(problem, "publisher-dev-password") {
			t.Errorf("the check shows the password it found: %s", problem)
		}
	}
}

// A password in a connection string, as the URLs once carried them.
func TestBreakComposePasswordInUrl(t *testing.T) {
	dir := mutated(t, "docker-compose.yml", "amqp://consumer@rabbitmq1:5672", "amqp://consumer:not-so-secret@rabbitmq1:5672")
	got := problemsOf(t, dir, noPassword)
	if len(got) != 1 || !strings.Contains(got[0], "amqp://consumer:***@rabbitmq1") || strings.Contains(got[0], "not-so-secret") {
		t.Errorf("a URL with a password was not caught (or the check showed it): %v", got)
	} else {
		t.Log(got)
	}
}

func TestBreakComposeWaitsForHealthyBrokerNode(t *testing.T) {
	// The CI run of stop 30 failed this way: a broker node whose boot failed was being restarted,
	// Docker showed it unhealthy meanwhile, and compose gave up on `up`.
	dir := mutated(t, "docker-compose.yml", "      rabbitmq2:\n        condition: service_started\n", "      rabbitmq2:\n        condition: service_healthy\n")
	got := problemsOf(t, dir, "services start in order: healthy servers, started broker nodes, completed one-shots")
	if len(got) != 1 || !strings.Contains(got[0], "rabbitmq-cluster -> rabbitmq2: service_healthy, want service_started") {
		t.Errorf("want one problem naming rabbitmq-cluster -> rabbitmq2, got %v", got)
	} else {
		t.Log(got)
	}
}
