package ecslocal_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// tdSpec is a task definition of family "web" with one container "web" mapping port 80.
type tdSpec struct {
	mode     types.NetworkMode
	hostPort *int32
	labels   map[string]string
	health   *types.HealthCheck
}

func (e *env) registerTD(t *testing.T, s tdSpec) string {
	t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: s.mode,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true), DockerLabels: s.labels,
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: s.hostPort}}, HealthCheck: s.health,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func (e *env) cluster(t *testing.T) {
	t.Helper()
	if _, err := e.ecs.CreateCluster(context.Background(), &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
}

// fargateService creates a Fargate service behind target group tg (nil: no load balancer).
func (e *env) fargateService(t *testing.T, name, td string, desired int32, tg *string, grace *int32) *types.Service {
	t.Helper()
	in := &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(desired),
		LaunchType: types.LaunchTypeFargate, HealthCheckGracePeriodSeconds: grace,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}},
	}
	if tg != nil {
		in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: tg, ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}}
	}
	out, err := e.ecs.CreateService(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Service
}

func (e *env) tasks(t *testing.T, service string, status types.DesiredStatus) []types.Task {
	t.Helper()
	ctx := context.Background()
	list, err := e.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String(service), DesiredStatus: status})
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

func (e *env) targetHealth(t *testing.T, tg string) []elbtypes.TargetHealthDescription {
	t.Helper()
	out, err := e.elb.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatal(err)
	}
	return out.TargetHealthDescriptions
}

