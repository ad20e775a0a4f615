package ecslocal_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// spotService creates a Fargate service with a capacity provider strategy, in subnets a and b.
func (e *env) spotService(t *testing.T, name, td string, desired int32, tg *string, strategy ...types.CapacityProviderStrategyItem) {
	t.Helper()
	in := &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(desired),
		CapacityProviderStrategy: strategy,
		NetworkConfiguration:     &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}},
	}
	if tg != nil {
		in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: tg, ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}}
	}
	if _, err := e.ecs.CreateService(opsCtx, in); err != nil {
		t.Fatal(err)
	}
}

func taskByArn(t *testing.T, e *env, arn string) types.Task {
	t.Helper()
	out, err := e.ecs.DescribeTasks(opsCtx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe task %s: %v %+v", arn, err, out)
	}
	return out.Tasks[0]
}

// TestInterrupt_CapacityProviders: tasks are placed on the providers of the strategy by base and
// weight, and DescribeTasks names the provider and the Availability Zone of each.
func TestInterrupt_CapacityProviders(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.spotService(t, "web", td, 5, nil,
		types.CapacityProviderStrategyItem{CapacityProvider: aws.String("FARGATE"), Base: 1, Weight: 1},
		types.CapacityProviderStrategyItem{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 3})
	providers, zones := map[string]int{}, map[string]int{}
	for _, tk := range e.tasks(t, "web", types.DesiredStatusRunning) {
		providers[aws.ToString(tk.CapacityProviderName)]++
		zones[aws.ToString(tk.AvailabilityZone)]++
	}
	if providers["FARGATE"] != 2 || providers["FARGATE_SPOT"] != 3 {
		t.Fatalf("providers %v, want FARGATE 2 (base 1, then 1 of 4 by weight) and FARGATE_SPOT 3", providers)
	}
	if zones["eu-west-1a"] != 3 || zones["eu-west-1b"] != 2 {
		t.Fatalf("zones %v, want the tasks spread over eu-west-1a and eu-west-1b", zones)
	}
}

