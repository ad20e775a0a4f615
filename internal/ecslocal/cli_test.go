package ecslocal_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestAWSCLI_speaksToEcslocal drives ecslocal with the AWS CLI (botocore reads error codes
// only from the __type member, the Go SDK from the X-Amzn-ErrorType header, so both must agree).
// .ci/run installs Debian's awscli so that CI runs it.
func TestAWSCLI_speaksToEcslocal(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: the AWS CLI (aws) is not on PATH; install Debian's awscli to run this wire test")
	}
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{}))
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(awsPath, append([]string{"--endpoint-url", hs.URL, "--region", "eu-west-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(),
			"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=",
			"AWS_CONFIG_FILE="+dir+"/config", "AWS_SHARED_CREDENTIALS_FILE="+dir+"/credentials",
			"AWS_MAX_ATTEMPTS=1")
		return cmd.CombinedOutput()
	}
	mustRun := func(args ...string) map[string]any {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("aws %s printed no JSON: %s", strings.Join(args, " "), out)
		}
		return m
	}

	cl := obj(t, mustRun("ecs", "create-cluster", "--cluster-name", "prod")["cluster"])
	if cl["clusterArn"] != "arn:aws:ecs:eu-west-1:000000000000:cluster/prod" || cl["status"] != "ACTIVE" {
		t.Fatalf("create-cluster: %v", cl)
	}
	td := obj(t, mustRun("ecs", "register-task-definition", "--family", "web",
		"--container-definitions", `[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":"healthy"}}]`)["taskDefinition"])
	if td["revision"] != float64(1) || td["status"] != "ACTIVE" {
		t.Fatalf("register-task-definition: %v", td)
	}
	svc := obj(t, mustRun("ecs", "create-service", "--cluster", "prod", "--service-name", "web__1",
		"--task-definition", "web:1", "--desired-count", "2",
		"--tags", "key=phased-deployment:id,value=prod/web")["service"])
	if svc["serviceArn"] != "arn:aws:ecs:eu-west-1:000000000000:service/prod/web__1" {
		t.Fatalf("create-service: %v", svc)
	}
	desc := mustRun("ecs", "describe-services", "--cluster", "prod", "--services", "web__1", "nope", "--include", "TAGS")
	services, _ := desc["services"].([]any)
	failures, _ := desc["failures"].([]any)
	if len(services) != 1 || len(failures) != 1 || obj(t, failures[0])["reason"] != "MISSING" {
		t.Fatalf("describe-services: %v", desc)
	}
	got := obj(t, services[0])
	tags, _ := got["tags"].([]any)
	if got["desiredCount"] != float64(2) || got["runningCount"] != float64(2) || len(tags) != 1 {
		t.Fatalf("describe-services: %v", got)
	}
	mustRun("application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
		"--resource-id", "service/prod/web__1", "--scalable-dimension", "ecs:service:DesiredCount",
		"--min-capacity", "1", "--max-capacity", "4")

	out, err := run("ecs", "describe-services", "--cluster", "nope", "--services", "web__1")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "(ClusterNotFoundException)") || !strings.Contains(string(out), "Cluster not found.") {
		t.Fatalf("describe-services on a missing cluster: err %v, output %s", err, out)
	}
	out, err = run("application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
		"--resource-id", "service/prod/nope", "--scalable-dimension", "ecs:service:DesiredCount",
		"--policy-name", "cpu", "--policy-type", "TargetTrackingScaling",
		"--target-tracking-scaling-policy-configuration", `{"TargetValue":60,"PredefinedMetricSpecification":{"PredefinedMetricType":"ECSServiceAverageCPUUtilization"}}`)
	if err == nil || !strings.Contains(string(out), "(ObjectNotFoundException)") {
		t.Fatalf("put-scaling-policy without a target: err %v, output %s", err, out)
	}
}

// obj asserts that a decoded JSON value is an object.
func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("want a JSON object, got %T %v", v, v)
	}
	return m
}