func states(hs []elbtypes.TargetHealthDescription) string {
	var out []string
	for _, h := range hs {
		s := string(h.TargetHealth.State)
		if h.TargetHealth.Reason != "" {
			s += "/" + string(h.TargetHealth.Reason)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func eniIP(t *testing.T, tk types.Task) string {
	t.Helper()
	for _, a := range tk.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		for _, d := range a.Details {
			if aws.ToString(d.Name) == "privateIPv4Address" {
				return aws.ToString(d.Value)
			}
		}
	}
	t.Fatalf("task %s has no ENI address: %+v", aws.ToString(tk.TaskArn), tk.Attachments)
	return ""
}

func hasEvent(svc types.Service, substr string) bool {
	return slices.ContainsFunc(messages(svc), func(m string) bool { return strings.Contains(m, substr) })
}

// TestLB_AwsvpcTasksRegisterAndDrain follows a Fargate service behind an ip target group: tasks
// register at their ENI address when RUNNING, are initial until their first passed check, one
// interval later, and on scale-in are DEACTIVATING (not counted in runningCount) while their
// targets drain for the deregistration delay, then STOPPING for the stop delay.
func TestLB_AwsvpcTasksRegisterAndDrain(t *testing.T) {
	e := newEnv(t, 10*time.Second, 5*time.Second)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "healthy"}})
	svc := e.fargateService(t, "web", td, 2, aws.String(tg), nil)
	if len(svc.LoadBalancers) != 1 || aws.ToString(svc.LoadBalancers[0].TargetGroupArn) != tg {
		t.Fatalf("service load balancers %+v", svc.LoadBalancers)
	}
	if hs := e.targetHealth(t, tg); len(hs) != 0 {
		t.Fatalf("targets before the tasks run: %+v", hs)
	}

	e.clock.Advance(10 * time.Second)
	tasks := e.tasks(t, "web", types.DesiredStatusRunning)
	if len(tasks) != 2 {
		t.Fatalf("%d tasks", len(tasks))
	}
	ips := map[string]bool{}
	for _, tk := range tasks {
		ip := eniIP(t, tk)
		ips[ip] = true
		c := tk.Containers[0]
		if aws.ToString(tk.LastStatus) != "RUNNING" || tk.ContainerInstanceArn != nil || len(c.NetworkInterfaces) != 1 ||
			aws.ToString(c.NetworkInterfaces[0].PrivateIpv4Address) != ip || tk.HealthStatus != types.HealthStatusUnknown {
			t.Fatalf("task %+v", tk)
		}
	}
	hs := e.targetHealth(t, tg)
	if states(hs) != "initial/Elb.RegistrationInProgress initial/Elb.RegistrationInProgress" {
		t.Fatalf("new targets: %s", states(hs))
	}
	for _, h := range hs {
		if !ips[aws.ToString(h.Target.Id)] || aws.ToInt32(h.Target.Port) != 80 {
			t.Fatalf("target %+v is not a task's ENI address and container port (%v)", h.Target, ips)
		}
	}
	got := e.describe(t, "web")
	if !hasEvent(got, "(service web) registered 1 targets in (target-group "+tg+")") || hasEvent(got, "steady state") ||
		got.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("RUNNING but not healthy yet: events %q, rollout %s", messages(got), got.Deployments[0].RolloutState)
	}

	// One health check interval later: healthy, and the deployment completes.
	e.clock.Advance(30*time.Second - time.Millisecond)
	if s := states(e.targetHealth(t, tg)); s != "initial/Elb.RegistrationInProgress initial/Elb.RegistrationInProgress" {
		t.Fatalf("just before the first check: %s", s)
	}
	e.clock.Advance(time.Millisecond)
	if s := states(e.targetHealth(t, tg)); s != "healthy healthy" {
		t.Fatalf("after the first check: %s", s)
	}
	got = e.describe(t, "web")
	if !hasEvent(got, "has reached a steady state") || got.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
		t.Fatalf("healthy: events %q", messages(got))
	}
	st := e.status(t, "web")
	if len(st.TargetGroups) != 1 || st.TargetGroups[0].Healthy != 2 || st.TargetGroups[0].TargetGroupArn != tg {
		t.Fatalf("status %+v", st.TargetGroups)
	}

	// Scale in: the stopped task deactivates while its target drains.
	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	got = e.describe(t, "web")
	wantCounts(t, got, 1, 1, 0)
	stopping := e.tasks(t, "web", types.DesiredStatusStopped)
	if len(stopping) != 1 || aws.ToString(stopping[0].LastStatus) != "DEACTIVATING" || aws.ToString(stopping[0].Containers[0].LastStatus) != "RUNNING" {
		t.Fatalf("stopping task %+v", stopping)
	}
	// The service is steady again while the target still drains, as AWS reports it.
	ev := messages(got)
	want := []string{
		"(service web) has reached a steady state.",
		fmt.Sprintf("(service web, taskSet %s) has begun draining connections on 1 tasks.", aws.ToString(got.Deployments[0].Id)),
		"(service web) deregistered 1 targets in (target-group " + tg + ")",
		"(service web) has stopped 1 running tasks: (task ",
	}
	for i, w := range want {
		if !strings.HasPrefix(ev[i], w) {
			t.Fatalf("event %d = %q, want %q (events %q)", i, ev[i], w, ev)
		}
	}
	if s := states(e.targetHealth(t, tg)); s != "draining/Target.DeregistrationInProgress healthy" {
		t.Fatalf("targets while draining: %s", s)
	}
	e.clock.Advance(300*time.Second - time.Millisecond)
	if tk := e.tasks(t, "web", types.DesiredStatusStopped); aws.ToString(tk[0].LastStatus) != "DEACTIVATING" {
		t.Fatalf("before the deregistration delay: %s", aws.ToString(tk[0].LastStatus))
	}
	e.clock.Advance(time.Millisecond)
	if tk := e.tasks(t, "web", types.DesiredStatusStopped); aws.ToString(tk[0].LastStatus) != "STOPPING" {
		t.Fatalf("after the deregistration delay: %s", aws.ToString(tk[0].LastStatus))
	}
	if s := states(e.targetHealth(t, tg)); s != "healthy" {
		t.Fatalf("targets after the deregistration delay: %s", s)
	}
	e.clock.Advance(5 * time.Second)
	tk := e.tasks(t, "web", types.DesiredStatusStopped)[0]
	if aws.ToString(tk.LastStatus) != "STOPPED" || aws.ToString(tk.Attachments[0].Status) != "DELETED" ||
		tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated || !strings.HasPrefix(aws.ToString(tk.StoppedReason), "Scaling activity initiated by") {
		t.Fatalf("stopped task %+v", tk)
	}

	// The timeline records the healthy targets at each change.
	var series []string
	for _, te := range e.srv.Timeline() {
		series = append(series, fmt.Sprintf("%s r%d h%d", te.Time.Sub(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)), te.Running, te.HealthyTargets[tg]))
	}
	wantSeries := []string{"0s r0 h0", "10s r1 h0", "10s r2 h0", "40s r2 h2", "40s r1 h1"}
	if !slices.Equal(series, wantSeries) {
		t.Fatalf("timeline %q, want %q", series, wantSeries)
	}
}

func (e *env) status(t *testing.T, name string) ecslocal.ServiceStatus {
	t.Helper()
	for _, s := range e.srv.Status().Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s in the status", name)
	return ecslocal.ServiceStatus{}
}

