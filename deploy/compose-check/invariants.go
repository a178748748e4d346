package composecheck

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Check is one invariant of the deployment, on the model compose-go loaded.
type Check struct {
	Name string
	Run  func(p *types.Project, repo string) []string
}

var (
	nodeServices = []string{"publisher", "consumer", "liveview"}
	mongoMembers = []string{"mongo1", "mongo2", "mongo3"}
	// The broker cluster's nodes; each one's hostname is its service name (rabbit@<name>).
	brokerNodes = []string{"rabbitmq1", "rabbitmq2", "rabbitmq3"}
	// What each image has to probe with: node images have node (no curl in -slim), the official
	// mongo image mongosh, rabbitmq its CLI tools, the Debian-based nginx image curl.
	imageTools = map[string][]string{
		"node":     {"node"},
		"mongo":    {"mongosh"},
		"rabbitmq": {"rabbitmq-diagnostics"},
		"nginx":    {"curl"},
	}
	// VOLUME lines of the images our one-shots run: each would be an anonymous volume per `up`.
	imageVolumes = map[string][]string{
		"mongo":    {"/data/db", "/data/configdb"},
		"rabbitmq": {"/var/lib/rabbitmq"},
	}
)

const noHealthcheckLabel = "com.stockmarket.no-healthcheck"

func isOneShot(s types.ServiceConfig) bool { return s.Restart == types.RestartPolicyNo }

func imageRepo(image string) string {
	repo, _, _ := strings.Cut(image, ":")
	return repo
}

