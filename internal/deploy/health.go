package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// A task counts toward a count only when it serves (DESIGN.md §7.3): it is RUNNING, its
// healthStatus is HEALTHY when the task definition gives an essential container a health check,
// and it is healthy in every target group of the service's load balancers. The CreateService
// API reference: "the service scheduler ... tasks [behind a load balancer] are considered healthy
// if they are in the RUNNING state and the load balancer reports them as healthy". A service with
// neither counts RUNNING tasks.

// ELBAPI is the part of the Elastic Load Balancing v2 client the engine calls.
// *elasticloadbalancingv2.Client implements it.
type ELBAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// servingSpec is what makes a service's task serving.
type servingSpec struct {
	lbs         []types.LoadBalancer
	healthCheck bool // an essential container has a health check
	awsvpc      bool
	grace       time.Duration
}

func (s *servingSpec) gated() bool { return len(s.lbs) > 0 || s.healthCheck }

// taskTarget is where a task is registered in one target group.
type taskTarget struct {
	id   string // an IP address (awsvpc) or an EC2 instance ID
	port int32
}

// servingCount is what one look at a service's health found.
type servingCount struct {
	serving int
	// unhealthy counts tasks that a load balancer or their container health check reports
	// unhealthy after the service's grace period: failures of the revision.
	unhealthy int
	evidence  []string
}

// spec learns what makes a service's tasks serving, from the service and its task definition
// (described once per task definition and kept).
func (wt *waiter) spec(ctx context.Context, svc types.Service) (*servingSpec, error) {
	tdARN := aws.ToString(svc.TaskDefinition)
	s := &servingSpec{lbs: svc.LoadBalancers, grace: time.Duration(aws.ToInt32(svc.HealthCheckGracePeriodSeconds)) * time.Second}
	td, ok := wt.taskDefs[tdARN]
	if !ok {
		var err error
		if td, err = wt.e.findTaskDefinition(ctx, tdARN); err != nil {
			return nil, fmt.Errorf("learning the health checks of %s: %w", aws.ToString(svc.ServiceName), err)
		}
		wt.taskDefs[tdARN] = td
	}
	s.awsvpc = td.NetworkMode == types.NetworkModeAwsvpc
	for _, c := range td.ContainerDefinitions {
		if c.HealthCheck != nil && (c.Essential == nil || *c.Essential) {
			s.healthCheck = true
		}
	}
	return s, nil
}

// serving counts the service's tasks that serve. It is called only once the service's running
// count is met, so a wait adds health reads only at its end: a ListTasks, a DescribeTasks (of
// tasks not seen before, unless container health is read) and one DescribeTargetHealth per
// target group.
func (wt *waiter) serving(ctx context.Context, svc types.Service, spec *servingSpec) (*servingCount, error) {
	name := aws.ToString(svc.ServiceName)
	arns, err := wt.runningTasks(ctx, svc)
	if err != nil {
		return nil, fmt.Errorf("listing the tasks of %s to read their health: %w", name, err)
	}
	tasks, err := wt.describeForHealth(ctx, arns, spec)
	if err != nil {
		return nil, err
	}
	health, err := wt.targetHealth(ctx, name, spec.lbs)
	if err != nil {
		return nil, err
	}
	now := wt.e.clock().Now()
	res := &servingCount{}
	for _, arn := range arns {
		t, ok := tasks[arn]
		if !ok || aws.ToString(t.task.LastStatus) != "RUNNING" {
			continue
		}
		pastGrace := t.task.StartedAt != nil && now.Sub(*t.task.StartedAt) >= spec.grace
		ok, bad := true, ""
		if spec.healthCheck && t.task.HealthStatus != types.HealthStatusHealthy {
			ok = false
			if t.task.HealthStatus == types.HealthStatusUnhealthy {
				bad = fmt.Sprintf("task %s: container health check UNHEALTHY", LastSegment(arn))
			}
		}
		for i, lb := range spec.lbs {
			tg := aws.ToString(lb.TargetGroupArn)
			d, found := health[tg][t.targets[i]]
			state := elbtypes.TargetHealthStateEnum("not registered")
			if found && d.TargetHealth != nil {
				state = d.TargetHealth.State
			}
			if state == elbtypes.TargetHealthStateEnumHealthy {
				continue
			}
			ok = false
			if state == elbtypes.TargetHealthStateEnumUnhealthy && bad == "" {
				bad = fmt.Sprintf("target %s:%d of task %s in %s: %s", t.targets[i].id, t.targets[i].port, LastSegment(arn), LastSegment(tg), describeHealth(d))
			}
			if len(res.evidence) < 3 {
				res.evidence = append(res.evidence, fmt.Sprintf("target %s:%d in %s: %s", t.targets[i].id, t.targets[i].port, LastSegment(tg), describeHealth(d)))
			}
		}
		switch {
		case ok:
			res.serving++
		case bad != "" && pastGrace:
			res.unhealthy++
			res.evidence = append(res.evidence, bad)
		}
	}
	slices.Sort(res.evidence)
	res.evidence = slices.Compact(res.evidence)
	return res, nil
}