// TestLB_CreateServiceChecksLoadBalancers covers ECS's checks of a service's load balancers.
func TestLB_CreateServiceChecksLoadBalancers(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.cluster(t)
	ctx := context.Background()
	_, ipTG, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	lonely := e.targetGroup(t, "lonely", elbtypes.TargetTypeEnumIp)
	awsvpc := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	bridge := e.registerTD(t, tdSpec{mode: types.NetworkModeBridge})
	create := func(td string, launch types.LaunchType, lb types.LoadBalancer) error {
		_, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1),
			LaunchType: launch, LoadBalancers: []types.LoadBalancer{lb},
		})
		return err
	}
	lb := func(tg, container string, port int32) types.LoadBalancer {
		return types.LoadBalancer{TargetGroupArn: aws.String(tg), ContainerName: aws.String(container), ContainerPort: aws.Int32(port)}
	}
	cases := []struct {
		name string
		err  error
		msg  string
	}{
		{"a target group no listener forwards to", create(awsvpc, types.LaunchTypeFargate, lb(lonely, "web", 80)),
			"The target group with targetGroupArn " + lonely + " does not have an associated load balancer."},
		{"a target group that does not exist", create(awsvpc, types.LaunchTypeFargate, lb(ipTG+"0", "web", 80)),
			"Unable to assume role and validate the specified targetGroupArn."},
		{"an ip target group for bridge tasks", create(bridge, types.LaunchTypeEc2, lb(ipTG, "web", 80)),
			"The provided target group " + ipTG + " has target type ip, which is incompatible with the bridge network mode specified in the task definition."},
		{"a container that does not exist", create(awsvpc, types.LaunchTypeFargate, lb(ipTG, "api", 80)),
			"The container api does not exist in the task definition."},
		{"a port the container does not map", create(awsvpc, types.LaunchTypeFargate, lb(ipTG, "web", 8080)),
			"The container web did not have a container port 8080 defined."},
		{"a Classic Load Balancer", create(awsvpc, types.LaunchTypeFargate, types.LoadBalancer{LoadBalancerName: aws.String("classic"), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}),
			"The load balancer classic does not exist."},
	}
	for _, c := range cases {
		var ipe *types.InvalidParameterException
		if !errorsAs(c.err, &ipe) || !strings.Contains(aws.ToString(ipe.Message), c.msg) {
			t.Errorf("%s: got %v, want InvalidParameterException %q", c.name, c.err, c.msg)
		}
	}
	instTG := e.targetGroup(t, "inst", elbtypes.TargetTypeEnumInstance)
	lbs, err := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(instTG)}}}); err != nil {
		t.Fatal(err)
	}
	err = create(awsvpc, types.LaunchTypeFargate, lb(instTG, "web", 80))
	var ipe *types.InvalidParameterException
	if !errorsAs(err, &ipe) || aws.ToString(ipe.Message) != "The provided target group "+instTG+" has target type instance, which is incompatible with the awsvpc network mode specified in the task definition." {
		t.Fatalf("instance target group for awsvpc tasks: %v", err)
	}
	// Nothing was created, and a valid configuration works.
	if err := create(awsvpc, types.LaunchTypeFargate, lb(ipTG, "web", 80)); err != nil {
		t.Fatal(err)
	}
	// UpdateService checks a new task definition against the load balancers.
	other, err := e.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"), NetworkMode: types.NetworkModeAwsvpc,
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: other.TaskDefinition.TaskDefinitionArn})
	if !errorsAs(err, &ipe) || aws.ToString(ipe.Message) != "The container web did not have a container port 80 defined." {
		t.Fatalf("update to a task definition without the port: %v", err)
	}
}

