package ecslocal_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestAWSCLI_speaksToEcslocal drives ecslocal with the AWS CLI (botocore reads error codes
// only from the __type member, the Go SDK from the X-Amzn-ErrorType header, so both must agree).
// .ci/run installs Debian's awscli so that CI runs it.
func TestAWSCLI_speaksToEcslocal(t *testing.T) {
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)

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

// awsCLI returns functions that run the AWS CLI against url (in region eu-west-1, JSON output):
// run returns its output and error, mustRun fails the test unless it succeeds and prints JSON.
func awsCLI(t *testing.T, url string) (run func(args ...string) ([]byte, error), mustRun func(args ...string) map[string]any) {
	t.Helper()
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: the AWS CLI (aws) is not on PATH; install Debian's awscli to run this wire test")
	}
	dir := t.TempDir()
	run = func(args ...string) ([]byte, error) {
		cmd := exec.Command(awsPath, append([]string{"--endpoint-url", url, "--region", "eu-west-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(),
			"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=",
			"AWS_CONFIG_FILE="+dir+"/config", "AWS_SHARED_CREDENTIALS_FILE="+dir+"/credentials",
			"AWS_MAX_ATTEMPTS=1")
		return cmd.CombinedOutput()
	}
	mustRun = func(args ...string) map[string]any {
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
	return run, mustRun
}

// TestAWSCLI_elbv2 drives the load balancer layer with the AWS CLI, which speaks the query
// protocol (form-encoded requests, XML answers) to Elastic Load Balancing: a load balancer, a
// target group, a listener, an ECS service behind them, and the target health ECS's tasks get.
func TestAWSCLI_elbv2(t *testing.T) {
	// A time scale of 0.001 makes the 30-second health check interval 30 ms.
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{TimeScale: 0.001}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)

	lb := obj(t, list(t, mustRun("elbv2", "create-load-balancer", "--name", "web", "--subnets", "subnet-a", "subnet-b")["LoadBalancers"])[0])
	lbArn, _ := lb["LoadBalancerArn"].(string)
	if !strings.HasPrefix(lbArn, "arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/web/") || lb["Type"] != "application" {
		t.Fatalf("create-load-balancer: %v", lb)
	}
	tg := obj(t, list(t, mustRun("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP", "--port", "80",
		"--vpc-id", "vpc-1", "--target-type", "ip")["TargetGroups"])[0])
	tgArn, _ := tg["TargetGroupArn"].(string)
	if tg["HealthCheckIntervalSeconds"] != float64(30) || tg["HealthyThresholdCount"] != float64(5) || tg["UnhealthyThresholdCount"] != float64(2) || tg["TargetType"] != "ip" {
		t.Fatalf("create-target-group: %v", tg)
	}
	l := obj(t, list(t, mustRun("elbv2", "create-listener", "--load-balancer-arn", lbArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgArn)["Listeners"])[0])
	if act := obj(t, list(t, l["DefaultActions"])[0]); act["TargetGroupArn"] != tgArn || act["Type"] != "forward" {
		t.Fatalf("create-listener: %v", l)
	}
	if th := list(t, mustRun("elbv2", "describe-target-health", "--target-group-arn", tgArn)["TargetHealthDescriptions"]); len(th) != 0 {
		t.Fatalf("describe-target-health with no targets: %v", th)
	}

	mustRun("ecs", "create-cluster", "--cluster-name", "prod")
	mustRun("ecs", "register-task-definition", "--family", "web", "--network-mode", "awsvpc", "--requires-compatibilities", "FARGATE",
		"--container-definitions", `[{"name":"web","image":"nginx","portMappings":[{"containerPort":80}],"dockerLabels":{"ecslocal.elb-health":"healthy"}}]`)
	mustRun("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:1", "--desired-count", "2",
		"--launch-type", "FARGATE", "--network-configuration", "awsvpcConfiguration={subnets=[subnet-a]}",
		"--load-balancers", "targetGroupArn="+tgArn+",containerName=web,containerPort=80")
	deadline := time.Now().Add(10 * time.Second)
	for {
		th := list(t, mustRun("elbv2", "describe-target-health", "--target-group-arn", tgArn)["TargetHealthDescriptions"])
		healthy := 0
		for _, d := range th {
			target, health := obj(t, obj(t, d)["Target"]), obj(t, obj(t, d)["TargetHealth"])
			if id, _ := target["Id"].(string); target["Port"] != float64(80) || !strings.HasPrefix(id, "10.") {
				t.Fatalf("target %v", target)
			}
			if health["State"] == "healthy" {
				healthy++
			}
		}
		if len(th) == 2 && healthy == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not healthy: %v", th)
		}
		time.Sleep(20 * time.Millisecond)
	}

	out, err := run("elbv2", "describe-target-health", "--target-group-arn", tgArn+"0")
	if err == nil || !strings.Contains(string(out), "(TargetGroupNotFound)") || !strings.Contains(string(out), "One or more target groups not found") {
		t.Fatalf("describe-target-health of a missing group: err %v, output %s", err, out)
	}
	out, err = run("elbv2", "delete-target-group", "--target-group-arn", tgArn)
	if err == nil || !strings.Contains(string(out), "(ResourceInUse)") {
		t.Fatalf("delete-target-group in use: err %v, output %s", err, out)
	}
	out, err = run("elbv2", "create-load-balancer", "--name", "web", "--subnets", "subnet-a", "subnet-c")
	if err == nil || !strings.Contains(string(out), "(DuplicateLoadBalancerName)") {
		t.Fatalf("create-load-balancer with a taken name: err %v, output %s", err, out)
	}
}

// list asserts that a decoded JSON value is an array.
func list(t *testing.T, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("want a JSON array, got %T %v", v, v)
	}
	return l
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

// TestAWSCLI_listsActivitiesAndWaiter drives ListClusters, ListTaskDefinitions (the CLI pages
// through it), DescribeScalingActivities and the services-stable waiter with the AWS CLI. The
// waiter polls every 15 s at the least: the service is stable before it starts, so it returns
// after its first poll.
func TestAWSCLI_listsActivitiesAndWaiter(t *testing.T) {
	// A time scale of 0.01 makes the 5-second scaling activity of a registration 50 ms.
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{TimeScale: 0.01}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)

	mustRun("ecs", "create-cluster", "--cluster-name", "prod")
	mustRun("ecs", "create-cluster", "--cluster-name", "staging")
	arns := list(t, mustRun("ecs", "list-clusters")["clusterArns"])
	if len(arns) != 2 || arns[0] != "arn:aws:ecs:eu-west-1:000000000000:cluster/prod" || arns[1] != "arn:aws:ecs:eu-west-1:000000000000:cluster/staging" {
		t.Fatalf("list-clusters: %v", arns)
	}

	for _, fam := range []string{"web", "web", "web", "api"} {
		mustRun("ecs", "register-task-definition", "--family", fam, "--container-definitions", `[{"name":"c","image":"nginx"}]`)
	}
	mustRun("ecs", "deregister-task-definition", "--task-definition", "web:1")
	tds := list(t, mustRun("ecs", "list-task-definitions", "--family-prefix", "web", "--sort", "DESC", "--page-size", "1")["taskDefinitionArns"])
	if len(tds) != 2 || tds[0] != "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:3" || tds[1] != "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:2" {
		t.Fatalf("list-task-definitions: %v", tds)
	}
	if inactive := list(t, mustRun("ecs", "list-task-definitions", "--status", "INACTIVE")["taskDefinitionArns"]); len(inactive) != 0 {
		t.Fatalf("list-task-definitions --status INACTIVE (web:1 is referenced by nothing): %v", inactive)
	}

	mustRun("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:3", "--desired-count", "1")
	mustRun("application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
		"--resource-id", "service/prod/web", "--scalable-dimension", "ecs:service:DesiredCount",
		"--min-capacity", "2", "--max-capacity", "4")
	// The activity that moves the count into the range is InProgress, then Successful.
	for deadline := time.Now().Add(10 * time.Second); ; {
		acts := list(t, mustRun("application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs",
			"--resource-id", "service/prod/web", "--scalable-dimension", "ecs:service:DesiredCount")["ScalingActivities"])
		if len(acts) != 1 {
			t.Fatalf("describe-scaling-activities: %v", acts)
		}
		a := obj(t, acts[0])
		if a["Description"] != "Setting desired count to 2." || a["Cause"] != "minimum capacity was set to 2" ||
			(a["StatusCode"] != "Successful" && a["StatusCode"] != "InProgress") {
			t.Fatalf("scaling activity %v", a)
		}
		if a["StatusCode"] == "Successful" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scaling activity still in progress: %v", a)
		}
	}

	start := time.Now()
	if out, err := run("ecs", "wait", "services-stable", "--cluster", "prod", "--services", "web"); err != nil {
		t.Fatalf("wait services-stable: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 14*time.Second {
		t.Fatalf("wait services-stable took %s: it did not return at its first poll", d)
	}
	// A missing service fails the waiter at once (the MISSING failure acceptor).
	out, err := run("ecs", "wait", "services-stable", "--cluster", "prod", "--services", "nope")
	if err == nil || !strings.Contains(string(out), "Waiter ServicesStable failed") {
		t.Fatalf("wait services-stable on a missing service: err %v, output %s", err, out)
	}
}
