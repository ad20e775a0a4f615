package deploy

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestRunningTasksList covers when a health read lists a service's running tasks again
// (DESIGN.md §7.5): not while the service shows the same newest event and counts, nor for the
// events of a service settling (steady state, deployment completed), but after ECS replaced a
// task, even once the counts are back where they were.
func TestRunningTasksList(t *testing.T) {
	clock := ecslocal.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := ecslocal.New(ecslocal.Options{Clock: clock, StartDelay: 40 * time.Millisecond, StopDelay: 20 * time.Millisecond, TimeScale: 0.01})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	if err := srv.ApplySeed(ecslocal.Seed{
		Clusters:      []string{"prod"},
		LoadBalancers: []ecslocal.SeedLoadBalancer{{Name: "web", TargetGroups: []ecslocal.SeedTargetGroup{{Name: "web"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	tg, _ := srv.TargetGroupArn("web")
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	ctx := context.Background()
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true),
			DockerLabels: map[string]string{"ecslocal.elb-health": "healthy"},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
	}); err != nil {
		t.Fatal(err)
	}
	view := func() types.Service {
		t.Helper()
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describing web: %v", err)
		}
		return out.Services[0]
	}
	// settle lets virtual time pass until web runs 2 tasks, none pending, all healthy and steady.
	settle := func() types.Service {
		t.Helper()
		for range 200 {
			clock.Advance(50 * time.Millisecond)
			if svc := view(); svc.RunningCount == 2 && svc.PendingCount == 0 && len(svc.Deployments) == 1 &&
				aws.ToString(svc.Events[0].Message) == "(service web) has reached a steady state." {
				return svc
			}
		}
		t.Fatal("web did not settle at 2 running tasks within 10 s")
		return types.Service{}
	}
	lists := func() int { return srv.CallCounts()["ecs:ListTasks"] }

	wt := newWaiter(&Engine{ECS: client}, "prod")
	clock.Advance(60 * time.Millisecond) // running, not yet serving: no steady state yet
	first, err := wt.runningTasks(ctx, view())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || lists() != 1 {
		t.Fatalf("first read: %d tasks from %d ListTasks calls, want 2 from 1", len(first), lists())
	}
	steady := settle()
	again, err := wt.runningTasks(ctx, steady)
	if err != nil {
		t.Fatal(err)
	}
	if lists() != 1 || !slices.Equal(again, first) {
		t.Errorf("after only the events of settling: %d ListTasks calls, tasks %v; want the first list reused (%v)", lists(), again, first)
	}

	// ECS retires a task: it starts a replacement, and stops the old one once the new one
	// serves. The counts end where they were; the events do not.
	retired, err := srv.Interrupt("prod", "web", 1, ecslocal.InterruptRetirement)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Millisecond)
	after := settle()
	if after.RunningCount != steady.RunningCount || after.PendingCount != 0 {
		t.Fatalf("after the retirement: %d running, %d pending", after.RunningCount, after.PendingCount)
	}
	now, err := wt.runningTasks(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	if lists() != 2 || slices.Contains(now, retired[0]) || len(now) != 2 {
		t.Errorf("after a task was replaced: %d ListTasks calls, tasks %v; want a second list without the retired %s", lists(), now, retired[0])
	}
}