// TestLB_BridgeTasksAreInstanceTargets: an EC2 task in bridge mode runs on a container instance,
// gets an ephemeral host port for a mapping without one, and registers as that EC2 instance and
// host port; in host mode the host port is the container port, so two tasks need two instances.
func TestLB_BridgeTasksAreInstanceTargets(t *testing.T) {
	e := newEnv(t, time.Second, time.Second)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumInstance)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeBridge, hostPort: aws.Int32(0)})
	if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	tasks := e.tasks(t, "web", types.DesiredStatusRunning)
	ports := map[int32]bool{}
	ci := aws.ToString(tasks[0].ContainerInstanceArn)
	for _, tk := range tasks {
		b := tk.Containers[0].NetworkBindings
		if aws.ToString(tk.ContainerInstanceArn) != ci || len(b) != 1 || aws.ToInt32(b[0].ContainerPort) != 80 || len(tk.Attachments) != 0 {
			t.Fatalf("task %+v", tk)
		}
		ports[aws.ToInt32(b[0].HostPort)] = true
	}
	if !ports[32768] || !ports[32769] {
		t.Fatalf("host ports %v, want 32768 and 32769", ports)
	}
	ci2, err := e.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("prod"), ContainerInstances: []string{ci, "nope"}})
	if err != nil || len(ci2.ContainerInstances) != 1 || len(ci2.Failures) != 1 || ci2.ContainerInstances[0].RunningTasksCount != 2 {
		t.Fatalf("container instances %+v %v", ci2, err)
	}
	ec2 := aws.ToString(ci2.ContainerInstances[0].Ec2InstanceId)
	for _, h := range e.targetHealth(t, tg) {
		if aws.ToString(h.Target.Id) != ec2 || !ports[aws.ToInt32(h.Target.Port)] {
			t.Fatalf("target %+v, want instance %s at a task's host port", h.Target, ec2)
		}
	}
	list, err := e.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("prod")})
	if err != nil || len(list.ContainerInstanceArns) != 1 {
		t.Fatalf("list container instances %v %v", list, err)
	}
	// RegisterTargets accepts the cluster's instances and refuses others.
	if _, err := e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String(ec2), Port: aws.Int32(9000)}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
	wantELBError(t, err, "InvalidTarget", "The following targets are not in a running state and cannot be registered: 'i-0123456789abcdef0'")

	// Host mode: the host port is the container port.
	host := e.registerTD(t, tdSpec{mode: types.NetworkModeHost})
	if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("host"), TaskDefinition: aws.String(host), DesiredCount: aws.Int32(2),
	}); err != nil {
		t.Fatal(err)
	}
	instances := map[string]bool{}
	for _, tk := range e.tasks(t, "host", types.DesiredStatusRunning) {
		instances[aws.ToString(tk.ContainerInstanceArn)] = true
		if b := tk.Containers[0].NetworkBindings; len(b) != 0 {
			t.Fatalf("a PENDING task has network bindings: %+v", b)
		}
	}
	e.clock.Advance(time.Second)
	for _, tk := range e.tasks(t, "host", types.DesiredStatusRunning) {
		if b := tk.Containers[0].NetworkBindings; len(b) != 1 || aws.ToInt32(b[0].HostPort) != 80 {
			t.Fatalf("host mode bindings %+v", b)
		}
	}
	if len(instances) != 2 {
		t.Fatalf("host mode tasks on instances %v, want two", instances)
	}
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// at advances the clock to t0+d.
func (e *env) at(d time.Duration) {
	if now := e.clock.Now(); t0.Add(d).After(now) {
		e.clock.Advance(t0.Add(d).Sub(now))
	}
}

func taskByID(t *testing.T, e *env, service, id string) types.Task {
	t.Helper()
	for _, st := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
		for _, tk := range e.tasks(t, service, st) {
			if strings.HasSuffix(aws.ToString(tk.TaskArn), "/"+id) {
				return tk
			}
		}
	}
	t.Fatalf("no task %s", id)
	return types.Task{}
}