// Checks are the invariants every deployment must keep.
var Checks = []Check{
	{"every service of the system exists", func(p *types.Project, _ string) []string {
		want := []string{"consumer", "liveview", "mongo-init", "mongo-keyfile", "mongo1", "mongo2", "mongo3", "nginx", "publisher", "rabbitmq-cluster", "rabbitmq-cookie", "rabbitmq-definitions", "rabbitmq1", "rabbitmq2", "rabbitmq3", "secrets"}
		got := p.ServiceNames()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return []string{fmt.Sprintf("services %v, want %v", got, want)}
		}
		return nil
	}},
	{"only NGINX publishes a port; the management UI on loopback", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			for _, port := range s.Ports {
				switch {
				case name == "nginx" && port.Target == 3000:
				case name == "rabbitmq1" && port.Target == 15672 && port.HostIP == "127.0.0.1":
				default:
					problems = append(problems, fmt.Sprintf("%s publishes %s:%s:%d", name, port.HostIP, port.Published, port.Target))
				}
			}
		}
		if n := len(p.Services["nginx"].Ports); n != 1 {
			problems = append(problems, fmt.Sprintf("nginx publishes %d ports, want 1", n))
		}
		return problems
	}},
	{"no container_name (it blocks --scale and a second copy of the stack)", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			if s.ContainerName != "" {
				problems = append(problems, fmt.Sprintf("%s: container_name %q", name, s.ContainerName))
			}
		}
		return problems
	}},
	{"healthchecks use a tool the image has, or a one-shot says why it has none", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			h := s.HealthCheck
			if h == nil || h.Disable {
				if len(s.Labels[noHealthcheckLabel]) < 10 || !isOneShot(s) {
					problems = append(problems, fmt.Sprintf("%s: no healthcheck, and not a one-shot with a %s label", name, noHealthcheckLabel))
				}
				continue
			}
			if len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
				problems = append(problems, fmt.Sprintf("%s: healthcheck %v is not CMD/CMD-SHELL", name, h.Test))
				continue
			}
			tool := strings.Fields(h.Test[1])[0]
			repo := imageRepo(s.Image)
			if s.Build != nil {
				repo = "node" // our images are FROM the node image
			}
			if !slices.Contains(imageTools[repo], tool) {
				problems = append(problems, fmt.Sprintf("%s: healthcheck runs %q, which image %s does not have (%v)", name, tool, s.Image, imageTools[repo]))
			}
		}
		return problems
	}},
	{"Node services probe /readyz on their own port and expose only it", func(p *types.Project, _ string) []string {
		var problems []string
		ports := map[string]string{"publisher": "PUBLISHER_OPS_PORT", "consumer": "CONSUMER_OPS_PORT", "liveview": "PORT"}
		for _, name := range nodeServices {
			s := p.Services[name]
			port, err := setting(p, repo, name, ports[name])
			if err != nil {
				return []string{err.Error()}
			}
			if port == "" {
				problems = append(problems, fmt.Sprintf("%s: %s not set", name, ports[name]))
				continue
			}
			if s.HealthCheck == nil || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "http://127.0.0.1:"+port+"/readyz") {
				problems = append(problems, fmt.Sprintf("%s: healthcheck does not fetch 127.0.0.1:%s/readyz", name, port))
			}
			if !slices.Equal(s.Expose, types.StringOrNumberList{port}) {
				problems = append(problems, fmt.Sprintf("%s: exposes %v, want [%s]", name, s.Expose, port))
			}
		}
		return problems
	}},
	{"stop grace periods exceed each service's own shutdown deadline", func(p *types.Project, repo string) []string {
		var problems []string
		margin, err := publisherShutdownMargin(repo)
		if err != nil {
			return []string{err.Error()}
		}
		deadlines := map[string]time.Duration{}
		for name, key := range map[string]string{"publisher": "PUBLISHER_DRAIN_TIMEOUT_MS", "consumer": "CONSUMER_SHUTDOWN_TIMEOUT_MS", "liveview": "LIVEVIEW_SHUTDOWN_TIMEOUT_MS"} {
			value, err := setting(p, repo, name, key)
			if err != nil {
				return []string{err.Error()}
			}
			deadlines[name] = ms(value)
		}
		deadlines["publisher"] += margin
		shutdown, err := nginxShutdownTimeout(repo)
		if err != nil {
			return []string{err.Error()}
		}
		deadlines["nginx"] = shutdown
		for name, deadline := range deadlines {
			grace := grace(p.Services[name])
			if deadline <= 0 || grace < deadline+2*time.Second {
				problems = append(problems, fmt.Sprintf("%s: stop_grace_period %s, own deadline %s (want 2 s more)", name, grace, deadline))
			}
		}
		for _, name := range append(slices.Clone(brokerNodes), mongoMembers...) {
			if g := grace(p.Services[name]); g < 30*time.Second {
				problems = append(problems, fmt.Sprintf("%s: stop_grace_period %s < 30s", name, g))
			}
		}
		return problems
	}},
	{"our images are built here, never pulled (pull_policy: build), each from its own Dockerfile", func(p *types.Project, repo string) []string {
		var problems []string
		for name, s := range p.Services {
			if s.Build == nil {
				if !regexp.MustCompile(`^[a-z]+:\d+\.\d+\.\d+(-[a-z0-9.-]+)?$`).MatchString(s.Image) {
					problems = append(problems, fmt.Sprintf("%s: image %q is not pinned to major.minor.patch", name, s.Image))
				}
				continue
			}
			if s.PullPolicy != types.PullPolicyBuild {
				problems = append(problems, fmt.Sprintf("%s: pull_policy %q: an `up` without --build would pull %s from a registry", name, s.PullPolicy, s.Image))
			}
			if s.Image != "stockmarket/"+name+":dev" {
				problems = append(problems, fmt.Sprintf("%s: image %q", name, s.Image))
			}
			// The repository root as context (the workspaces and the root lockfile), the service's
			// own Dockerfile, whose last stage is the image.
			if s.Build.Context != repo || s.Build.Dockerfile != name+"/Dockerfile" || s.Build.Target != "" {
				problems = append(problems, fmt.Sprintf("%s: build %s -f %s --target %q, want the repository root, %s/Dockerfile, no target", name, s.Build.Context, s.Build.Dockerfile, s.Build.Target, name))
			}
		}
		return problems
	}},
	{"Node processes run under an init that forwards signals (init: true)", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			node := s.Build != nil || imageRepo(s.Image) == "node"
			if node && (s.Init == nil || !*s.Init) {
				problems = append(problems, fmt.Sprintf("%s: no init: SIGTERM is lost while node is PID 1 and starting", name))
			}
		}
		return problems
	}},
	{"every broker node restarts when its definitions are re-rendered", func(p *types.Project, _ string) []string {
		var problems []string
		for _, name := range brokerNodes {
			dep, ok := p.Services[name].DependsOn["rabbitmq-definitions"]
			if !ok || !dep.Restart || dep.Condition != types.ServiceConditionCompletedSuccessfully {
				problems = append(problems, fmt.Sprintf("%s -> rabbitmq-definitions: %+v, want completed_successfully with restart: true", name, dep))
			}
		}
		return problems
	}},
	{"services start in order: healthy servers, started broker nodes, completed one-shots", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			for dep, d := range s.DependsOn {
				want := types.ServiceConditionHealthy
				switch {
				case isOneShot(p.Services[dep]):
					want = types.ServiceConditionCompletedSuccessfully
				case slices.Contains(brokerNodes, dep):
					// A broker node whose parallel boot fails is restarted by Docker, which marks it
					// unhealthy meanwhile: compose would give up on it (docker-compose.yml,
					// rabbitmq-cluster). Whoever needs a booted node waits for it itself.
					want = types.ServiceConditionStarted
				}
				if d.Condition != want {
					problems = append(problems, fmt.Sprintf("%s -> %s: %s, want %s", name, dep, d.Condition, want))
				}
			}
		}
		want := map[string][]string{
			"rabbitmq1": {"rabbitmq-cookie", "rabbitmq-definitions"}, "rabbitmq2": {"rabbitmq-cookie", "rabbitmq-definitions"},
			"rabbitmq3": {"rabbitmq-cookie", "rabbitmq-definitions"}, "rabbitmq-cluster": brokerNodes,
			"mongo1": {"mongo-keyfile", "secrets"}, "mongo-init": mongoMembers, "rabbitmq-definitions": {"secrets"},
			"publisher": {"rabbitmq-cluster", "secrets"}, "consumer": {"mongo-init", "rabbitmq-cluster", "secrets"},
			"liveview": {"mongo-init", "secrets"}, "nginx": {"liveview"},
		}
		for name, deps := range want {
			var got []string
			for dep := range p.Services[name].DependsOn {
				got = append(got, dep)
			}
			slices.Sort(got)
			if !slices.Equal(got, deps) {
				problems = append(problems, fmt.Sprintf("%s depends on %v, want %v", name, got, deps))
			}
		}
		return problems
	}},
	{"bind mounts exist and carry the SELinux label z", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			for _, v := range s.Volumes {
				switch v.Type {
				case types.VolumeTypeBind:
					if _, err := os.Stat(v.Source); err != nil {
						problems = append(problems, fmt.Sprintf("%s: %s does not exist", name, v.Source))
					}
					if v.Bind == nil || v.Bind.SELinux != types.SELinuxShared {
						problems = append(problems, fmt.Sprintf("%s: bind mount %s has no :z (unreadable under SELinux)", name, v.Source))
					}
				case types.VolumeTypeVolume:
					if _, ok := p.Volumes[v.Source]; !ok {
						problems = append(problems, fmt.Sprintf("%s: volume %s is not declared", name, v.Source))
					}
				}
			}
		}
		return problems
	}},
	{"one-shots from the mongo and rabbitmq images put tmpfs on their VOLUMEs (no anonymous volumes per up)", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			if !isOneShot(s) {
				continue
			}
			for _, path := range imageVolumes[imageRepo(s.Image)] {
				if !slices.Contains(s.Tmpfs, path) && !mounted(s, path) {
					problems = append(problems, fmt.Sprintf("%s: %s would be an anonymous volume", name, path))
				}
			}
		}
		return problems
	}},
	{"three MongoDB members with a fixed oplog, named as mongo-init names them", func(p *types.Project, _ string) []string {
		var problems []string
		var hosts []string
		for _, name := range mongoMembers {
			s := p.Services[name]
			command := []string(s.Command)
			if arg(command, "--replSet") != "rs0" {
				problems = append(problems, name+": not --replSet rs0")
			}
			if size, err := strconv.Atoi(arg(command, "--oplogSize")); err != nil || size < 64 || size > 2048 {
				problems = append(problems, fmt.Sprintf("%s: --oplogSize %q (default: 5 %% of the free disk)", name, arg(command, "--oplogSize")))
			}
			if !mounted(s, "/data/db") || !mounted(s, "/data/configdb") {
				problems = append(problems, name+": data and config directories must be named volumes")
			}
			hosts = append(hosts, name+":27017")
		}
		if got := env(p.Services["mongo-init"], "MONGO_MEMBERS"); got != strings.Join(hosts, ",") {
			problems = append(problems, fmt.Sprintf("mongo-init MONGO_MEMBERS %q, want %q", got, strings.Join(hosts, ",")))
		}
		if env(p.Services["mongo1"], "MONGO_INITDB_ROOT_USERNAME") == "" {
			problems = append(problems, "mongo1 must create the administrator")
		}
		for _, name := range []string{"mongo2", "mongo3"} {
			if len(p.Services[name].Environment) != 0 {
				problems = append(problems, name+" must start empty to join the set")
			}
		}
		return problems
	}},
	{"every service has a restart policy, a memory limit and rotated json-file logs", func(p *types.Project, _ string) []string {
		var problems []string
		for name, s := range p.Services {
			if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyNo {
				problems = append(problems, fmt.Sprintf("%s: restart %q", name, s.Restart))
			}
			if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes <= 0 {
				problems = append(problems, name+": no memory limit")
			}
			if s.Logging == nil || s.Logging.Driver != "json-file" || s.Logging.Options["max-size"] == "" {
				problems = append(problems, name+": logs not rotated by the shared json-file anchor")
			}
		}
		return problems
	}},
	{"RabbitMQ's memory alarm is computed from the container's limit", func(p *types.Project, repo string) []string {
		conf, err := os.ReadFile(filepath.Join(repo, "rabbitmq", "compose.conf"))
		if err != nil {
			return []string{err.Error()}
		}
		m := regexp.MustCompile(`(?m)^total_memory_available_override_value = (\d+)$`).FindSubmatch(conf)
		var problems []string
		for _, name := range brokerNodes {
			limit := p.Services[name].Deploy.Resources.Limits.MemoryBytes
			if m == nil || string(m[1]) != strconv.FormatInt(int64(limit), 10) {
				problems = append(problems, fmt.Sprintf("rabbitmq/compose.conf: total_memory_available_override_value must be %s's memory limit, %d bytes", name, limit))
			}
		}
		return problems
	}},
	{"one COMPANY_QUEUES_DURABLE for the definitions and both declare sites", func(p *types.Project, repo string) []string {
		var problems []string
		// render-definitions.mjs reads it as the services do, with the same default.
		want, err := setting(p, repo, "consumer", "COMPANY_QUEUES_DURABLE")
		if err != nil {
			return []string{err.Error()}
		}
		if got := env(p.Services["rabbitmq-definitions"], "COMPANY_QUEUES_DURABLE"); got != "" && got != want {
			problems = append(problems, fmt.Sprintf("rabbitmq-definitions: COMPANY_QUEUES_DURABLE %q, consumer %q", got, want))
		}
		if want != "true" && want != "false" {
			problems = append(problems, fmt.Sprintf("COMPANY_QUEUES_DURABLE %q", want))
		}
		for _, name := range []string{"publisher", "consumer"} {
			if got, err := setting(p, repo, name, "COMPANY_QUEUES_DURABLE"); err != nil || got != want {
				problems = append(problems, fmt.Sprintf("%s: COMPANY_QUEUES_DURABLE %q, definitions %q", name, got, want))
			}
		}
		return problems
	}},
	{"Node services get only variables their schema knows (deploy/settings.json)", func(p *types.Project, repo string) []string {
		settings, err := LoadSettings(repo)
		if err != nil {
			return []string{err.Error()}
		}
		var problems []string
		for _, name := range nodeServices {
			for key := range p.Services[name].Environment {
				if _, ok := settings.Services[name][key]; !ok {
					problems = append(problems, fmt.Sprintf("%s: %s is not a variable of %s's schema (a typo, or a setting renamed or gone)", name, key, name))
				}
			}
		}
		return problems
	}},
	{"NGINX runs the repository's configuration files", func(p *types.Project, repo string) []string {
		var problems []string
		want := map[string]string{
			"/etc/nginx/nginx.conf":                 "nginx/nginx.conf",
			"/etc/nginx/conf.d/default.conf":        "nginx/default.conf",
			"/etc/nginx/stockmarket/http.conf":      "nginx/http.conf",
			"/etc/nginx/stockmarket/locations.conf": "nginx/locations.conf",
		}
		for target, source := range want {
			found := false
			for _, v := range p.Services["nginx"].Volumes {
				found = found || (v.Target == target && v.Source == filepath.Join(repo, source) && v.ReadOnly)
			}
			if !found {
				problems = append(problems, fmt.Sprintf("nginx: %s not mounted read-only at %s", source, target))
			}
		}
		return problems
	}},
	{"three broker nodes form one cluster: classic config names each, one cookie, pause_minority", func(p *types.Project, repo string) []string {
		var problems []string
		conf, err := os.ReadFile(filepath.Join(repo, "rabbitmq", "cluster.conf"))
		if err != nil {
			return []string{err.Error()}
		}
		text := string(conf)
		if !regexp.MustCompile(`(?m)^cluster_formation\.peer_discovery_backend = classic_config$`).MatchString(text) {
			problems = append(problems, "rabbitmq/cluster.conf: peer discovery is not classic_config")
		}
		if !regexp.MustCompile(`(?m)^cluster_partition_handling = pause_minority$`).MatchString(text) {
			problems = append(problems, "rabbitmq/cluster.conf: cluster_partition_handling is not pause_minority")
		}
		listed := regexp.MustCompile(`(?m)^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$`).FindAllStringSubmatch(text, -1)
		var hosts []string
		for _, m := range listed {
			hosts = append(hosts, m[1])
		}
		if !slices.Equal(hosts, brokerNodes) {
			problems = append(problems, fmt.Sprintf("rabbitmq/cluster.conf lists %v, want %v", hosts, brokerNodes))
		}
		cookie := p.Services["rabbitmq-cookie"]
		for i, name := range brokerNodes {
			s := p.Services[name]
			if s.Hostname != name {
				problems = append(problems, fmt.Sprintf("%s: hostname %q, want %q (its node name rabbit@%s)", name, s.Hostname, name, name))
			}
			data := ""
			for _, v := range s.Volumes {
				if v.Target == "/var/lib/rabbitmq" && v.Type == types.VolumeTypeVolume {
					data = v.Source
				}
			}
			if data == "" {
				problems = append(problems, name+": /var/lib/rabbitmq is not a named volume")
			}
			gotCookie := false
			for _, v := range cookie.Volumes {
				gotCookie = gotCookie || (v.Source == data && v.Target == fmt.Sprintf("/node%d", i+1))
			}
			if !gotCookie {
				problems = append(problems, fmt.Sprintf("rabbitmq-cookie does not write the shared cookie into %s's data volume %q", name, data))
			}
			found := false
			for _, v := range s.Volumes {
				found = found || (v.Target == "/etc/rabbitmq/conf.d/35-cluster.conf" && v.Source == filepath.Join(repo, "rabbitmq", "cluster.conf"))
			}
			if !found {
				problems = append(problems, name+": rabbitmq/cluster.conf not mounted")
			}
		}
		for name, s := range p.Services {
			if _, ok := s.Environment["RABBITMQ_ERLANG_COOKIE"]; ok {
				problems = append(problems, name+": the cookie must not travel in the environment")
			}
		}
		return problems
	}},
	{"the durable queues are quorum queues (the definitions are rendered with RABBITMQ_QUORUM_QUEUES=true)", func(p *types.Project, _ string) []string {
		if got := env(p.Services["rabbitmq-definitions"], "RABBITMQ_QUORUM_QUEUES"); got != "true" {
			return []string{fmt.Sprintf("rabbitmq-definitions: RABBITMQ_QUORUM_QUEUES %q, want true", got)}
		}
		return nil
	}},
	{"docker compose config shows no password: secrets are *_FILE paths on the service's volumes", func(p *types.Project, _ string) []string {
		return passwordProblems(p)
	}},
	{"every password is generated by the secrets one-shot, and each service mounts only its own", func(p *types.Project, _ string) []string {
		var problems []string
		own := map[string]string{"publisher": "publisher-secrets", "consumer": "consumer-secrets", "liveview": "liveview-secrets", "mongo1": "mongo-secrets"}
		for name, s := range p.Services {
			for _, v := range s.Volumes {
				if !strings.HasSuffix(v.Source, "secrets") || v.Type != types.VolumeTypeVolume {
					continue
				}
				switch {
				case name == "secrets":
				case v.Source == "secrets" && (name == "rabbitmq-definitions" || name == "mongo-init") && v.ReadOnly:
				case own[name] == v.Source && v.ReadOnly:
				default:
					problems = append(problems, fmt.Sprintf("%s mounts %s (read-only %v): not its own passwords", name, v.Source, v.ReadOnly))
				}
			}
			if _, reads := own[name]; reads || name == "rabbitmq-definitions" || name == "mongo-init" {
				if name != "mongo-init" && s.DependsOn["secrets"].Condition != types.ServiceConditionCompletedSuccessfully {
					problems = append(problems, fmt.Sprintf("%s does not wait for the secrets one-shot", name))
				}
			}
		}
		for name, source := range own {
			if !slices.ContainsFunc(p.Services[name].Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == source }) {
				problems = append(problems, fmt.Sprintf("%s does not mount %s", name, source))
			}
		}
		return problems
	}},
	{"publisher and consumer are given every broker node, as their own user", func(p *types.Project, _ string) []string {
		var problems []string
		for _, name := range []string{"publisher", "consumer"} {
			s := p.Services[name]
			var hosts []string
			for _, raw := range strings.Split(env(s, "RABBITMQ_URLS"), ",") {
				u, err := url.Parse(raw)
				if err != nil || u.Scheme != "amqp" {
					problems = append(problems, fmt.Sprintf("%s: a RABBITMQ_URLS entry is not an amqp:// URL", name))
					continue
				}
				if u.User.Username() != name || u.Path != "/stockmarket" {
					problems = append(problems, fmt.Sprintf("%s: RABBITMQ_URLS entry %q, want user %s, vhost stockmarket", name, u.Redacted(), name))
				}
				hosts = append(hosts, u.Hostname())
			}
			if !slices.Equal(hosts, brokerNodes) {
				problems = append(problems, fmt.Sprintf("%s: RABBITMQ_URLS names %v, want %v", name, hosts, brokerNodes))
			}
			if u, err := url.Parse(env(s, "RABBITMQ_URL")); err != nil || u.Hostname() != brokerNodes[0] {
				problems = append(problems, fmt.Sprintf("%s: RABBITMQ_URL should name %s (the first of RABBITMQ_URLS)", name, brokerNodes[0]))
			}
		}
		return problems
	}},
}