// TestInterrupt_Spot: a Fargate Spot interruption gives the task the two-minute warning
// (TerminationNotice), deregisters it, and it is STOPPED (SpotInterruption) when it has drained,
// or when the two minutes are over; the scheduler replaces it at once.
func TestInterrupt_Spot(t *testing.T) {
	e := newEnv(t, 0, 10*time.Second)
	e.cluster(t)
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp) // deregistration delay 300 s: longer than the warning
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	spot := types.CapacityProviderStrategyItem{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}
	e.spotService(t, "web", td, 2, aws.String(tg), spot)
	e.spotService(t, "plain", td, 1, nil, spot)
	e.at(40 * time.Second)

	arns, err := e.srv.Interrupt("prod", "web", 1, ecslocal.InterruptSpot)
	if err != nil || len(arns) != 1 {
		t.Fatalf("Interrupt: %v %v", arns, err)
	}
	tk := taskByArn(t, e, arns[0])
	if aws.ToString(tk.LastStatus) != "DEACTIVATING" || aws.ToString(tk.DesiredStatus) != "STOPPED" ||
		tk.StopCode != types.TaskStopCodeTerminationNotice || aws.ToString(tk.StoppedReason) != "Your Spot Task was interrupted." ||
		aws.ToString(tk.CapacityProviderName) != "FARGATE_SPOT" {
		t.Fatalf("during the warning: %s/%s %s %q", aws.ToString(tk.LastStatus), aws.ToString(tk.DesiredStatus), tk.StopCode, aws.ToString(tk.StoppedReason))
	}
	svc := e.describe(t, "web")
	if svc.RunningCount != 2 || !hasEvent(svc, "has started 1 tasks") || !hasEvent(svc, "deregistered 1 targets") || hasEvent(svc, "has stopped") {
		t.Fatalf("service after the interruption: running %d, events %q", svc.RunningCount, messages(svc))
	}
	e.at(159 * time.Second)
	if tk := taskByArn(t, e, arns[0]); aws.ToString(tk.LastStatus) != "DEACTIVATING" {
		t.Fatalf("before the two minutes are over: %s", aws.ToString(tk.LastStatus))
	}
	e.at(160 * time.Second)
	tk = taskByArn(t, e, arns[0])
	if aws.ToString(tk.LastStatus) != "STOPPED" || tk.StopCode != types.TaskStopCodeSpotInterruption || aws.ToString(tk.StoppedReason) != "Your Spot Task was interrupted." ||
		!aws.ToTime(tk.StoppedAt).Equal(t0.Add(160*time.Second)) {
		t.Fatalf("after the warning: %s %s %q at %v", aws.ToString(tk.LastStatus), tk.StopCode, aws.ToString(tk.StoppedReason), tk.StoppedAt)
	}

	// Without a load balancer the task stops after the stop delay.
	arns, err = e.srv.Interrupt("prod", "plain", 1, ecslocal.InterruptSpot)
	if err != nil {
		t.Fatal(err)
	}
	e.at(169 * time.Second)
	if tk := taskByArn(t, e, arns[0]); aws.ToString(tk.LastStatus) != "RUNNING" || tk.StopCode != types.TaskStopCodeTerminationNotice {
		t.Fatalf("plain during the stop delay: %s %s", aws.ToString(tk.LastStatus), tk.StopCode)
	}
	e.at(170 * time.Second)
	if tk := taskByArn(t, e, arns[0]); aws.ToString(tk.LastStatus) != "STOPPED" || tk.StopCode != types.TaskStopCodeSpotInterruption {
		t.Fatalf("plain after the stop delay: %s %s", aws.ToString(tk.LastStatus), tk.StopCode)
	}
	if s := e.describe(t, "plain"); s.RunningCount != 1 || len(s.Deployments) != 1 || s.Deployments[0].FailedTasks != 0 {
		t.Fatalf("plain: running %d deployments %d", s.RunningCount, len(s.Deployments))
	}

	for _, c := range []struct {
		service string
		count   int
		kind    string
		want    string
	}{
		{"web", 3, ecslocal.InterruptSpot, "has 2 RUNNING tasks on capacity provider FARGATE_SPOT, not 3"},
		{"web", 0, ecslocal.InterruptSpot, "count must be at least 1"},
		{"web", 1, "meteor", "kind"},
		{"nope", 1, ecslocal.InterruptSpot, "no ACTIVE service"},
	} {
		if _, err := e.srv.Interrupt("prod", c.service, c.count, c.kind); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Interrupt(%s, %d, %s) = %v, want %q", c.service, c.count, c.kind, err, c.want)
		}
	}
	// A task on FARGATE is not a Spot task.
	e.fargateService(t, "ondemand", td, 1, nil, nil)
	if _, err := e.srv.Interrupt("prod", "ondemand", 1, ecslocal.InterruptSpot); err == nil {
		t.Fatal("a spot interruption of a FARGATE service")
	}
}

// TestInterrupt_Retirement: a retired Fargate task is replaced first, then stopped with the
// maintenance reason once its replacement is healthy; it is no failed task.
func TestInterrupt_Retirement(t *testing.T) {
	e := newEnv(t, 5*time.Second, 0)
	e.cluster(t)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web", td, 2, nil, nil)
	e.at(10 * time.Second)
	arns, err := e.srv.Interrupt("prod", "web", 1, ecslocal.InterruptRetirement)
	if err != nil {
		t.Fatal(err)
	}
	svc := e.describe(t, "web")
	if tk := taskByArn(t, e, arns[0]); aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.DesiredStatus) != "RUNNING" ||
		svc.RunningCount != 2 || svc.PendingCount != 1 || !hasEvent(svc, "has started 1 tasks") || hasEvent(svc, "unhealthy") {
		t.Fatalf("after the retirement notice: task %s, service running %d pending %d, events %q", aws.ToString(tk.LastStatus), svc.RunningCount, svc.PendingCount, messages(svc))
	}
	e.at(15 * time.Second)
	tk := taskByArn(t, e, arns[0])
	if aws.ToString(tk.LastStatus) != "STOPPED" || tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated ||
		aws.ToString(tk.StoppedReason) != "ECS is performing maintenance on the underlying infrastructure hosting the task" {
		t.Fatalf("retired task: %s %s %q", aws.ToString(tk.LastStatus), tk.StopCode, aws.ToString(tk.StoppedReason))
	}
	svc = e.describe(t, "web")
	if svc.RunningCount != 2 || svc.Deployments[0].FailedTasks != 0 || !hasEvent(svc, "has stopped 1 running tasks: (task ") ||
		messages(svc)[0] != "(service web) has reached a steady state." {
		t.Fatalf("after the retirement: running %d failed %d events %q", svc.RunningCount, svc.Deployments[0].FailedTasks, messages(svc))
	}

	// With maximumPercent 100 there is no room: the task is stopped first.
	e.opsUpdate(t, ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"),
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(50)}})
	arns, err = e.srv.Interrupt("prod", "web", 1, ecslocal.InterruptRetirement)
	if err != nil {
		t.Fatal(err)
	}
	if tk := taskByArn(t, e, arns[0]); aws.ToString(tk.LastStatus) != "STOPPED" {
		t.Fatalf("retired task with maximumPercent 100: %s", aws.ToString(tk.LastStatus))
	}
	if svc := e.describe(t, "web"); svc.RunningCount != 1 || svc.PendingCount != 1 {
		t.Fatalf("with maximumPercent 100: running %d pending %d", svc.RunningCount, svc.PendingCount)
	}

	// Retirement is Fargate's.
	e.registerWeb(t, "healthy")
	e.createService(t, "ec2", "web:2", 1)
	if _, err := e.srv.Interrupt("prod", "ec2", 1, ecslocal.InterruptRetirement); err == nil || !strings.Contains(err.Error(), "Fargate") {
		t.Fatalf("retirement of an EC2 service: %v", err)
	}
}