// TestLB_UnhealthyTargetIsReplacedThenStopped: a target that starts failing its checks
// (unhealthy-after) is unhealthy after UnhealthyThresholdCount failed checks; ECS starts a
// replacement first, and stops the unhealthy task, with ECS's event and stopped reason, once the
// replacement is healthy.
func TestLB_UnhealthyTargetIsReplacedThenStopped(t *testing.T) {
	e := newEnv(t, 10*time.Second, 0)
	e.cluster(t)
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "unhealthy-after=90s"}})
	e.fargateService(t, "web", td, 1, aws.String(tg), nil)
	e.at(10 * time.Second)
	first := e.tasks(t, "web", types.DesiredStatusRunning)[0]
	firstID := aws.ToString(first.TaskArn)[strings.LastIndex(aws.ToString(first.TaskArn), "/")+1:]

	// Registered at 10 s; checks at 40 and 70 s pass, at 100 and 130 s fail.
	e.at(129 * time.Second)
	if s := states(e.targetHealth(t, tg)); s != "healthy" {
		t.Fatalf("after one failed check: %s", s)
	}
	if n := len(e.tasks(t, "web", types.DesiredStatusRunning)); n != 1 {
		t.Fatalf("%d tasks before the target is unhealthy", n)
	}
	e.at(130 * time.Second)
	hs := e.targetHealth(t, tg)
	if states(hs) != "unhealthy/Target.ResponseCodeMismatch" || aws.ToString(hs[0].TargetHealth.Description) != "Health checks failed with these codes: [502]" {
		t.Fatalf("after two failed checks: %s %+v", states(hs), hs[0].TargetHealth)
	}
	svc := e.describe(t, "web")
	if !strings.HasSuffix(messages(svc)[0], ". Amazon ECS replaced 1 tasks due to an unhealthy status.") {
		t.Fatalf("replacement event %q", messages(svc)[0])
	}
	wantCounts(t, svc, 1, 1, 1)

	// The replacement runs at 140 s and is healthy at 170 s: then the unhealthy task stops.
	e.at(169 * time.Second)
	if tk := taskByID(t, e, "web", firstID); aws.ToString(tk.DesiredStatus) != "RUNNING" {
		t.Fatalf("the unhealthy task stopped before its replacement was healthy: %+v", tk)
	}
	wantCounts(t, e.describe(t, "web"), 1, 2, 0)
	e.at(170 * time.Second)
	tk := taskByID(t, e, "web", firstID)
	wantReason := "Task failed ELB health checks in (target-group " + tg + ")"
	if aws.ToString(tk.LastStatus) != "DEACTIVATING" || aws.ToString(tk.StoppedReason) != wantReason || tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated {
		t.Fatalf("stopped unhealthy task: status %s reason %q code %s", aws.ToString(tk.LastStatus), aws.ToString(tk.StoppedReason), tk.StopCode)
	}
	svc = e.describe(t, "web")
	wantEvent := fmt.Sprintf("(service web) (task %s) (port 80) is unhealthy in (target-group %s) due to (reason Health checks failed with these codes: [502]).", firstID, tg)
	if !hasEvent(svc, wantEvent) || !hasEvent(svc, "(service web) has stopped 1 running tasks: (task "+firstID+").") {
		t.Fatalf("events %q, want %q", messages(svc), wantEvent)
	}
	wantCounts(t, svc, 1, 1, 0)
}

// TestLB_GracePeriod: ECS ignores unhealthy targets for the service's health check grace period
// after a task started; a target that only becomes healthy later (healthy-after) needs
// HealthyThresholdCount passed checks once it was unhealthy.
func TestLB_GracePeriod(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	slow := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "healthy-after=100s"}})
	e.fargateService(t, "web", slow, 1, aws.String(tg), aws.Int32(300))
	steps := []struct {
		at   time.Duration
		want string
	}{
		{29 * time.Second, "initial/Elb.RegistrationInProgress"},
		{30 * time.Second, "initial/Elb.InitialHealthChecking"},
		{60 * time.Second, "unhealthy/Target.ResponseCodeMismatch"},
		// Checks pass from 120 s: five in a row at 240 s.
		{239 * time.Second, "unhealthy/Target.ResponseCodeMismatch"},
		{240 * time.Second, "healthy"},
	}
	for _, st := range steps {
		e.at(st.at)
		if s := states(e.targetHealth(t, tg)); s != st.want {
			t.Fatalf("at %s: %s, want %s", st.at, s, st.want)
		}
	}
	if svc := e.describe(t, "web"); hasEvent(svc, "unhealthy status") || !hasEvent(svc, "has reached a steady state") {
		t.Fatalf("within its grace period the task was replaced: %q", messages(svc))
	}

	// A task that never passes is replaced only once the grace period ends.
	if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	bad := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "unhealthy"}})
	e.fargateService(t, "bad", bad, 1, aws.String(tg), aws.Int32(100))
	start := e.clock.Now().Sub(t0)
	e.at(start + 99*time.Second)
	if svc := e.describe(t, "bad"); hasEvent(svc, "unhealthy status") {
		t.Fatalf("replaced within the grace period: %q", messages(svc))
	}
	e.at(start + 100*time.Second)
	if svc := e.describe(t, "bad"); !hasEvent(svc, "Amazon ECS replaced 1 tasks due to an unhealthy status.") {
		t.Fatalf("not replaced when the grace period ended: %q", messages(svc))
	}
}