// Settings is deploy/settings.json (generated by npm run settings from the services' schemas):
// every variable of each Node service, with its default (nil: none).
type Settings struct {
	Services map[string]map[string]*string `json:"services"`
}

// LoadSettings reads deploy/settings.json of the repository at repo.
func LoadSettings(repo string) (Settings, error) {
	var settings Settings
	data, err := os.ReadFile(filepath.Join(repo, "deploy", "settings.json"))
	if err != nil {
		return settings, fmt.Errorf("deploy/settings.json (npm run settings writes it): %w", err)
	}
	if err := json.Unmarshal(data, &settings); err != nil {
		return settings, fmt.Errorf("deploy/settings.json: %w", err)
	}
	return settings, nil
}

// setting is what a Node service runs with: the value its compose environment gives, else the
// default of its schema.
func setting(p *types.Project, repo, service, key string) (string, error) {
	if value := env(p.Services[service], key); value != "" {
		return value, nil
	}
	settings, err := LoadSettings(repo)
	if err != nil {
		return "", err
	}
	known, ok := settings.Services[service][key]
	if !ok {
		return "", fmt.Errorf("%s: %s is not a variable of its schema (deploy/settings.json)", service, key)
	}
	if known == nil {
		return "", nil
	}
	return *known, nil
}

