package ecslocal_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func messages(svc types.Service) []string {
	out := make([]string, 0, len(svc.Events))
	for _, e := range svc.Events {
		out = append(out, *e.Message)
	}
	return out
}

func stoppedTasks(t *testing.T, e *env, service string) []types.Task {
	t.Helper()
	ctx := context.Background()
	list, err := e.ecs.ListTasks(ctx, &ecs.ListTasksInput{
		Cluster: aws.String("prod"), ServiceName: aws.String(service), DesiredStatus: types.DesiredStatusStopped,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.TaskArns) == 0 {
		return nil
	}
	out, err := e.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: list.TaskArns})
	if err != nil {
		t.Fatal(err)
	}
	return out.Tasks
}

func wantCounts(t *testing.T, svc types.Service, desired, running, pending int32) {
	t.Helper()
	if svc.DesiredCount != desired || svc.RunningCount != running || svc.PendingCount != pending {
		t.Fatalf("%s: desired/running/pending = %d/%d/%d, want %d/%d/%d", *svc.ServiceName,
			svc.DesiredCount, svc.RunningCount, svc.PendingCount, desired, running, pending)
	}
}

func TestScheduler_scalesZeroToFourToOne(t *testing.T) {
	e := newEnv(t, 2*time.Second, 500*time.Millisecond)
	e.seed(t)
	ctx := context.Background()
	e.createService(t, "web__2", "web:1", 0)
	wantCounts(t, e.describe(t, "web__2"), 0, 0, 0)

	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("web__2"), DesiredCount: aws.Int32(4),
	}); err != nil {
		t.Fatal(err)
	}
	svc := e.describe(t, "web__2")
	wantCounts(t, svc, 4, 0, 4)
	started := regexp.MustCompile(`^\(service web__2\) has started 4 tasks: (\(task [0-9a-f]{32}\) ){3}\(task [0-9a-f]{32}\)\.$`)
	if !started.MatchString(messages(svc)[0]) {
		t.Fatalf("newest event = %q, want ECS's 'has started 4 tasks' wording", messages(svc)[0])
	}
	// A desired-count change alone starts no new deployment, so the deployment created at 0
	// (and complete at once) stays COMPLETED, as on ECS.
	if len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("deployments after scaling up: %+v", svc.Deployments)
	}

	e.clock.Advance(1999 * time.Millisecond)
	wantCounts(t, e.describe(t, "web__2"), 4, 0, 4)
	e.clock.Advance(time.Millisecond)
	svc = e.describe(t, "web__2")
	wantCounts(t, svc, 4, 4, 0)
	if got := messages(svc)[0]; got != "(service web__2) has reached a steady state." {
		t.Fatalf("newest event = %q, want the steady-state event", got)
	}

	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("web__2"), DesiredCount: aws.Int32(1),
	}); err != nil {
		t.Fatal(err)
	}
	svc = e.describe(t, "web__2")
	// Stopping tasks still run until the stop delay has passed.
	wantCounts(t, svc, 1, 4, 0)
	if !strings.HasPrefix(messages(svc)[0], "(service web__2) has stopped 3 running tasks: (task ") {
		t.Fatalf("newest event = %q", messages(svc)[0])
	}
	e.clock.Advance(500 * time.Millisecond)
	svc = e.describe(t, "web__2")
	wantCounts(t, svc, 1, 1, 0)
	stopped := stoppedTasks(t, e, "web__2")
	if len(stopped) != 3 {
		t.Fatalf("%d stopped tasks, want 3", len(stopped))
	}
	for _, tk := range stopped {
		if *tk.LastStatus != "STOPPED" || tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated ||
			*tk.StoppedReason != "Scaling activity initiated by ("+"deployment "+*svc.Deployments[0].Id+")" {
			t.Fatalf("stopped task: status %s code %s reason %q", *tk.LastStatus, tk.StopCode, *tk.StoppedReason)
		}
	}

	// The timeline holds each change at the instant it happened.
	var got []string
	for _, te := range e.srv.Timeline() {
		if te.Service == "web__2" {
			got = append(got, fmt.Sprintf("%s %d/%d/%d", te.Time.Format("05.000"), te.Desired, te.Running, te.Pending))
		}
	}
	// Each task transition is recorded at its own instant, so tasks due at the same time give
	// one entry each.
	want := []string{
		"00.000 0/0/0", "00.000 4/0/4",
		"02.000 4/1/3", "02.000 4/2/2", "02.000 4/3/1", "02.000 4/4/0",
		"02.000 1/4/0", "02.500 1/3/0", "02.500 1/2/0", "02.500 1/1/0",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("timeline = %v, want %v", got, want)
	}
}