// TestLB_ReplacementWithoutRoom: when maximumPercent leaves no room for a replacement, the
// unhealthy task is stopped first.
func TestLB_ReplacementWithoutRoom(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "unhealthy"}})
	if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		DeploymentConfiguration: &types.DeploymentConfiguration{MaximumPercent: aws.Int32(100), MinimumHealthyPercent: aws.Int32(0)},
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		LoadBalancers:           []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
	}); err != nil {
		t.Fatal(err)
	}
	e.at(60 * time.Second)
	ev := messages(e.describe(t, "web")) // newest first
	replaced := slices.IndexFunc(ev, func(m string) bool { return strings.Contains(m, "Amazon ECS replaced 1 tasks") })
	stopped := slices.IndexFunc(ev, func(m string) bool { return strings.Contains(m, "has stopped 1 running tasks") })
	unhealthy := slices.IndexFunc(ev, func(m string) bool { return strings.Contains(m, "is unhealthy in") })
	if replaced < 0 || stopped <= replaced || unhealthy <= stopped {
		t.Fatalf("want the unhealthy event, the stop, then the replacement: %q", ev)
	}
}

// TestLB_ContainerHealth: a container health check's healthStatus follows the
// ecslocal.container-health label with the task definition's interval, retries and start period;
// an essential container that is UNHEALTHY gets its task replaced and stopped with "Task failed
// container health checks".
func TestLB_ContainerHealth(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	td := e.registerTD(t, tdSpec{
		labels: map[string]string{"ecslocal.container-health": "unhealthy-after=45s"},
		health: &types.HealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost"}, Interval: aws.Int32(10), Retries: aws.Int32(3), StartPeriod: aws.Int32(30)},
	})
	e.createService(t, "web", td, 1)
	first := e.tasks(t, "web", types.DesiredStatusRunning)[0]
	id := aws.ToString(first.TaskArn)[strings.LastIndex(aws.ToString(first.TaskArn), "/")+1:]
	health := func() (types.HealthStatus, types.HealthStatus) {
		tk := taskByID(t, e, "web", id)
		return tk.HealthStatus, tk.Containers[0].HealthStatus
	}
	steps := []struct {
		at         time.Duration
		task, cont types.HealthStatus
	}{
		{9 * time.Second, types.HealthStatusUnknown, types.HealthStatusUnknown},
		{10 * time.Second, types.HealthStatusHealthy, types.HealthStatusHealthy},
		// Checks fail from 50 s; the third failure, at 70 s, makes it UNHEALTHY.
		{69 * time.Second, types.HealthStatusHealthy, types.HealthStatusHealthy},
		{70 * time.Second, types.HealthStatusUnhealthy, types.HealthStatusUnhealthy},
	}
	for _, st := range steps {
		e.at(st.at)
		if task, cont := health(); task != st.task || cont != st.cont {
			t.Fatalf("at %s: task %s container %s, want %s %s", st.at, task, cont, st.task, st.cont)
		}
	}
	svc := e.describe(t, "web")
	if !hasEvent(svc, "Amazon ECS replaced 1 tasks due to an unhealthy status.") {
		t.Fatalf("no replacement: %q", messages(svc))
	}
	// The replacement is HEALTHY at its first check, 10 s later: the unhealthy task stops.
	e.at(80 * time.Second)
	tk := taskByID(t, e, "web", id)
	if aws.ToString(tk.LastStatus) != "STOPPED" || aws.ToString(tk.StoppedReason) != "Task failed container health checks" ||
		tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated || tk.Containers[0].HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("stopped task: %s %q %s %s", aws.ToString(tk.LastStatus), aws.ToString(tk.StoppedReason), tk.StopCode, tk.Containers[0].HealthStatus)
	}
	if svc := e.describe(t, "web"); !hasEvent(svc, "(service web) (task "+id+") failed container health checks.") {
		t.Fatalf("events %q", messages(svc))
	}

	// Failures within the start period do not count.
	bad := e.registerTD(t, tdSpec{
		labels: map[string]string{"ecslocal.container-health": "unhealthy"},
		health: &types.HealthCheck{Command: []string{"CMD", "false"}, Interval: aws.Int32(10), Retries: aws.Int32(3), StartPeriod: aws.Int32(30)},
	})
	start := e.clock.Now()
	e.createService(t, "bad", bad, 1)
	badID := aws.ToString(e.tasks(t, "bad", types.DesiredStatusRunning)[0].TaskArn)
	badID = badID[strings.LastIndex(badID, "/")+1:]
	e.clock.Advance(start.Add(49 * time.Second).Sub(e.clock.Now()))
	if tk := taskByID(t, e, "bad", badID); tk.HealthStatus != types.HealthStatusUnknown {
		t.Fatalf("after two counted failures: %s", tk.HealthStatus)
	}
	e.clock.Advance(time.Second)
	if tk := taskByID(t, e, "bad", badID); tk.HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("after three counted failures: %s", tk.HealthStatus)
	}
}