var (
	// A URL with a password in it (`scheme://user:password@`).
	urlWithPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@"']*:[^/\s@"']+@`)
	// A variable that would hold a secret itself rather than the path of a file holding it.
	secretName = regexp.MustCompile(`(?i)pass(word)?|secret|token|credential`)
	// The passwords .env carried before they were generated (issue 24).
	retiredPasswords = regexp.MustCompile(`[a-z]+-dev-password`)
	// The names (never values) of an old .env's password variables, for the secrets one-shot.
	variableNames = regexp.MustCompile(`^( [A-Z][A-Z0-9_]*)*$`)
)

// passwordProblems: `docker compose config` shows no password. Every variable named like a
// secret is a *_FILE path on a volume of that service; no URL carries a password; no retired
// development password appears anywhere in the output.
func passwordProblems(p *types.Project) []string {
	var problems []string
	for name, s := range p.Services {
		for key, value := range s.Environment {
			if value == nil || !secretName.MatchString(key) {
				continue
			}
			switch {
			case key == "OLD_ENV_PASSWORDS":
				if !variableNames.MatchString(*value) {
					problems = append(problems, fmt.Sprintf("%s: OLD_ENV_PASSWORDS holds more than variable names", name))
				}
			case strings.HasSuffix(key, "_FILE"):
				dir := filepath.Dir(*value)
				if !filepath.IsAbs(*value) || !mounted(s, dir) {
					problems = append(problems, fmt.Sprintf("%s: %s=%s is not a file on a volume the service mounts", name, key, *value))
				}
			default:
				problems = append(problems, fmt.Sprintf("%s: %s is in the environment itself (a secret goes in a file: %s_FILE)", name, key, key))
			}
		}
	}
	config, err := p.MarshalYAML()
	if err != nil {
		return append(problems, fmt.Sprintf("docker compose config: %v", err))
	}
	for _, line := range strings.Split(string(config), "\n") {
		if urlWithPassword.MatchString(line) {
			problems = append(problems, fmt.Sprintf("docker compose config shows a URL with a password: %s", redactLine(line)))
		}
		if retiredPasswords.MatchString(line) {
			problems = append(problems, fmt.Sprintf("docker compose config shows a retired development password: %s", redactLine(line)))
		}
	}
	return problems
}