// TestRebalance: Availability Zone rebalancing starts tasks in the zone with the fewest, stops
// tasks in the zone with the most once the new ones run, with ECS's events.
func TestRebalance(t *testing.T) {
	e := newEnv(t, 5*time.Second, 0)
	e.cluster(t)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	created := e.fargateService(t, "web", td, 2, nil, nil)
	if created.AvailabilityZoneRebalancing != types.AvailabilityZoneRebalancingEnabled {
		t.Fatalf("CreateService without availabilityZoneRebalancing: %q, want ENABLED", created.AvailabilityZoneRebalancing)
	}
	if _, err := e.srv.Rebalance("prod", "web", 1); err == nil || !strings.Contains(err.Error(), "steady state") {
		t.Fatalf("rebalancing before the steady state: %v", err)
	}
	e.at(10 * time.Second)
	zones := func() map[string]int {
		out := map[string]int{}
		for _, tk := range e.tasks(t, "web", types.DesiredStatusRunning) {
			if aws.ToString(tk.LastStatus) == "RUNNING" {
				out[aws.ToString(tk.AvailabilityZone)]++
			}
		}
		return out
	}
	if z := zones(); z["eu-west-1a"] != 1 || z["eu-west-1b"] != 1 {
		t.Fatalf("zones %v", z)
	}

	// A balanced service: ecslocal moves a task as asked, without claiming an imbalance.
	r, err := e.srv.Rebalance("prod", "web", 1)
	if err != nil || len(r.Started) != 1 || len(r.Stopping) != 1 {
		t.Fatalf("Rebalance: %+v %v", r, err)
	}
	if z := zones(); z["eu-west-1a"] != 1 || z["eu-west-1b"] != 1 {
		t.Fatalf("zones while the new task is pending %v", z)
	}
	svc := e.describe(t, "web")
	startedID := r.Started[0][strings.LastIndex(r.Started[0], "/")+1:]
	stoppedID := r.Stopping[0][strings.LastIndex(r.Stopping[0], "/")+1:]
	if got := messages(svc)[0]; got != "(service web) has started 1 tasks in eu-west-1b to AZ Rebalance: (task "+startedID+")." || hasEvent(svc, "AZ balanced") {
		t.Fatalf("events %q", messages(svc))
	}
	e.at(15 * time.Second)
	if z := zones(); z["eu-west-1a"] != 0 || z["eu-west-1b"] != 2 {
		t.Fatalf("zones after the move %v", z)
	}
	svc = e.describe(t, "web")
	if !slices.Contains(messages(svc), "(service web) has stopped 1 running tasks in eu-west-1a due to AZ rebalancing: (task "+stoppedID+").") ||
		hasEvent(svc, "AZ balanced") || svc.RunningCount != 2 || len(svc.Deployments) != 1 || messages(svc)[0] != "(service web) has reached a steady state." {
		t.Fatalf("after the stop: running %d events %q", svc.RunningCount, messages(svc))
	}
	if tk := taskByArn(t, e, r.Stopping[0]); aws.ToString(tk.LastStatus) != "STOPPED" || tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated {
		t.Fatalf("stopped task %s %s", aws.ToString(tk.LastStatus), tk.StopCode)
	}

	// Now unbalanced (0 and 2): a rebalance says so, and that it is balanced once done, through
	// the control API.
	var got ecslocal.Rebalancing
	ctlOK(t, e, http.MethodPost, "rebalance", `{"cluster":"prod","service":"web","count":1}`, &got)
	if len(got.Started) != 1 || len(got.Stopping) != 1 {
		t.Fatalf("POST rebalance: %+v", got)
	}
	e.at(20 * time.Second)
	svc = e.describe(t, "web")
	want := []string{
		"(service web) has reached a steady state.",
		"(service web) is AZ balanced with 1 tasks in eu-west-1a, 1 tasks in eu-west-1b.",
		"(service web) has stopped 1 running tasks in eu-west-1b due to AZ rebalancing: (task " + got.Stopping[0][strings.LastIndex(got.Stopping[0], "/")+1:] + ").",
	}
	if m := messages(svc); !slices.Equal(m[:3], want) ||
		!slices.Contains(m, "(service web) is not AZ balanced with 2 tasks in eu-west-1b, 0 tasks in eu-west-1a. AZ Rebalancing in progress.") {
		t.Fatalf("events %q", m)
	}

	// Errors: a DISABLED service, one zone, no room under maximumPercent, bad input.
	off := e.fargateService(t, "off", td, 2, nil, nil)
	_ = off
	e.opsUpdate(t, ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("off"), AvailabilityZoneRebalancing: types.AvailabilityZoneRebalancingDisabled})
	if s := e.describe(t, "off"); s.AvailabilityZoneRebalancing != types.AvailabilityZoneRebalancingDisabled || len(s.Deployments) != 1 {
		t.Fatalf("UpdateService availabilityZoneRebalancing: %q, %d deployments", s.AvailabilityZoneRebalancing, len(s.Deployments))
	}
	e.opsUpdate(t, ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("off"), DesiredCount: aws.Int32(2)})
	if s := e.describe(t, "off"); s.AvailabilityZoneRebalancing != types.AvailabilityZoneRebalancingDisabled {
		t.Fatalf("an update without availabilityZoneRebalancing changed it to %q", s.AvailabilityZoneRebalancing)
	}
	e.at(30 * time.Second)
	status, _, body := ctlDo(t, e, http.MethodPost, "rebalance", `{"cluster":"prod","service":"off","count":1}`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "DISABLED") {
		t.Fatalf("rebalancing a DISABLED service: %d %s", status, body)
	}
	if _, err := e.srv.Rebalance("prod", "web", 3); err == nil || !strings.Contains(err.Error(), "maximumPercent") {
		t.Fatalf("rebalancing beyond maximumPercent: %v", err)
	}
	in := &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("single"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1),
		LaunchType: types.LaunchTypeFargate, AvailabilityZoneRebalancing: types.AvailabilityZoneRebalancingEnabled,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
	}
	if _, err := e.ecs.CreateService(opsCtx, in); err != nil {
		t.Fatal(err)
	}
	e.at(40 * time.Second)
	if _, err := e.srv.Rebalance("prod", "single", 1); err == nil || !strings.Contains(err.Error(), "one Availability Zone") {
		t.Fatalf("rebalancing a one-zone service: %v", err)
	}
	in.ServiceName, in.AvailabilityZoneRebalancing = aws.String("bad"), "SOMETIMES"
	_, err = e.ecs.CreateService(opsCtx, in)
	opsIs[*types.InvalidParameterException](t, err, "")
}

// TestInterrupt_ControlAPI drives POST /_ecslocal/interrupt.
func TestInterrupt_ControlAPI(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web", td, 2, nil, nil)
	var got struct {
		Tasks []string `json:"tasks"`
	}
	ctlOK(t, e, http.MethodPost, "interrupt", `{"cluster":"prod","service":"web","count":2,"kind":"retirement"}`, &got)
	if len(got.Tasks) != 2 {
		t.Fatalf("POST interrupt: %+v", got)
	}
	for _, arn := range got.Tasks {
		if tk := taskByArn(t, e, arn); aws.ToString(tk.LastStatus) != "STOPPED" {
			t.Fatalf("retired task %s", aws.ToString(tk.LastStatus))
		}
	}
	if s := e.describe(t, "web"); s.RunningCount != 2 {
		t.Fatalf("running %d", s.RunningCount)
	}
	status, _, body := ctlDo(t, e, http.MethodPost, "interrupt", `{"cluster":"prod","service":"web","count":1,"kind":"spot"}`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "FARGATE_SPOT") {
		t.Fatalf("spot interruption of a FARGATE service: %d %s", status, body)
	}
}