// TestLB_TimeScale: AWS's defaults, a 30 s interval and a 300 s deregistration delay, with a
// time scale of 0.01.
func TestLB_TimeScale(t *testing.T) {
	e := newEnvWith(t, ecslocal.Options{TimeScale: 0.01})
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web", td, 1, aws.String(tg), nil)
	e.at(299 * time.Millisecond)
	if s := states(e.targetHealth(t, tg)); s != "initial/Elb.RegistrationInProgress" {
		t.Fatalf("at 299 ms: %s", s)
	}
	e.at(300 * time.Millisecond)
	if s := states(e.targetHealth(t, tg)); s != "healthy" {
		t.Fatalf("at 300 ms: %s", s)
	}
	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	e.at(300*time.Millisecond + 3*time.Second - time.Millisecond)
	if s := states(e.targetHealth(t, tg)); s != "draining/Target.DeregistrationInProgress" {
		t.Fatalf("2.999 s after deregistration: %s", s)
	}
	e.at(300*time.Millisecond + 3*time.Second)
	if s := states(e.targetHealth(t, tg)); s != "" {
		t.Fatalf("3 s after deregistration: %s", s)
	}
	if tk := e.tasks(t, "web", types.DesiredStatusStopped); aws.ToString(tk[0].LastStatus) != "STOPPED" {
		t.Fatalf("task %s", aws.ToString(tk[0].LastStatus))
	}
	if cfg := e.srv.CurrentConfig(); cfg.TimeScale != 0.01 {
		t.Fatalf("config %+v", cfg)
	}
}

// TestLB_DeleteServiceWaitsForDraining: a deleted service is DRAINING until its tasks are
// STOPPING or STOPPED, which behind a load balancer takes the deregistration delay.
func TestLB_DeleteServiceWaitsForDraining(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	if _, err := e.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg), Attributes: []elbtypes.TargetGroupAttribute{
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("20")},
	}}); err != nil {
		t.Fatal(err)
	}
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web", td, 2, aws.String(tg), nil)
	e.at(30 * time.Second)
	if _, err := e.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.at(49 * time.Second)
	if svc := e.describe(t, "web"); aws.ToString(svc.Status) != "DRAINING" || svc.RunningCount != 0 {
		t.Fatalf("while draining: %s running %d", aws.ToString(svc.Status), svc.RunningCount)
	}
	e.at(50 * time.Second)
	if svc := e.describe(t, "web"); aws.ToString(svc.Status) != "INACTIVE" {
		t.Fatalf("after the deregistration delay: %s", aws.ToString(svc.Status))
	}
}

// TestLB_ServingTimeline moves traffic from one service to another behind the same target group
// and checks on the timeline that the healthy targets never dipped.
func TestLB_ServingTimeline(t *testing.T) {
	e := newEnv(t, 5*time.Second, 0)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web__1", td, 2, aws.String(tg), nil)
	e.at(35 * time.Second)
	e.fargateService(t, "web__2", td, 2, aws.String(tg), nil)
	e.at(80 * time.Second)
	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	e.at(400 * time.Second)
	var got []string
	for _, p := range ecslocal.ServingTimeline(e.srv.Timeline(), tg) {
		got = append(got, fmt.Sprintf("%s:%d", p.Time.Sub(t0), p.Healthy))
	}
	want := []string{"0s:0", "35s:2", "1m10s:4", "1m20s:2"}
	if !slices.Equal(got, want) {
		t.Fatalf("serving %q, want %q", got, want)
	}
}

// TestLB_TaskDefinitionHealthSettings: RegisterTaskDefinition rejects a health label that does
// not parse and a container health check outside the HealthCheck ranges.
func TestLB_TaskDefinitionHealthSettings(t *testing.T) {
	e := newEnv(t, 0, 0)
	ctx := context.Background()
	for _, c := range []types.ContainerDefinition{
		{Name: aws.String("web"), Image: aws.String("nginx"), DockerLabels: map[string]string{"ecslocal.elb-health": "sick"}},
		{Name: aws.String("web"), Image: aws.String("nginx"), DockerLabels: map[string]string{"ecslocal.container-health": "healthy-after=soon"}},
		{Name: aws.String("web"), Image: aws.String("nginx"), HealthCheck: &types.HealthCheck{Command: []string{"CMD", "true"}, Interval: aws.Int32(4)}},
		{Name: aws.String("web"), Image: aws.String("nginx"), HealthCheck: &types.HealthCheck{Command: []string{"CMD", "true"}, Retries: aws.Int32(11)}},
	} {
		_, err := e.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{c}})
		var ce *types.ClientException
		if !errorsAs(err, &ce) {
			t.Errorf("%+v: got %v, want ClientException", c, err)
		}
	}
}