// redactLine: the line with the value hidden, so that the check's own output shows no password.
func redactLine(line string) string {
	line = urlWithPassword.ReplaceAllStringFunc(line, func(match string) string {
		return match[:strings.LastIndex(match, ":")] + ":***@"
	})
	return strings.TrimSpace(retiredPasswords.ReplaceAllString(line, "***"))
}

func env(s types.ServiceConfig, key string) string {
	if value := s.Environment[key]; value != nil {
		return *value
	}
	return ""
}

func ms(text string) time.Duration {
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

func grace(s types.ServiceConfig) time.Duration {
	if s.StopGracePeriod == nil {
		return 10 * time.Second // docker's default
	}
	return time.Duration(*s.StopGracePeriod)
}

func arg(command []string, flag string) string {
	i := slices.Index(command, flag)
	if i < 0 || i+1 >= len(command) {
		return ""
	}
	return command[i+1]
}

func mounted(s types.ServiceConfig, target string) bool {
	for _, v := range s.Volumes {
		if v.Target == target {
			return true
		}
	}
	return false
}

// publisherShutdownMargin: publisher/src/main.ts stops hard at PUBLISHER_DRAIN_TIMEOUT_MS plus
// this margin.
func publisherShutdownMargin(repo string) (time.Duration, error) {
	source, err := os.ReadFile(filepath.Join(repo, "publisher", "src", "main.ts"))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`config\.PUBLISHER_DRAIN_TIMEOUT_MS \+ ([\d_]+)`).FindSubmatch(source)
	if m == nil {
		return 0, fmt.Errorf("publisher/src/main.ts: shutdown deadline (PUBLISHER_DRAIN_TIMEOUT_MS + margin) not found")
	}
	n, err := strconv.Atoi(strings.ReplaceAll(string(m[1]), "_", ""))
	return time.Duration(n) * time.Millisecond, err
}

// nginxShutdownTimeout: worker_shutdown_timeout of nginx/nginx.conf.
func nginxShutdownTimeout(repo string) (time.Duration, error) {
	conf, err := os.ReadFile(filepath.Join(repo, "nginx", "nginx.conf"))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^worker_shutdown_timeout (\d+)s;$`).FindSubmatch(conf)
	if m == nil {
		return 0, fmt.Errorf("nginx/nginx.conf: no worker_shutdown_timeout (SIGQUIT would wait for every WebSocket)")
	}
	n, err := strconv.Atoi(string(m[1]))
	return time.Duration(n) * time.Second, err
}
