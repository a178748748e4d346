package composecheck

import (
	"os/exec"
	"strings"
	"testing"
)

// A CRLF checkout (Windows) breaks what the containers run as checked out: under dash,
// mongo-init/keyfile.sh fails with "set: Illegal option -". Git must check every text file out
// with LF; git itself answers which attributes apply.
func TestScriptsAreCheckedOutWithLF(t *testing.T) {
	for _, path := range []string{"mongo-init/keyfile.sh", "rabbitmq/cookie.sh", "rabbitmq/cluster-init.sh", "rabbitmq/cluster.conf", "mongo-init/init.js", "rabbitmq/rabbitmq.conf", "nginx/nginx.conf", "docker-compose.yml", ".env", "publisher/Dockerfile", "consumer/Dockerfile", "liveview/Dockerfile"} {
		out, err := exec.Command("git", "-C", repo, "check-attr", "eol", "--", path).Output()
		if err != nil {
			t.Fatalf("git check-attr: %v", err)
		}
		if !strings.HasSuffix(strings.TrimSpace(string(out)), "eol: lf") {
			t.Errorf("%s: %s (want eol: lf, from .gitattributes)", path, strings.TrimSpace(string(out)))
		}
	}
}