// taskList is the last list of a service's running tasks, with what the service showed then.
type taskList struct {
	arns                      []string
	event                     string // ID of the service's newest event
	desired, running, pending int32
}

// runningTasks lists the service's running tasks (every page), or reuses the last list when the
// service shows that nothing has changed since: the same newest event, the same counts and none
// pending. ECS posts a service event for every task it starts ("has started N tasks") and for
// the tasks it stops ("has stopped N running tasks", "is unhealthy in target-group"), and a task
// that stops on its own leaves the running count until ECS starts its replacement, so a task set
// that changed shows in one or the other. The events ECS posts when a service settles ("has
// reached a steady state.", "deployment completed.") are passed over: they change no task.
func (wt *waiter) runningTasks(ctx context.Context, svc types.Service) ([]string, error) {
	name := aws.ToString(svc.ServiceName)
	now := taskList{desired: svc.DesiredCount, running: svc.RunningCount, pending: svc.PendingCount}
	for _, ev := range svc.Events {
		if msg := aws.ToString(ev.Message); !strings.HasSuffix(msg, "has reached a steady state.") && !strings.HasSuffix(msg, "deployment completed.") {
			now.event = aws.ToString(ev.Id)
			break
		}
	}
	if last, ok := wt.lists[name]; ok && now.event != "" && now.pending == 0 &&
		last.event == now.event && last.desired == now.desired && last.running == now.running && last.pending == 0 {
		return last.arns, nil
	}
	var err error
	if now.arns, err = wt.listTasks(ctx, name, types.DesiredStatusRunning); err != nil {
		return nil, err
	}
	wt.lists[name] = now
	return now.arns, nil
}

// targetHealth reads the health of every target of the service's target groups, one
// DescribeTargetHealth call per target group, by target.
func (wt *waiter) targetHealth(ctx context.Context, service string, lbs []types.LoadBalancer) (map[string]map[taskTarget]elbtypes.TargetHealthDescription, error) {
	health := map[string]map[taskTarget]elbtypes.TargetHealthDescription{}
	for _, lb := range lbs {
		tg := aws.ToString(lb.TargetGroupArn)
		if _, ok := health[tg]; ok {
			continue
		}
		if wt.e.ELB == nil {
			return nil, fmt.Errorf("%s is behind target group %s, but no Elastic Load Balancing client is configured", service, tg)
		}
		out, err := wt.e.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, fmt.Errorf("reading the target health of %s (elasticloadbalancing:DescribeTargetHealth): %w", tg, err)
		}
		byTarget := map[taskTarget]elbtypes.TargetHealthDescription{}
		for _, d := range out.TargetHealthDescriptions {
			if d.Target != nil {
				byTarget[taskTarget{aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)}] = d
			}
		}
		health[tg] = byTarget
	}
	return health, nil
}

func describeHealth(d elbtypes.TargetHealthDescription) string {
	h := d.TargetHealth
	if h == nil {
		return "not registered"
	}
	s := string(h.State)
	if h.Reason != "" {
		s += " (" + string(h.Reason)
		if desc := aws.ToString(h.Description); desc != "" {
			s += ": " + desc
		}
		s += ")"
	}
	return s
}

// healthTask is a task as health reads need it, with its targets in the order of the service's
// load balancers.
type healthTask struct {
	task    types.Task
	targets []taskTarget
}

// describeForHealth describes the tasks it has not seen, and every task when container health
// is read (it changes); where a task is registered does not change, so it is kept.
func (wt *waiter) describeForHealth(ctx context.Context, arns []string, spec *servingSpec) (map[string]healthTask, error) {
	var need []string
	for _, arn := range arns {
		if _, ok := wt.tasks[arn]; !ok || spec.healthCheck {
			need = append(need, arn)
		}
	}
	described, err := wt.e.describeTasks(ctx, wt.cluster, need)
	if err != nil {
		return nil, fmt.Errorf("describing tasks to read their health: %w", err)
	}
	if !spec.awsvpc && len(spec.lbs) > 0 {
		if err := wt.instanceIDs(ctx, described); err != nil {
			return nil, err
		}
	}
	for _, t := range described {
		ht := healthTask{task: t}
		for _, lb := range spec.lbs {
			ht.targets = append(ht.targets, targetOf(t, lb, spec.awsvpc, wt.instances[aws.ToString(t.ContainerInstanceArn)]))
		}
		wt.tasks[aws.ToString(t.TaskArn)] = ht
	}
	out := map[string]healthTask{}
	for _, arn := range arns {
		if t, ok := wt.tasks[arn]; ok {
			out[arn] = t
		}
	}
	return out, nil
}

