package ecslocal_test

import (
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestAWSCLI_cloudwatch drives CloudWatch with the AWS CLI. The AWS CLI v1 (botocore) speaks
// JSON 1.0 to CloudWatch (X-Amz-Target GraniteServiceVersion20100801.<Op>) and reads an error's
// code from the x-amzn-query-error header; Debian's AWS CLI v2.9 speaks awsQuery instead, which
// TestCloudWatch_awsQuery covers with form posts when no v2 is installed.
func TestAWSCLI_cloudwatch(t *testing.T) {
	clock := ecslocal.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{Clock: clock}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)

	if out, err := run("cloudwatch", "put-metric-alarm", "--alarm-name", "web-errors", "--namespace", "app",
		"--metric-name", "Errors", "--dimensions", "Name=Service,Value=web", "--statistic", "Sum",
		"--period", "60", "--evaluation-periods", "1", "--threshold", "5",
		"--comparison-operator", "GreaterThanThreshold", "--treat-missing-data", "notBreaching"); err != nil {
		t.Fatalf("put-metric-alarm: %v\n%s", err, out)
	}
	// The AWS CLI v1 prints timestamps as they came on the wire: epoch seconds.
	a := obj(t, list(t, mustRun("cloudwatch", "describe-alarms", "--alarm-names", "web-errors")["MetricAlarms"])[0])
	if a["StateValue"] != "INSUFFICIENT_DATA" || a["AlarmArn"] != "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:web-errors" ||
		a["Threshold"] != float64(5) || a["TreatMissingData"] != "notBreaching" || a["StateUpdatedTimestamp"] != float64(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).Unix()) {
		t.Fatalf("describe-alarms: %v", a)
	}

	if out, err := run("cloudwatch", "put-metric-data", "--namespace", "app", "--metric-name", "Errors",
		"--dimensions", "Service=web", "--value", "12", "--timestamp", "2026-11-26T12:00:00Z"); err != nil {
		t.Fatalf("put-metric-data: %v\n%s", err, out)
	}
	clock.Advance(time.Minute)
	a = obj(t, list(t, mustRun("cloudwatch", "describe-alarms", "--state-value", "ALARM")["MetricAlarms"])[0])
	if a["StateReason"] != "Threshold Crossed: 1 datapoint [12.0 (26/11/26 12:00:00)] was greater than the threshold (5.0)." {
		t.Fatalf("evaluated alarm: %v", a)
	}

	if out, err := run("cloudwatch", "set-alarm-state", "--alarm-name", "web-errors", "--state-value", "OK", "--state-reason", "silenced by hand"); err != nil {
		t.Fatalf("set-alarm-state: %v\n%s", err, out)
	}
	a = obj(t, list(t, mustRun("cloudwatch", "describe-alarms", "--alarm-name-prefix", "web")["MetricAlarms"])[0])
	if a["StateValue"] != "OK" || a["StateReason"] != "silenced by hand" {
		t.Fatalf("after set-alarm-state: %v", a)
	}

	out, err := run("cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x")
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || !strings.Contains(string(out), "(ResourceNotFound)") {
		t.Fatalf("set-alarm-state of a missing alarm: %v\n%s", err, out)
	}
	out, err = run("cloudwatch", "put-metric-data", "--namespace", "AWS/ECS", "--metric-name", "x", "--value", "1")
	if err == nil || !strings.Contains(string(out), "(InvalidParameterValue)") {
		t.Fatalf("put-metric-data into AWS/: %v\n%s", err, out)
	}

	res := mustRun("cloudwatch", "get-metric-data", "--start-time", "2026-11-26T12:00:00Z", "--end-time", "2026-11-26T12:01:00Z",
		"--metric-data-queries", `[{"Id":"m1","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"app","MetricName":"Errors","Dimensions":[{"Name":"Service","Value":"web"}]},"Period":60,"Stat":"Sum"}},{"Id":"e1","Expression":"m1 * 2","Label":"double"}]`)
	r := obj(t, list(t, res["MetricDataResults"])[0])
	if r["Id"] != "e1" || r["Label"] != "double" || len(list(t, r["Values"])) != 1 || list(t, r["Values"])[0] != float64(24) {
		t.Fatalf("get-metric-data: %v", res)
	}
}

// TestAWSCLIv2_cloudwatchQuery runs the AWS CLI v2 (Debian's awscli 2.9 speaks awsQuery to
// CloudWatch) when the aws on PATH is one.
func TestAWSCLIv2_cloudwatchQuery(t *testing.T) {
	awsPath, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: no aws on PATH")
	}
	if v, _ := exec.Command(awsPath, "--version").CombinedOutput(); !strings.HasPrefix(string(v), "aws-cli/2") {
		t.Skipf("SKIPPED: %s is %s, not the AWS CLI v2; TestCloudWatch_awsQuery covers awsQuery", awsPath, strings.TrimSpace(string(v)))
	}
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)
	if out, err := run("cloudwatch", "put-metric-alarm", "--alarm-name", "web-errors", "--namespace", "app",
		"--metric-name", "Errors", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "5", "--comparison-operator", "GreaterThanThreshold"); err != nil {
		t.Fatalf("put-metric-alarm: %v\n%s", err, out)
	}
	a := obj(t, list(t, mustRun("cloudwatch", "describe-alarms")["MetricAlarms"])[0])
	if a["AlarmName"] != "web-errors" || a["StateValue"] != "INSUFFICIENT_DATA" {
		t.Fatalf("describe-alarms: %v", a)
	}
	out, err := run("cloudwatch", "delete-alarms", "--alarm-names", "nope")
	if err == nil || !strings.Contains(string(out), "(ResourceNotFound)") {
		t.Fatalf("delete-alarms of a missing alarm: %v\n%s", err, out)
	}
}
