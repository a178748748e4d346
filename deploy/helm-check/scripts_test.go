package helmcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// resolveEnv gives a container's environment as the kubelet would: literal values and keys of
// rendered Secrets (a missing Secret or key fails the test).
func resolveEnv(t *testing.T, objects []Object, c corev1.Container) []string {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			cm := Find(objects, "ConfigMap", from.ConfigMapRef.Name)
			if cm == nil {
				t.Fatalf("envFrom: ConfigMap %s not rendered", from.ConfigMapRef.Name)
			}
			for key, value := range cm.Typed.(*corev1.ConfigMap).Data {
				env = append(env, key+"="+value)
			}
			continue
		}
		if from.SecretRef == nil {
			t.Fatalf("envFrom without a configMapRef or secretRef")
		}
		secret := Find(objects, "Secret", from.SecretRef.Name)
		if secret == nil {
			t.Fatalf("envFrom: Secret %s not rendered", from.SecretRef.Name)
		}
		for key, value := range secret.Typed.(*corev1.Secret).Data {
			env = append(env, key+"="+string(value))
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env = append(env, e.Name+"=pod-name-0")
		case e.ValueFrom.SecretKeyRef != nil:
			secret := Find(objects, "Secret", e.ValueFrom.SecretKeyRef.Name)
			if secret == nil {
				t.Fatalf("%s: Secret %s not rendered", e.Name, e.ValueFrom.SecretKeyRef.Name)
			}
			value, ok := secret.Typed.(*corev1.Secret).Data[e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("%s: no key %s", e.Name, e.ValueFrom.SecretKeyRef.Key)
			}
			env = append(env, e.Name+"="+string(value))
		default:
			t.Fatalf("%s: a value source this test does not resolve", e.Name)
		}
	}
	return env
}