func TestScheduler_crashOnStartCountsFailedTasks(t *testing.T) {
	e := newEnv(t, time.Second, 100*time.Millisecond)
	e.seed(t)
	e.createService(t, "web__3", "web:2", 2)

	e.clock.Advance(time.Second)
	svc := e.describe(t, "web__3")
	// The two crashed tasks are replaced at once, and the replacements are pending.
	wantCounts(t, svc, 2, 0, 2)
	if got := svc.Deployments[0].FailedTasks; got != 2 {
		t.Fatalf("failedTasks after one round = %d, want 2", got)
	}
	e.clock.Advance(time.Second)
	if got := e.describe(t, "web__3").Deployments[0].FailedTasks; got != 4 {
		t.Fatalf("failedTasks after two rounds = %d, want 4", got)
	}
	stopped := stoppedTasks(t, e, "web__3")
	if len(stopped) != 4 {
		t.Fatalf("%d stopped tasks, want 4", len(stopped))
	}
	for _, tk := range stopped {
		if *tk.StoppedReason != "Essential container in task exited" || tk.StopCode != types.TaskStopCodeEssentialContainerExited {
			t.Fatalf("stopped reason %q code %s", *tk.StoppedReason, tk.StopCode)
		}
		if tk.StartedAt != nil {
			t.Fatalf("a crash-on-start task has startedAt %v", tk.StartedAt)
		}
		if c := tk.Containers[0]; c.ExitCode == nil || *c.ExitCode != 1 {
			t.Fatalf("container exit code %v, want 1", c.ExitCode)
		}
	}

	// After ten failures in a row ECS reports that it cannot start tasks and backs off.
	e.clock.Advance(3 * time.Second)
	svc = e.describe(t, "web__3")
	found := false
	for _, m := range messages(svc) {
		if m == "(service web__3) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide." {
			found = true
		}
	}
	if !found {
		t.Fatalf("no 'unable to consistently start tasks' event in %q", messages(svc))
	}
	if svc.RunningCount != 0 {
		t.Fatalf("a crash-on-start service has %d running tasks", svc.RunningCount)
	}
}

func TestScheduler_crashAfterStopsRunningTasks(t *testing.T) {
	e := newEnv(t, time.Second, 100*time.Millisecond)
	e.seed(t)
	svc := *e.createService(t, "web__4", "web:3", 2) // crash-after=5s
	if svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("rollout state before the tasks run = %s", svc.Deployments[0].RolloutState)
	}
	e.clock.Advance(time.Second)
	svc = e.describe(t, "web__4")
	wantCounts(t, svc, 2, 2, 0)
	if svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("rollout state at steady state = %s", svc.Deployments[0].RolloutState)
	}
	e.clock.Advance(5 * time.Second)
	svc = e.describe(t, "web__4")
	// Both crashed and were replaced; the replacements are pending.
	wantCounts(t, svc, 2, 0, 2)
	// As on ECS, failedTasks stops counting once the deployment had a running task.
	if got := svc.Deployments[0].FailedTasks; got != 0 {
		t.Fatalf("failedTasks = %d, want 0 after the deployment ran tasks", got)
	}
	stopped := stoppedTasks(t, e, "web__4")
	if len(stopped) != 2 || *stopped[0].StoppedReason != "Essential container in task exited" || stopped[0].StartedAt == nil {
		t.Fatalf("stopped tasks: %+v", stopped)
	}
}

func TestScheduler_slowStartDelaysRunning(t *testing.T) {
	e := newEnv(t, time.Second, 0)
	e.seed(t)
	e.registerWeb(t, "slow-start=10s") // web:4
	e.createService(t, "web__5", "web:4", 1)
	e.clock.Advance(10 * time.Second)
	wantCounts(t, e.describe(t, "web__5"), 1, 0, 1)
	e.clock.Advance(time.Second)
	wantCounts(t, e.describe(t, "web__5"), 1, 1, 0)
}

func TestScheduler_newTaskDefinitionReplacesTasksWithoutDip(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.seed(t)
	e.createService(t, "api", "web:1", 3)
	e.clock.Advance(time.Second)
	e.registerWeb(t, "healthy") // web:4
	if _, err := e.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{
		Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String("web:4"),
	}); err != nil {
		t.Fatal(err)
	}
	svc := e.describe(t, "api")
	if len(svc.Deployments) != 2 || *svc.Deployments[0].Status != "PRIMARY" || *svc.Deployments[1].Status != "ACTIVE" {
		t.Fatalf("deployments after a task definition change: %+v", svc.Deployments)
	}
	e.clock.Advance(3 * time.Second)
	svc = e.describe(t, "api")
	wantCounts(t, svc, 3, 3, 0)
	if len(svc.Deployments) != 1 || !strings.HasSuffix(*svc.Deployments[0].TaskDefinition, "web:4") {
		t.Fatalf("deployments after the rollout: %+v", svc.Deployments)
	}
	for _, te := range e.srv.Timeline() {
		if te.Service == "api" && te.Time.After(time.Date(2026, 11, 26, 12, 0, 1, 0, time.UTC)) && te.Running < 3 {
			t.Fatalf("running dipped to %d at %s during the replacement", te.Running, te.Time)
		}
	}
}