// targetOf is where ECS registers a task in a load balancer's target group: with awsvpc, the
// ENI's private IP and the container port (target type ip); otherwise the container instance's
// EC2 instance and the host port bound to the container port (target type instance).
func targetOf(t types.Task, lb types.LoadBalancer, awsvpc bool, instance string) taskTarget {
	port := aws.ToInt32(lb.ContainerPort)
	if awsvpc {
		for _, a := range t.Attachments {
			if aws.ToString(a.Type) != "ElasticNetworkInterface" {
				continue
			}
			for _, d := range a.Details {
				if aws.ToString(d.Name) == "privateIPv4Address" {
					return taskTarget{id: aws.ToString(d.Value), port: port}
				}
			}
		}
		return taskTarget{}
	}
	for _, c := range t.Containers {
		if aws.ToString(c.Name) != aws.ToString(lb.ContainerName) {
			continue
		}
		for _, b := range c.NetworkBindings {
			if aws.ToInt32(b.ContainerPort) == port {
				return taskTarget{id: instance, port: aws.ToInt32(b.HostPort)}
			}
		}
	}
	return taskTarget{}
}

// instanceIDs resolves the EC2 instances of the container instances tasks run on (bridge and
// host network modes), once per container instance.
func (wt *waiter) instanceIDs(ctx context.Context, tasks []types.Task) error {
	var need []string
	for _, t := range tasks {
		ci := aws.ToString(t.ContainerInstanceArn)
		if _, ok := wt.instances[ci]; ci != "" && !ok && !slices.Contains(need, ci) {
			need = append(need, ci)
		}
	}
	for batch := range slices.Chunk(need, 100) {
		out, err := wt.e.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(wt.cluster), ContainerInstances: batch})
		if err != nil {
			return fmt.Errorf("describing container instances to find the targets of their tasks: %w", err)
		}
		for _, ci := range out.ContainerInstances {
			wt.instances[aws.ToString(ci.ContainerInstanceArn)] = aws.ToString(ci.Ec2InstanceId)
		}
	}
	return nil
}

// checkLoadBalancers checks, before any write, that every configured target group exists and
// fits the task definition: its target type must be ip for the awsvpc network mode and instance
// otherwise, and the container must map the port. Each problem is an *InputError naming the
// load_balancer block at fault.
func (e *Engine) checkLoadBalancers(ctx context.Context, lbs []LoadBalancer, td *types.TaskDefinition) error {
	for i, lb := range lbs {
		field := fmt.Sprintf("service.load_balancer[%d].target_group_arn", i)
		if e.ELB == nil {
			return fmt.Errorf("%s: the service is behind a load balancer, but no Elastic Load Balancing client is configured", field)
		}
		out, err := e.ELB.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{lb.TargetGroupARN}})
		var nf *elbtypes.TargetGroupNotFoundException
		switch {
		case errors.As(err, &nf) || (err == nil && len(out.TargetGroups) == 0):
			return &InputError{Field: field, Message: fmt.Sprintf("target group %s does not exist", lb.TargetGroupARN), Err: err}
		case err != nil:
			return fmt.Errorf("describing target group %s (elasticloadbalancing:DescribeTargetGroups): %w", lb.TargetGroupARN, err)
		}
		tg := out.TargetGroups[0]
		want := elbtypes.TargetTypeEnumInstance
		if td.NetworkMode == types.NetworkModeAwsvpc {
			want = elbtypes.TargetTypeEnumIp
		}
		if tg.TargetType != want {
			return &InputError{Field: field, Message: fmt.Sprintf("target group %s has target type %s, but tasks of network mode %s register as %s targets", aws.ToString(tg.TargetGroupName), tg.TargetType, networkMode(td), want)}
		}
		if !mapsPort(td, lb.ContainerName, lb.ContainerPort) {
			return &InputError{Field: fmt.Sprintf("service.load_balancer[%d].container_port", i), Message: fmt.Sprintf("task definition %s has no container %q with a port mapping for container port %d", FamilyRevision(aws.ToString(td.TaskDefinitionArn)), lb.ContainerName, lb.ContainerPort)}
		}
	}
	return nil
}

func networkMode(td *types.TaskDefinition) string {
	if td.NetworkMode == "" {
		return "bridge"
	}
	return string(td.NetworkMode)
}

func mapsPort(td *types.TaskDefinition, container string, port int) bool {
	for _, c := range td.ContainerDefinitions {
		if aws.ToString(c.Name) != container {
			continue
		}
		for _, pm := range c.PortMappings {
			if int(aws.ToInt32(pm.ContainerPort)) == port {
				return true
			}
		}
	}
	return false
}