// mountConfigMap writes a rendered ConfigMap's files into dir, as a configMap volume does.
func mountConfigMap(t *testing.T, objects []Object, name, dir string) {
	t.Helper()
	cm := Find(objects, "ConfigMap", name)
	if cm == nil {
		t.Fatalf("ConfigMap %s not rendered", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for file, content := range cm.Typed.(*corev1.ConfigMap).Data {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rabbitHash checks RabbitMQ's rabbit_password_hashing_sha256 hash of a password
// (base64 of a 4-byte salt and sha256(salt + password)).
func rabbitHash(hash, password string) bool {
	raw, err := base64.StdEncoding.DecodeString(hash)
	if err != nil || len(raw) != 36 {
		return false
	}
	sum := sha256.Sum256(append(append([]byte{}, raw[:4]...), password...))
	return bytes.Equal(sum[:], raw[4:])
}

// The broker pods' init container, run as the kubelet would run it (its command, its mounts
// mapped to directories, its environment from the rendered Secret), with the node that runs the
// project's tests: it must write definitions whose users' hashes are those of the Secret's
// passwords and whose queues are the chart's.
func TestRabbitmqInitContainerRendersTheSecretsPasswords(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed (npm test has it): ", err)
	}
	objects := rendered(t, "defaults")
	specs := podSpecs(t, objects)
	spec := specs["RabbitmqCluster/"+ReleaseName+"-stockmarket-rabbitmq (override)"]
	if spec == nil || len(spec.InitContainers) != 1 {
		t.Fatalf("no init container in the RabbitmqCluster override")
	}
	init := spec.InitContainers[0]
	root := t.TempDir()
	mounts := map[string]string{}
	for _, m := range init.VolumeMounts {
		mounts[m.MountPath] = filepath.Join(root, m.Name)
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				mountConfigMap(t, objects, v.ConfigMap.Name, mounts[m.MountPath])
			}
			if v.Name == m.Name && v.EmptyDir != nil {
				if err := os.MkdirAll(mounts[m.MountPath], 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if init.Command[0] != "node" {
		t.Fatalf("init container runs %s, not node", init.Command[0])
	}
	args := make([]string, 0, len(init.Command)-1)
	for _, arg := range init.Command[1:] {
		for mountPath, dir := range mounts {
			if strings.HasPrefix(arg, mountPath+"/") {
				arg = dir + strings.TrimPrefix(arg, mountPath)
			}
		}
		args = append(args, arg)
	}
	cmd := exec.Command(node, args...)
	cmd.Env = resolveEnv(t, objects, init)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("init container failed: %v\n%s", err, out)
	}
	// The broker container reads the result from its mount of the same volume.
	var brokerPath string
	for _, c := range spec.Containers {
		for _, m := range c.VolumeMounts {
			if m.Name == "stockmarket-definitions" {
				brokerPath = m.MountPath
			}
		}
	}
	rabbitmqCluster := Find(objects, "RabbitmqCluster", ReleaseName+"-stockmarket-rabbitmq")
	config := rabbitmqCluster.Unstructured.Object["spec"].(map[string]interface{})["rabbitmq"].(map[string]interface{})["additionalConfig"].(string)
	if brokerPath == "" || !strings.Contains(config, "load_definitions = "+brokerPath+"/definitions.json") {
		t.Fatalf("the broker does not load the rendered file (mount %q, config %q)", brokerPath, config)
	}
	data, err := os.ReadFile(filepath.Join(mounts["/rendered"], "definitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var defs struct {
		Users []struct {
			Name         string `json:"name"`
			PasswordHash string `json:"password_hash"`
		} `json:"users"`
		Queues []struct {
			Name      string                 `json:"name"`
			Arguments map[string]interface{} `json:"arguments"`
		} `json:"queues"`
	}
	if err := json.Unmarshal(data, &defs); err != nil {
		t.Fatal(err)
	}
	credentials := Find(objects, "Secret", ReleaseName+"-stockmarket-credentials").Typed.(*corev1.Secret).Data
	if len(defs.Users) != 4 {
		t.Fatalf("%d users", len(defs.Users))
	}
	for _, user := range defs.Users {
		password := string(credentials["rabbitmq-"+user.Name+"-password"])
		if password == "" || !rabbitHash(user.PasswordHash, password) {
			t.Errorf("user %s: hash is not of the Secret's password", user.Name)
		}
		if rabbitHash(user.PasswordHash, user.Name+"-dev-password") {
			t.Errorf("user %s kept the development password", user.Name)
		}
	}
	for _, q := range defs.Queues {
		if q.Arguments["x-queue-type"] != "quorum" {
			t.Errorf("queue %s: %v, want a quorum queue", q.Name, q.Arguments)
		}
	}
}

// The mongo-init Job's environment, read by compose's own setup.cjs (settingsFromEnv): the
// members are the StatefulSet's pods by their stable DNS names, the users and passwords those
// of the Secret.
func TestMongoInitJobEnvironmentIsWhatSetupReads(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed (npm test has it): ", err)
	}
	objects := rendered(t, "defaults")
	job := Find(objects, "Job", ReleaseName+"-stockmarket-mongodb-init")
	if job == nil {
		t.Fatal("no mongo-init Job")
	}
	container := job.Typed.(*batchv1.Job).Spec.Template.Spec.Containers[0]
	script := `const s = require(process.argv[1]).settingsFromEnv(process.env); console.log(JSON.stringify(s));`
	cmd := exec.Command(node, "-e", script, filepath.Join(RepoRoot(), "mongo-init", "setup.cjs"))
	cmd.Env = resolveEnv(t, objects, container)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("settingsFromEnv refused the Job's environment: %v\n%s", err, out)
	}
	var settings struct {
		ReplicaSet   string   `json:"replicaSet"`
		Members      []string `json:"members"`
		RootPassword string   `json:"rootPassword"`
		DBName       string   `json:"dbName"`
		Consumer     struct{ User, Pwd string }
		Liveview     struct{ User, Pwd string }
	}
	if err := json.Unmarshal(out, &settings); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	credentials := Find(objects, "Secret", ReleaseName+"-stockmarket-credentials").Typed.(*corev1.Secret).Data
	want := []string{}
	for _, i := range []string{"0", "1", "2"} {
		want = append(want, ReleaseName+"-stockmarket-mongodb-"+i+"."+ReleaseName+"-stockmarket-mongodb."+Namespace+".svc.cluster.local:27017")
	}
	if strings.Join(settings.Members, ",") != strings.Join(want, ",") {
		t.Errorf("members %v, want %v", settings.Members, want)
	}
	if settings.ReplicaSet != "rs0" || settings.DBName != "stockmarket" {
		t.Errorf("replica set %s, database %s", settings.ReplicaSet, settings.DBName)
	}
	if settings.RootPassword != string(credentials["mongodb-root-password"]) ||
		settings.Consumer.Pwd != string(credentials["mongodb-consumer-password"]) ||
		settings.Liveview.Pwd != string(credentials["mongodb-liveview-password"]) {
		t.Error("the Job's passwords are not the Secret's")
	}
	// The services log in as those users and find the same members through the SRV record of
	// the StatefulSet's headless Service (_mongodb._tcp: its port must be named mongodb, TCP).
	svc := Find(objects, "Service", ReleaseName+"-stockmarket-mongodb")
	sts := Find(objects, "StatefulSet", ReleaseName+"-stockmarket-mongodb")
	if svc == nil || sts == nil {
		t.Fatal("no MongoDB Service or StatefulSet")
	}
	service := svc.Typed.(*corev1.Service)
	if service.Spec.ClusterIP != "None" || sts.Typed.(*appsv1.StatefulSet).Spec.ServiceName != service.Name ||
		service.Spec.Ports[0].Name != "mongodb" || service.Spec.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("the MongoDB Service is not a headless Service of the StatefulSet with a TCP port named mongodb")
	}
	srvHost := service.Name + "." + Namespace + ".svc.cluster.local"
	for _, name := range []string{"consumer", "liveview"} {
		url := string(Find(objects, "Secret", ReleaseName+"-stockmarket-"+name).Typed.(*corev1.Secret).Data["MONGODB_URL"])
		if !strings.HasPrefix(url, "mongodb+srv://"+name+":") || !strings.Contains(url, "@"+srvHost+"/") {
			t.Errorf("%s MONGODB_URL %s does not name its user and the members' SRV record", name, url)
		}
	}
}

// Each service's own configuration parser (its built config.js; npm test builds before this
// step) accepts the environment the chart gives it, Secrets included, and reads the settings
// the chart means.
func TestServicesAcceptTheirEnvironment(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed (npm test has it): ", err)
	}
	loaders := map[string]string{"publisher": "loadPublisherConfig", "consumer": "loadConsumerConfig", "liveview": "loadLiveviewConfig"}
	script := `const [file, fn] = process.argv.slice(1);
const config = (await import(file))[fn](process.env);
console.log(JSON.stringify(config));`
	for _, set := range []string{"defaults", "own-settings"} {
		objects := rendered(t, set)
		for service, loader := range loaders {
			file := filepath.Join(RepoRoot(), service, "dist", "config.js")
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("%s is not built: run npm run build first (%v)", service, err)
			}
			d := Find(objects, "Deployment", ReleaseName+"-stockmarket-"+service)
			container := d.Typed.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
			cmd := exec.Command(node, "--input-type=module", "-e", script, "file://"+file, loader)
			cmd.Env = resolveEnv(t, objects, container)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s %s: the service refuses its environment: %v\n%s", set, service, err, out)
				continue
			}
			var config map[string]interface{}
			if err := json.Unmarshal(out, &config); err != nil {
				t.Fatalf("%s: %v: %s", service, err, out)
			}
			companies := fmt.Sprint(config["COMPANIES"])
			if set == "own-settings" && companies != "[AAPL MSFT TSLA NVDA BRK.B]" {
				t.Errorf("%s %s: COMPANIES %s", set, service, companies)
			}
			if service == "publisher" && set == "own-settings" && (config["PUBLISHER_RATE"] != float64(500) || config["PUBLISHER_MAX_IN_FLIGHT"] != float64(1_000_000) || config["LOG_LEVEL"] != "debug") {
				t.Errorf("publisher: rate %v, in flight %v, log level %v: not the values given", config["PUBLISHER_RATE"], config["PUBLISHER_MAX_IN_FLIGHT"], config["LOG_LEVEL"])
			}
			if service == "consumer" && set == "own-settings" && (config["CONSUMER_WRITE_CONCURRENCY"] != float64(4) || config["MONGODB_DB"] != "markets") {
				t.Errorf("consumer: write concurrency %v, database %v: not the values given", config["CONSUMER_WRITE_CONCURRENCY"], config["MONGODB_DB"])
			}
			if service == "consumer" && set == "defaults" && config["CONSUMER_WRITE_CONCURRENCY"] != float64(3) {
				t.Errorf("consumer: write concurrency %v, want the chart's 3 for a MongoDB replica set", config["CONSUMER_WRITE_CONCURRENCY"])
			}
			if service == "publisher" && set == "defaults" && config["PUBLISHER_QUEUE_TYPE"] != "quorum" {
				t.Errorf("publisher: PUBLISHER_QUEUE_TYPE %v", config["PUBLISHER_QUEUE_TYPE"])
			}
			if service == "consumer" && (config["CONSUMER_MAX_LEASES"] != float64(1) || config["MONGODB_WRITE_CONCERN"] != "majority") {
				t.Errorf("consumer: leases %v, write concern %v", config["CONSUMER_MAX_LEASES"], config["MONGODB_WRITE_CONCERN"])
			}
			if service == "liveview" && config["LIVEVIEW_REPLICA_NAME"] != "pod-name-0" {
				t.Errorf("liveview: replica name %v, want the pod's name", config["LIVEVIEW_REPLICA_NAME"])
			}
		}
	}
}