// TestLB_Seed: a seed can create load balancers with target groups that services can use at once.
func TestLB_Seed(t *testing.T) {
	e := newEnv(t, 0, 0)
	ctx := context.Background()
	delay := 30
	if err := e.srv.ApplySeed(ecslocal.Seed{Clusters: []string{"prod"}, LoadBalancers: []ecslocal.SeedLoadBalancer{{
		Name: "web", TargetGroups: []ecslocal.SeedTargetGroup{{Name: "blue", DeregistrationDelaySeconds: &delay, HealthCheckIntervalSeconds: 10}, {Name: "green"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	blue, ok := e.srv.TargetGroupArn("blue")
	green, ok2 := e.srv.TargetGroupArn("green")
	if !ok || !ok2 {
		t.Fatal("seeded target groups not found")
	}
	d, err := e.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{blue, green}})
	if err != nil || len(d.TargetGroups[0].LoadBalancerArns) != 1 || len(d.TargetGroups[1].LoadBalancerArns) != 1 ||
		aws.ToInt32(d.TargetGroups[0].HealthCheckIntervalSeconds) != 10 || d.TargetGroups[0].TargetType != elbtypes.TargetTypeEnumIp {
		t.Fatalf("seeded target groups %+v %v", d, err)
	}
	attrs, err := e.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(blue)})
	if err != nil || attr(attrs.Attributes, "deregistration_delay.timeout_seconds") != "30" {
		t.Fatalf("blue attributes %+v %v", attrs, err)
	}
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc})
	e.fargateService(t, "web", td, 1, aws.String(green), nil)
	e.at(30 * time.Second)
	rep := e.srv.Status()
	if len(rep.TargetGroups) != 2 || rep.TargetGroups[1].Healthy != 1 || rep.TargetGroups[1].LoadBalancers[0] != "web" || rep.Services[0].TargetGroups[0].Name != "green" {
		t.Fatalf("status %+v", rep)
	}
}

// TestLB_HealthCheckFailuresTripTheCircuitBreaker: a task stopped for failing its health checks
// is a failed task of its deployment until the deployment has a healthy task, so a revision whose
// tasks never become healthy trips the deployment circuit breaker.
func TestLB_HealthCheckFailuresTripTheCircuitBreaker(t *testing.T) {
	e := newEnv(t, 0, 0)
	e.cluster(t)
	ctx := context.Background()
	_, tg, _ := e.lbSetup(t, elbtypes.TargetTypeEnumIp)
	td := e.registerTD(t, tdSpec{mode: types.NetworkModeAwsvpc, labels: map[string]string{"ecslocal.elb-health": "unhealthy"}})
	if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate,
		DeploymentConfiguration: &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true}},
		NetworkConfiguration:    &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}},
		LoadBalancers:           []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
	}); err != nil {
		t.Fatal(err)
	}
	// Unhealthy 60 s after it starts, each task is replaced; its replacement is unhealthy 60 s
	// later, which stops it.
	e.at(180 * time.Second)
	d := e.describe(t, "web").Deployments[0]
	if d.FailedTasks != 2 || d.RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("at 180 s: %d failed, rollout %s", d.FailedTasks, d.RolloutState)
	}
	e.at(240 * time.Second)
	svc := e.describe(t, "web")
	d = svc.Deployments[0]
	if d.FailedTasks != 3 || d.RolloutState != types.DeploymentRolloutStateFailed || aws.ToString(d.RolloutStateReason) != "ECS deployment circuit breaker: tasks failed to start." ||
		!hasEvent(svc, "deployment failed: tasks failed to start.") {
		t.Fatalf("at 240 s: %d failed, rollout %s %q, events %q", d.FailedTasks, d.RolloutState, aws.ToString(d.RolloutStateReason), messages(svc))
	}
	stopped := e.tasks(t, "web", types.DesiredStatusStopped)
	for _, tk := range stopped {
		if !strings.HasPrefix(aws.ToString(tk.StoppedReason), "Task failed ELB health checks in (target-group ") {
			t.Fatalf("stopped reason %q", aws.ToString(tk.StoppedReason))
		}
	}
}
