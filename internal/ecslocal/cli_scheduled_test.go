package ecslocal_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// epochSeconds is midnight UTC of a date as the AWS CLI prints a timestamp it received (version
// 1 prints the wire's epoch seconds).
func epochSeconds(y int, m time.Month, d int) float64 {
	return float64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix())
}

// TestAWSCLI_scheduledActions creates, lists, fires and deletes Application Auto Scaling
// scheduled actions with
// the AWS CLI (botocore's own serialization of timestamps, ScalableTargetAction and the error
// codes).
func TestAWSCLI_scheduledActions(t *testing.T) {
	// ecslocal's clock is a fake one: the at action fires when the test moves it past its time,
	// however long the CLI takes to start under load.
	clock := ecslocal.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	hs := httptest.NewServer(ecslocal.New(ecslocal.Options{Clock: clock}))
	t.Cleanup(hs.Close)
	run, mustRun := awsCLI(t, hs.URL)
	target := []string{"--service-namespace", "ecs", "--resource-id", "service/prod/web", "--scalable-dimension", "ecs:service:DesiredCount"}
	aas := func(op string, args ...string) []string {
		return append(append([]string{"application-autoscaling", op}, target...), args...)
	}

	mustRun("ecs", "create-cluster", "--cluster-name", "prod")
	mustRun("ecs", "register-task-definition", "--family", "web", "--container-definitions", `[{"name":"c","image":"nginx"}]`)
	mustRun("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:1", "--desired-count", "1")

	// Without a registered target: ObjectNotFoundException.
	out, err := run(aas("put-scheduled-action", "--scheduled-action-name", "nightly", "--schedule", "cron(0 22 * * ? *)",
		"--scalable-target-action", "MinCapacity=1,MaxCapacity=2")...)
	if err == nil || !strings.Contains(string(out), "(ObjectNotFoundException)") {
		t.Fatalf("put-scheduled-action without a target: err %v, output %s", err, out)
	}
	mustRun(aas("register-scalable-target", "--min-capacity", "1", "--max-capacity", "4")...)

	// A bad schedule: ValidationException.
	out, err = run(aas("put-scheduled-action", "--scheduled-action-name", "nightly", "--schedule", "rate(1 minutes)")...)
	if err == nil || !strings.Contains(string(out), "(ValidationException)") {
		t.Fatalf("put-scheduled-action with rate(1 minutes): err %v, output %s", err, out)
	}

	// put-scheduled-action prints nothing on success.
	if out, err := run(aas("put-scheduled-action", "--scheduled-action-name", "nightly", "--schedule", "cron(0 22 * * ? *)",
		"--timezone", "Europe/Paris", "--start-time", "2026-12-01T00:00:00Z", "--end-time", "2027-01-01T00:00:00Z",
		"--scalable-target-action", "MinCapacity=1,MaxCapacity=2")...); err != nil {
		t.Fatalf("put-scheduled-action: %v\n%s", err, out)
	}
	// An at action an hour from ecslocal's now, in UTC.
	at := clock.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05")
	if out, err := run(aas("put-scheduled-action", "--scheduled-action-name", "soon", "--schedule", "at("+at+")",
		"--scalable-target-action", "MinCapacity=3,MaxCapacity=5")...); err != nil {
		t.Fatalf("put-scheduled-action: %v\n%s", err, out)
	}

	acts := list(t, mustRun("application-autoscaling", "describe-scheduled-actions", "--service-namespace", "ecs")["ScheduledActions"])
	if len(acts) != 2 {
		t.Fatalf("describe-scheduled-actions: %v", acts)
	}
	a := obj(t, acts[0])
	sta := obj(t, a["ScalableTargetAction"])
	arn, _ := a["ScheduledActionARN"].(string)
	if a["ScheduledActionName"] != "nightly" || a["Schedule"] != "cron(0 22 * * ? *)" || a["Timezone"] != "Europe/Paris" ||
		a["ResourceId"] != "service/prod/web" || a["ScalableDimension"] != "ecs:service:DesiredCount" || a["ServiceNamespace"] != "ecs" ||
		a["StartTime"] != epochSeconds(2026, 12, 1) || a["EndTime"] != epochSeconds(2027, 1, 1) ||
		sta["MinCapacity"] != float64(1) || sta["MaxCapacity"] != float64(2) || a["CreationTime"] == nil ||
		!strings.HasPrefix(arn, "arn:aws:autoscaling:eu-west-1:000000000000:scheduledAction:") {
		t.Fatalf("scheduled action %v", a)
	}
	named := list(t, mustRun("application-autoscaling", "describe-scheduled-actions", "--service-namespace", "ecs",
		"--scheduled-action-names", "soon")["ScheduledActions"])
	if len(named) != 1 || obj(t, named[0])["Schedule"] != "at("+at+")" {
		t.Fatalf("describe-scheduled-actions --scheduled-action-names soon: %v", named)
	}

	if tg := obj(t, list(t, mustRun("application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs")["ScalableTargets"])[0]); tg["MinCapacity"] != float64(1) {
		t.Fatalf("the at action fired before its time: %v", tg)
	}
	clock.Advance(time.Hour + time.Second)
	if tg := obj(t, list(t, mustRun("application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs")["ScalableTargets"])[0]); tg["MinCapacity"] != float64(3) || tg["MaxCapacity"] != float64(5) {
		t.Fatalf("the at action did not fire at its time: %v", tg)
	}
	svc := obj(t, list(t, mustRun("ecs", "describe-services", "--cluster", "prod", "--services", "web")["services"])[0])
	if svc["desiredCount"] != float64(3) {
		t.Fatalf("desired count after the at action: %v", svc["desiredCount"])
	}

	if out, err := run(aas("delete-scheduled-action", "--scheduled-action-name", "nightly")...); err != nil {
		t.Fatalf("delete-scheduled-action: %v\n%s", err, out)
	}
	if left := list(t, mustRun("application-autoscaling", "describe-scheduled-actions", "--service-namespace", "ecs")["ScheduledActions"]); len(left) != 1 {
		t.Fatalf("after delete-scheduled-action: %v", left)
	}
	out, err = run(aas("delete-scheduled-action", "--scheduled-action-name", "nightly")...)
	if err == nil || !strings.Contains(string(out), "(ObjectNotFoundException)") {
		t.Fatalf("delete-scheduled-action of a deleted action: err %v, output %s", err, out)
	}
}
