package deploy_test

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The fault matrices run one rollout again and again, each time in a fresh ecslocal with a
// fault injected at one of the API calls that the rollout makes when nothing fails. The rollout
// deploys web:2 in three phases (25, 50 and 100 %) at desired 8 over production web__4 at 8,
// which has auto scaling, so every kind of call the engine makes on a deployment is in it:
// preflight, discovery, pruning beyond retain_old_services = 2 (web__1 before the rollout,
// web__2 after it), taking auto scaling off production, learning task start times, creating
// web__7 (web__5 and web__6 are foreign), six scaling steps with their waits, and auto scaling
// onto web__7.
//
// Both matrices run this rollout twice over: plainly, and behind an Application Load Balancer
// (balancedRollout): awsvpc tasks in an ip target group with AWS's default health settings under
// a time scale, so that every wait for a service to grow also reads target health (ListTasks,
// DescribeTasks, DescribeTargetHealth) and preflight describes the target group. The balanced
// runs also check that the load balancer's serving capacity never drops below P.
//
// Which call is "call i": the runs are in virtual time (see newEnv), so every run makes the
// same calls, polls included, in the same order and at the same virtual instants as the
// fault-free run until its fault hits. A fault point is an (operation, occurrence) pair of the
// fault-free run, injected with Skip = the number of earlier calls of that operation, and it
// hits call i of the run every time.

const (
	faultProd = "web__4" // production before the rollout
	faultNew  = "web__7" // the revision the rollout creates

	pollAction = "ecs:DescribeServices"
	// rollbackBegins is what the engine logs, as a warning, before the first rollback step.
	rollbackBegins = "rollout failed; rolling back"
	// matrixWorkers is how many runs of a matrix overlap. A run in virtual time keeps a core
	// busy except while the SDK backs off before a retry, so a few more than the usual cores
	// are enough.
	matrixWorkers = 3
)

// foreignService is a service in the cluster that is not this deployment's.
type foreignService struct {
	name    string
	owner   string // its ownership tag's value, "" without the tag
	desired int
}

// foreignServices sit in the cluster during every run, so that every run also checks that a
// service that is not ours is never touched, whatever fails (DESIGN.md §1.1): an untagged
// service named like a revision, one tagged with another deployment's ID, and an unrelated
// service.
var foreignServices = []foreignService{
	{name: "web__5", desired: 1},
	{name: "web__6", owner: "other", desired: 1},
	{name: "api", desired: 2},
}

// matrixRollout is a variant of the rollout that the fault matrices and the resume suite run.
type matrixRollout struct {
	name     string
	balanced bool   // behind a load balancer: services in target group "web", tasks awsvpc
	prodTD   string // the task definition of the services before the rollout
	newTD    string // the one the rollout deploys
}

var (
	plainRollout    = matrixRollout{name: "plain rollout", prodTD: tdHealthy1, newTD: tdHealthy2}
	balancedRollout = matrixRollout{name: "load-balanced rollout", balanced: true, prodTD: tdBalanced1, newTD: tdBalanced2}
	matrixRollouts  = []matrixRollout{plainRollout, balancedRollout}
)

// The load-balanced rollout's setting: AWS's default target group health settings (a check every
// 30 s, healthy after one passed check from initial, unhealthy after 2 failed ones, a 300 s
// deregistration delay) under a time scale of 1/100, and two task definitions of family web,
// awsvpc, whose container web maps balancedPort and passes its ELB health checks.
const (
	balancedScale = 0.01
	balancedPort  = 8080
	tdBalanced1   = "web:7"
	tdBalanced2   = "web:8"
)

// prepare readies a fresh env for the rollout: for the load-balanced one it sets the time scale,
// seeds load balancer "front" forwarding to ip target group "web", registers tdBalanced1 and
// tdBalanced2 and gives the engine an Elastic Load Balancing client. It returns the target
// group's ARN, or "" for the plain rollout.
func (ro matrixRollout) prepare(e *env) string {
	e.t.Helper()
	if !ro.balanced {
		return ""
	}
	cfg := e.srv.CurrentConfig()
	cfg.TimeScale = balancedScale
	e.srv.Configure(cfg)
	// Polls in proportion to the scaled durations: a health check every 300 ms.
	e.eng.Poll = deploy.PollConfig{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	if err := e.srv.ApplySeed(ecslocal.Seed{LoadBalancers: []ecslocal.SeedLoadBalancer{{
		Name: "front", TargetGroups: []ecslocal.SeedTargetGroup{{Name: "web", Port: balancedPort, TargetType: "ip"}},
	}}}); err != nil {
		e.t.Fatal(err)
	}
	tg, ok := e.srv.TargetGroupArn("web")
	if !ok {
		e.t.Fatal("target group web was not seeded")
	}
	for _, want := range []string{tdBalanced1, tdBalanced2} {
		out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc,
			ContainerDefinitions: []types.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true),
				DockerLabels: map[string]string{"ecslocal.elb-health": "healthy"},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(balancedPort)}},
			}},
		})
		if err != nil {
			e.t.Fatal(err)
		}
		if got := fmt.Sprintf("web:%d", out.TaskDefinition.Revision); got != want {
			e.t.Fatalf("registered %s, want %s", got, want)
		}
	}
	if e.eng.ELB == nil {
		e.eng.ELB = elbv2.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")},
			func(o *elbv2.Options) { o.BaseEndpoint = e.ecs.Options().BaseEndpoint })
	}
	return tg
}

// withTemplate puts the rollout's service template into cfg: for the load-balanced rollout, two
// subnets and target group tg, container web on balancedPort.
func (ro matrixRollout) withTemplate(cfg deploy.Config, tg string) deploy.Config {
	if ro.balanced {
		cfg.Service.Network = &deploy.NetworkConfig{Subnets: []string{"subnet-a", "subnet-b"}}
		cfg.Service.LoadBalancers = []deploy.LoadBalancer{{TargetGroupARN: tg, ContainerName: "web", ContainerPort: balancedPort}}
	}
	return cfg
}

// historyServices is the cluster before the plain rollout, as env.services reports it.
func historyServices() map[string]liveService { return plainRollout.historyServices() }

// historyServices is the cluster before the rollout, as env.services reports it.
func (ro matrixRollout) historyServices() map[string]liveService {
	m := map[string]liveService{
		"web__1": {Owner: "prod/web", TaskDefinition: ro.prodTD},
		"web__2": {Owner: "prod/web", TaskDefinition: ro.prodTD},
		"web__3": {Owner: "prod/web", TaskDefinition: ro.prodTD},
		"web__4": {Desired: 8, Running: 8, Owner: "prod/web", TaskDefinition: ro.prodTD},
	}
	for _, f := range foreignServices {
		m[f.name] = liveService{Desired: f.desired, Running: f.desired, Owner: f.owner, TaskDefinition: tdHealthy1}
	}
	return m
}

// config is the rollout of both matrices, over services behind tg when it is load-balanced.
func (ro matrixRollout) config(tg string) deploy.Config {
	cfg := baseConfig(ro.newTD, 8)
	cfg.AutoScaling = withSchedule()
	cfg.RetainOldServices = 2
	return ro.withTemplate(cfg, tg)
}

// useFastRetries gives the engine SDK clients whose standard retryer backs off at most 20 ms
// and has no client-side retry quota, so that a matrix of retried faults runs fast. The test's
// own clients keep the defaults.
func useFastRetries(e *env) {
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
			o.RateLimiter = ratelimit.None
		})
	}
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	endpoint := e.ecs.Options().BaseEndpoint
	e.eng.ECS = ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = endpoint
		o.Retryer = retryer()
	})
	e.eng.AutoScaling = applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) {
		o.BaseEndpoint = endpoint
		o.Retryer = retryer()
	})
	e.eng.ELB = elbv2.NewFromConfig(cfg, func(o *elbv2.Options) {
		o.BaseEndpoint = endpoint
		o.Retryer = retryer()
	})
}

// arrangeHistory builds the plain rollout's history (arrangeRolloutHistory).
func (e *env) arrangeHistory() deploy.State {
	e.t.Helper()
	return e.arrangeRolloutHistory(plainRollout, "")
}

// arrangeRolloutHistory builds, through the SDK, what earlier deployments of the rollout left in the
// cluster: web__1 to web__3 at 0, production web__4 at 8 with auto scaling (2–10, cpu60), all
// behind target group tg for the load-balanced rollout, and the foreign services (behind none).
// It returns the state those deployments saved, once production's tasks all run and, behind the
// load balancer, are healthy.
func (e *env) arrangeRolloutHistory(ro matrixRollout, tg string) deploy.State {
	e.t.Helper()
	ctx := context.Background()
	create := func(name string, n int, ours bool, tags ...types.Tag) *deploy.ServiceRef {
		in := &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(tdHealthy1),
			DesiredCount: aws.Int32(int32(n)), Tags: tags,
		}
		if ro.balanced && ours {
			in.TaskDefinition = aws.String(ro.prodTD)
			in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}}
			in.LoadBalancers = []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(balancedPort)}}
		}
		out, err := e.ecs.CreateService(ctx, in)
		if err != nil {
			e.t.Fatal(err)
		}
		return &deploy.ServiceRef{Name: name, ARN: aws.ToString(out.Service.ServiceArn), TaskDefinition: aws.ToString(out.Service.TaskDefinition), DesiredCount: n}
	}
	refs := map[int]*deploy.ServiceRef{}
	for rev := 1; rev <= 4; rev++ {
		n := 0
		if rev == 4 {
			n = 8
		}
		refs[rev] = create(deploy.RevisionName("web", rev), n, true, ecsTag(deploy.OwnerTag, "prod/web"), ecsTag(deploy.RevisionTag, strconv.Itoa(rev)))
		refs[rev].Revision = rev
	}
	for _, f := range foreignServices {
		var tags []types.Tag
		if f.owner != "" {
			tags = append(tags, ecsTag(deploy.OwnerTag, f.owner))
		}
		create(f.name, f.desired, false, tags...)
	}
	id := aws.String("service/prod/" + faultProd)
	if _, err := e.aas.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(10),
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.aas.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyName: aws.String("cpu60"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
		},
	}); err != nil {
		e.t.Fatal(err)
	}
	// The services' tasks all start after one start delay, and are healthy in the target group
	// one health check interval later.
	e.await(startDelay, "the arranged services settling", func() bool {
		return reflect.DeepEqual(e.services(), ro.historyServices()) && (!ro.balanced || servingNow(e.srv, tg) == 8)
	})
	// web__3 was production at 8 before web__4 replaced it.
	previous := *refs[3]
	previous.DesiredCount = 8
	return deploy.State{Current: refs[4], Previous: &previous, HighestRevision: 4, AutoScaling: cpu60()}
}

// historyScaling is production's auto scaling in the arranged history.
var historyScaling = &scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}}

// matrixScaling is production's auto scaling before the matrices' rollout: historyScaling and
// the scheduled action addSchedule puts, which the rollout's configuration (withSchedule)
// describes too.
var matrixScaling = &scheduledView

// addSchedule puts withSchedule's scheduled action on a service of the arranged history, and
// returns the auto scaling state then records.
func (e *env) addSchedule(service string) *deploy.AutoScaling {
	e.t.Helper()
	a := withSchedule()
	sa := a.ScheduledActions[0]
	if _, err := e.aas.PutScheduledAction(context.Background(), &applicationautoscaling.PutScheduledActionInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/" + service),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, ScheduledActionName: aws.String(sa.Name),
		Schedule: aws.String(sa.Schedule), Timezone: aws.String(sa.Timezone),
		ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: aws.Int32(int32(*sa.Min)), MaxCapacity: aws.Int32(int32(*sa.Max))},
	}); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// rollbackWatch is the engine's logger in a matrix run. It records the log, notes when the
// rollback begins and then clears every injected fault: a persistent fault lasts until the
// first rollback step. The engine calls its logger synchronously, so no call of the rollback
// can see the fault.
type rollbackWatch struct {
	*recLog
	srv   *ecslocal.Server
	began atomic.Bool
}

// Warn records the line and clears the faults when it says that the rollback begins.
func (l *rollbackWatch) Warn(ctx context.Context, msg string, fields map[string]any) {
	if msg == rollbackBegins && !l.began.Swap(true) {
		l.srv.ClearFaults()
	}
	l.recLog.Warn(ctx, msg, fields)
}

// servingNow is how many targets of tg are healthy now, over every service.
func servingNow(srv *ecslocal.Server, tg string) int {
	points := ecslocal.ServingTimeline(srv.Timeline(), tg)
	if len(points) == 0 {
		return 0
	}
	return points[len(points)-1].Healthy
}

// checkServingFloor asserts the serving-capacity invariant behind a load balancer (DESIGN.md §7.4
// and §13.1) on ecslocal's timeline from m on: the targets of tg that are healthy, summed over
// every service (ecslocal.ServingTimeline), never drop below floor. As checkCapacity does for
// running tasks, a healthy target of one of the new services that stops being healthy on its own
// (its service's healthy targets drop while not above its desired count) is still counted, up to
// the desired count: the invariant allows dips caused by the new revision's own failures, not
// dips caused by the engine shrinking a service before the other one serves. It returns the
// number of instants checked.
func (e *env) checkServingFloor(m mark, floor int, tg string, newSvcs ...string) int {
	e.t.Helper()
	return e.servingFloor(m, floor, true, tg, newSvcs)
}

// checkServingFloorOnceReached is checkServingFloor from the first instant at or after m at
// which floor targets serve: for a first deployment, whose tasks are still starting at m.
func (e *env) checkServingFloorOnceReached(m mark, floor int, tg string, newSvcs ...string) int {
	e.t.Helper()
	return e.servingFloor(m, floor, false, tg, newSvcs)
}

func (e *env) servingFloor(m mark, floor int, fromMark bool, tg string, newSvcs []string) int {
	e.t.Helper()
	timeline := e.srv.Timeline()
	points := ecslocal.ServingTimeline(timeline, tg)
	servingAt := func(t time.Time) int {
		n := 0
		for _, p := range points {
			if p.Time.After(t) {
				break
			}
			n = p.Healthy
		}
		return n
	}
	type counts struct{ desired, healthy, lost int }
	state := map[string]*counts{}
	credit := func() (int, string) {
		total, detail := 0, ""
		for _, n := range newSvcs {
			if s := state[n]; s != nil && s.lost > 0 {
				c := min(s.desired, s.healthy+s.lost) - s.healthy
				total += max(c, 0)
				detail += fmt.Sprintf(", %s healthy %d (counted %d)", n, s.healthy, s.healthy+max(c, 0))
			}
		}
		return total, detail
	}
	reached, checks := fromMark, 0
	for i, te := range timeline {
		if s := slices.Index(newSvcs, te.Service); s >= 0 {
			c := state[te.Service]
			if c == nil {
				c = &counts{}
				state[te.Service] = c
			}
			h := te.HealthyTargets[tg]
			if h < c.healthy && c.healthy <= te.Desired {
				c.lost += c.healthy - h
			}
			c.desired, c.healthy = te.Desired, h
		}
		// Check the state each instant leaves, once all its entries are in.
		if i < m.timeline-1 || i+1 < len(timeline) && timeline[i+1].Time.Equal(te.Time) {
			continue
		}
		extra, detail := credit()
		total := servingAt(te.Time) + extra
		reached = reached || total >= floor
		if !reached {
			continue
		}
		checks++
		if total < floor {
			e.t.Errorf("serving capacity of target group %s dipped to %d (< %d) at %s: %d healthy targets%s; serving timeline %s",
				deploy.LastSegment(tg), total, floor, te.Time.Format("15:04:05.000"), servingAt(te.Time), detail, fmtPoints(points, timeline[max(m.timeline-1, 0)].Time))
			return checks
		}
	}
	return checks
}

// fmtPoints renders serving points from since on as "+offset:healthy".
func fmtPoints(points []ecslocal.ServingPoint, since time.Time) string {
	var parts []string
	for _, p := range points {
		if !p.Time.Before(since) {
			parts = append(parts, fmt.Sprintf("+%s:%d", p.Time.Sub(since), p.Healthy))
		}
	}
	return strings.Join(parts, " ")
}

// faultRun is one run of the matrix rollout and what it left behind.
type faultRun struct {
	e          *env
	ro         matrixRollout
	tg         string // the target group of the load-balanced rollout
	prior      deploy.State
	m          mark
	end        int // the length of the call log when Deploy returned
	res        *deploy.Result
	err        error
	rolledBack bool // the engine said that the rollback begins
}

// runRollout runs the matrix rollout in a fresh ecslocal with fault, if any, injected once the
// history is in place. The faults are cleared when Deploy returns, so that the checks' own
// calls get through.
func runRollout(t *testing.T, ro matrixRollout, fault *ecslocal.Fault) *faultRun {
	t.Helper()
	e := newEnv(t)
	tg := ro.prepare(e)
	useFastRetries(e)
	prior := e.arrangeRolloutHistory(ro, tg)
	prior.AutoScaling = e.addSchedule(faultProd)
	watch := &rollbackWatch{recLog: e.log, srv: e.srv}
	e.eng.Log = watch
	r := &faultRun{e: e, ro: ro, tg: tg, prior: prior, m: e.mark()}
	if fault != nil {
		e.srv.InjectFault(*fault)
	}
	r.res, r.err = e.eng.Deploy(context.Background(), ro.config(tg), prior)
	e.srv.ClearFaults()
	r.end = len(e.srv.Calls())
	r.rolledBack = watch.began.Load()
	return r
}

// rawCalls are every call of the run as ecslocal served it, the SDK's retry attempts included.
func (r *faultRun) rawCalls() []ecslocal.Call {
	return r.e.srv.Calls()[r.m.calls:r.end]
}

// calls are the calls of the run as the engine made them: an SDK retry attempt is left out.
func (r *faultRun) calls() []ecslocal.Call {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	var out []ecslocal.Call
	for _, c := range r.rawCalls() {
		if !r.e.retried[c.Seq] {
			out = append(out, c)
		}
	}
	return out
}

// retries lists the SDK's retry attempts of the run, by action: those of calls that ecslocal
// failed (fault retries), and the others (transport retries). The SDK also retries, now and
// then, a call whose response it could not read because its connection was closed under it
// ("deserialization failed, ... use of closed network connection" on a 200, aws-sdk-go-v2
// issues 1825 and 2935); ecslocal served such a call without an error, and it is no fault's.
func (r *faultRun) retries() (fault, transport []string) {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	calls := r.rawCalls()
	for i, c := range calls {
		if !r.e.retried[c.Seq] {
			continue
		}
		if i > 0 && calls[i-1].ErrorCode != "" && calls[i-1].Action() == c.Action() && calls[i-1].Resource == c.Resource {
			fault = append(fault, c.Action())
		} else {
			transport = append(transport, c.Action())
		}
	}
	return fault, transport
}

// faultRetries lists the SDK's retry attempts of calls that ecslocal failed.
func (r *faultRun) faultRetries() []string {
	fault, _ := r.retries()
	return fault
}

// failed lists the calls of the run that ecslocal answered with the error code, or with any
// error when code is "". (A rollback's DeregisterScalableTarget of the new revision fails with
// ObjectNotFoundException when it has no target, which the engine expects.)
func (r *faultRun) failed(code string) []ecslocal.Call {
	var out []ecslocal.Call
	for _, c := range r.rawCalls() {
		if c.ErrorCode != "" && (code == "" || c.ErrorCode == code) {
			out = append(out, c)
		}
	}
	return out
}

// writes lists the run's write calls as "action resource", failed ones included.
func (r *faultRun) writes() []string {
	var out []string
	for _, c := range r.rawCalls() {
		if c.Write {
			out = append(out, c.Action()+" "+c.Resource)
		}
	}
	return out
}

// callList lists calls as "action resource", in order.
func callList(calls []ecslocal.Call) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, callString(c))
	}
	return out
}

// callString is a call as "action resource", with an Elastic Load Balancing ARN shortened to
// its type and name ("targetgroup/web"): its last part is random, so that it differs from one
// ecslocal to the next.
func callString(c ecslocal.Call) string {
	res := c.Resource
	if strings.HasPrefix(res, "arn:aws:elasticloadbalancing:") {
		_, res, _ = strings.Cut(res[:strings.LastIndex(res, "/")], ":targetgroup/")
		res = "targetgroup/" + res
	}
	return c.Action() + " " + res
}

// steady lists the run's calls that are not polls, as "action resource", in order.
func steady(calls []ecslocal.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Action() != pollAction {
			out = append(out, callString(c))
		}
	}
	return out
}

// rolloutView is what a run left: the state to save, the report and the cluster.
type rolloutView struct {
	State    string
	Rollout  string
	Warnings []string
	Steps    []string
	Services map[string]liveService
	Scaling  map[string]*scalingView // services that have auto scaling
	Desired  map[string][]int        // desired counts each service went through in the run
}

// view collects what the run left, through the test's own clients.
func (r *faultRun) view() rolloutView {
	v := rolloutView{Services: r.e.services(), Scaling: map[string]*scalingView{}, Desired: map[string][]int{}}
	if res := r.res; res != nil {
		scaling, _ := stdjson.Marshal(res.AutoScaling) // by value: its counts are pointers
		v.State = fmt.Sprintf("current %+v; previous %+v; highest revision %d; auto scaling %s; phases %v",
			deref(res.Current), deref(res.Previous), res.HighestRevision, scaling, res.Phases)
		if res.Rollout != nil {
			v.Rollout = fmt.Sprintf("revision %d %s %q", res.Rollout.Revision, res.Rollout.Status, res.Rollout.Reason)
		}
		v.Warnings = res.Warnings
		for _, s := range res.Steps {
			v.Steps = append(v.Steps, s.Message)
		}
	}
	for rev := 1; rev <= 7; rev++ {
		name := deploy.RevisionName("web", rev)
		if s := r.e.scaling(name); s != nil {
			v.Scaling[name] = s
		}
	}
	for _, name := range []string{faultProd, faultNew, "web__5", "web__6", "api"} {
		v.Desired[name] = r.e.desiredChanges(r.m, name)
	}
	return v
}

// deref is what p points to, or nil, for printing.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// checker counts the invariant checks of a run and reports the failed ones.
type checker struct {
	t      *testing.T
	checks int
}

func (c *checker) check(ok bool, format string, args ...any) {
	c.t.Helper()
	c.checks++
	if !ok {
		c.t.Errorf(format, args...)
	}
}

// checkCommon checks what holds in every run, whatever its fault: production capacity never
// dipped (DESIGN.md §13.1, on ecslocal's timeline), behind the load balancer the healthy targets
// never dropped below P = 8 either (§7.4), and no call wrote to a foreign service, whose counts
// never changed (§1.1).
func (r *faultRun) checkCommon(c *checker) {
	c.t.Helper()
	r.e.checkCapacity(r.m, 8, faultProd, faultNew)
	c.checks++
	if r.ro.balanced {
		c.check(servingNow(r.e.srv, r.tg) == 8, "%d targets healthy after the run, want 8", servingNow(r.e.srv, r.tg))
		c.checks += r.e.checkServingFloor(r.m, 8, r.tg, faultNew)
	}
	for _, f := range foreignServices {
		var touched []string
		for _, call := range r.rawCalls() {
			if call.Write && (call.Resource == f.name || strings.HasSuffix(call.Resource, "/"+f.name)) {
				touched = append(touched, call.Action())
			}
		}
		c.check(len(touched) == 0, "write calls naming the foreign service %s: %v", f.name, touched)
		c.check(slices.Equal(r.e.desiredChanges(r.m, f.name), []int{f.desired}), "the foreign service %s went through desired counts %v, want [%d]", f.name, r.e.desiredChanges(r.m, f.name), f.desired)
	}
}

// faultPoint is an (operation, occurrence) pair of the fault-free run: the fault hits the
// call that follows skip earlier calls of the operation.
type faultPoint struct {
	index  int // the call's position in the fault-free run
	action string
	skip   int
}

// operation is the action without its service prefix, as an SDK error names it.
func (p faultPoint) operation() string {
	_, op, _ := strings.Cut(p.action, ":")
	return op
}

// String names the point as subtests and failures show it.
func (p faultPoint) String() string {
	return fmt.Sprintf("call %d (%s #%d)", p.index, p.action, p.skip+1)
}

// faultPoints are the fault points of a run's calls, one per call, in order.
func faultPoints(calls []ecslocal.Call) []faultPoint {
	seen := map[string]int{}
	out := make([]faultPoint, 0, len(calls))
	for i, c := range calls {
		out = append(out, faultPoint{index: i, action: c.Action(), skip: seen[c.Action()]})
		seen[c.Action()]++
	}
	return out
}

// isWrite reports the calls that change something; the calls between two of them are one wait's
// polls and health reads.
func isWrite(action string) bool {
	_, op, _ := strings.Cut(action, ":")
	for _, prefix := range []string{"Create", "Update", "Delete", "Register", "Deregister", "Put", "Tag", "Untag"} {
		if strings.HasPrefix(op, prefix) {
			return true
		}
	}
	return false
}

// waitEnds keeps, of the read calls between two writes, the first and the last call of each
// action: a wait's polls and health reads repeat one code path, and its first and last calls are
// where a fault lands differently (before anything was seen, and on the poll that would have met
// the goal). Every write stays a fault point. The plain rollout's matrix keeps every call.
func waitEnds(points []faultPoint, calls []ecslocal.Call) []faultPoint {
	keep := make([]bool, len(points))
	first, last := map[string]int{}, map[string]int{}
	flush := func() {
		for _, i := range first {
			keep[i] = true
		}
		for _, i := range last {
			keep[i] = true
		}
		clear(first)
		clear(last)
	}
	for i, c := range calls {
		if isWrite(c.Action()) {
			flush()
			keep[i] = true
			continue
		}
		if _, ok := first[c.Action()]; !ok {
			first[c.Action()] = i
		}
		last[c.Action()] = i
	}
	flush()
	var out []faultPoint
	for i, p := range points {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out
}

// firedAt returns the calls of a run that failed with the injected code and whether the first
// is the fault point's call.
func (r *faultRun) firedAt(p faultPoint, code string) ([]ecslocal.Call, bool) {
	failed := r.failed(code)
	if len(failed) == 0 {
		return nil, false
	}
	n := 0
	for _, c := range r.rawCalls() {
		if c.Action() != p.action {
			continue
		}
		if n == p.skip {
			return failed, c.Seq == failed[0].Seq
		}
		n++
	}
	return failed, false
}

// matrixRef is the fault-free run of the matrix rollout, checked against what the rollout
// must do, with the view and the calls that every faulted run is compared with.
type matrixRef struct {
	run    *faultRun
	view   rolloutView
	all    []string // every call, polls included, as "action resource"
	steady []string // the calls that are not polls
	points []faultPoint
	// firstWrite is the position of the first write call.
	firstWrite int
}

// theRolloutsSteadyCalls are the fault-free plain rollout's calls other than polls, in order.
var theRolloutsSteadyCalls = []string{
	"ecs:DescribeClusters prod",
	"ecs:DescribeTaskDefinition web:2",
	// Production's auto scaling, read before any write.
	"application-autoscaling:DescribeScalableTargets service/prod/web__4",
	"application-autoscaling:DescribeScalingPolicies service/prod/web__4",
	"application-autoscaling:DescribeScheduledActions service/prod/web__4",
	"ecs:DeleteService web__1",                                           // pruning beyond retain_old_services = 2, before the rollout
	"ecs:TagResource " + serviceARN("web__4"),                            // the suspension it had: none
	"application-autoscaling:RegisterScalableTarget service/prod/web__4", // suspended
	"ecs:ListTasks web__4",                                               // learning how long tasks take to start
	"ecs:DescribeTasks prod",
	"ecs:CreateService web__7",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"application-autoscaling:RegisterScalableTarget service/prod/web__7",
	"application-autoscaling:PutScalingPolicy service/prod/web__7",
	"application-autoscaling:PutScheduledAction service/prod/web__7",
	"application-autoscaling:DeregisterScalableTarget service/prod/web__4",
	"ecs:UntagResource " + serviceARN("web__4"),
	"ecs:DeleteService web__2", // pruning again: web__4 is now a zero-count old service
}

// faultFreeRun runs the matrix rollout without a fault and checks it against what the rollout
// must do.
func faultFreeRun(t *testing.T, ro matrixRollout) *matrixRef {
	t.Helper()
	r := runRollout(t, ro, nil)
	if r.err != nil {
		t.Fatalf("the fault-free rollout failed: %v", r.err)
	}
	ref := &matrixRef{run: r, view: r.view(), all: callList(r.calls()), steady: steady(r.calls())}
	want := theRolloutsSteadyCalls
	got := ref.steady
	if ro.balanced {
		want, got = theBalancedRolloutsSteadyCalls, r.withoutHealthReads(t)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the fault-free rollout's calls other than polls and health reads:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if f := r.failed(""); len(f) > 0 {
		t.Fatalf("the fault-free rollout saw errors: %+v", f)
	}
	services := ro.historyServices()
	delete(services, "web__1")
	delete(services, "web__2")
	services[faultProd] = liveService{Owner: "prod/web", TaskDefinition: ro.prodTD}
	services[faultNew] = liveService{Desired: 8, Running: 8, Owner: "prod/web", TaskDefinition: ro.newTD}
	if !reflect.DeepEqual(ref.view.Services, services) {
		t.Fatalf("after the fault-free rollout: services %+v, want %+v", ref.view.Services, services)
	}
	if got := ref.view.Scaling; !reflect.DeepEqual(got, map[string]*scalingView{faultNew: matrixScaling}) {
		t.Fatalf("after the fault-free rollout: auto scaling %+v, want it on web__7 only", got)
	}
	if got, want := ref.view.Desired[faultNew], []int{0, 2, 4, 8}; !slices.Equal(got, want) {
		t.Fatalf("web__7 went through %v, want %v", got, want)
	}
	if len(ref.view.Warnings) > 0 || ref.run.rolledBack {
		t.Fatalf("the fault-free rollout warned %v (rolled back: %v)", ref.view.Warnings, ref.run.rolledBack)
	}
	r.checkCommon(&checker{t: t})
	ref.points = faultPoints(r.calls())
	if ro.balanced {
		ref.points = waitEnds(ref.points, r.calls())
	}
	ref.firstWrite = slices.IndexFunc(r.calls(), func(c ecslocal.Call) bool { return c.Write })
	t.Logf("the fault-free %s made %d calls, %d of them polls: %d fault points", ro.name, len(r.calls()), len(r.calls())-len(ref.steady), len(ref.points))
	return ref
}

// theBalancedRolloutsSteadyCalls are the fault-free load-balanced rollout's calls other than
// polls and health reads, in order: the plain rollout's, with preflight describing the target
// group after the task definition (DESIGN.md §7.7) and setup waiting for production to serve.
var theBalancedRolloutsSteadyCalls = []string{
	"ecs:DescribeClusters prod",
	"ecs:DescribeTaskDefinition " + tdBalanced2,
	"elasticloadbalancing:DescribeTargetGroups targetgroup/web",
	"application-autoscaling:DescribeScalableTargets service/prod/web__4",
	"application-autoscaling:DescribeScalingPolicies service/prod/web__4",
	"application-autoscaling:DescribeScheduledActions service/prod/web__4",
	// Setup waits for production to serve: learning its task definition's health checks, then
	// a health read (not listed).
	"ecs:DescribeTaskDefinition arn:aws:ecs:eu-west-1:000000000000:task-definition/" + tdBalanced1,
	"ecs:DeleteService web__1",
	"ecs:TagResource " + serviceARN("web__4"),
	"application-autoscaling:RegisterScalableTarget service/prod/web__4",
	// Learning how long tasks take to start reads no more: the health read listed and
	// described production's tasks already.
	"ecs:CreateService web__7",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"ecs:UpdateService web__7", "ecs:UpdateService web__4",
	"application-autoscaling:RegisterScalableTarget service/prod/web__7",
	"application-autoscaling:PutScalingPolicy service/prod/web__7",
	"application-autoscaling:PutScheduledAction service/prod/web__7",
	"application-autoscaling:DeregisterScalableTarget service/prod/web__4",
	"ecs:UntagResource " + serviceARN("web__4"),
	"ecs:DeleteService web__2",
}

// withoutHealthReads lists the calls of the load-balanced rollout other than polls and the health
// reads of its waits (DESIGN.md §7.5): after a poll (and after the DescribeTaskDefinition that
// learns its health checks, the first time), a ListTasks of the service's running tasks (none
// when the poll shows the task set unchanged since the last list), a DescribeTasks of the ones
// not seen before (none when all have been) and a DescribeTargetHealth of the target group. On the way it checks where health is read: in setup, before the first
// write, of production web__4 (setup waits for production to serve), and after each scale-up
// of web__7, of web__7; after no other write.
func (r *faultRun) withoutHealthReads(t *testing.T) []string {
	t.Helper()
	calls := r.calls()
	type segment struct {
		after string   // the write the segment follows, "setup" before the first
		of    []string // the services whose health it read, once per read
	}
	segs := []*segment{{after: "setup"}}
	var out []string
	for i := 0; i < len(calls); i++ {
		c := calls[i]
		afterPoll := i > 0 && calls[i-1].Action() == pollAction ||
			i > 1 && calls[i-1].Action() == "ecs:DescribeTaskDefinition" && calls[i-2].Action() == pollAction
		switch {
		case c.Action() == pollAction:
			continue
		case afterPoll && (c.Action() == "ecs:ListTasks" || c.Action() == "ecs:DescribeTasks" ||
			c.Action() == "elasticloadbalancing:DescribeTargetHealth" && c.Resource == r.tg):
			// The read is of the listed service, or without a list of the service polled.
			of := calls[i-1].Resource
			if calls[i-1].Action() != pollAction {
				of = calls[i-2].Resource
			}
			j := i
			if calls[j].Action() == "ecs:ListTasks" {
				of = calls[j].Resource
				j++
			}
			if j < len(calls) && calls[j].Action() == "ecs:DescribeTasks" {
				j++
			}
			if j >= len(calls) || calls[j].Action() != "elasticloadbalancing:DescribeTargetHealth" || calls[j].Resource != r.tg {
				t.Fatalf("call %d begins a health read that does not end with a DescribeTargetHealth of the target group: %v", i, callList(calls[i:min(j+1, len(calls))]))
			}
			segs[len(segs)-1].of = append(segs[len(segs)-1].of, of)
			i = j
			continue
		case c.Write:
			segs = append(segs, &segment{after: callString(c)})
		}
		out = append(out, callString(c))
	}
	for _, sg := range segs {
		want := map[string]string{"setup": faultProd, "ecs:UpdateService " + faultNew: faultNew}[sg.after]
		switch {
		case want == "" && len(sg.of) > 0:
			t.Errorf("target health read after %s, which waits for no service to grow: %v", sg.after, sg.of)
		case want != "" && len(sg.of) == 0:
			t.Errorf("no target health read after %s, whose wait is for %s to serve", sg.after, want)
		case want != "" && slices.ContainsFunc(sg.of, func(s string) bool { return s != want }):
			t.Errorf("after %s, the health of %v was read; the wait is for %s to serve", sg.after, sg.of, want)
		}
	}
	return out
}

// matrixTally counts a matrix's runs, faults and checks for its closing report.
type matrixTally struct {
	mu        sync.Mutex
	runs      int
	faulted   int // runs in which the injected fault hit
	failed    int // calls that failed because of a fault
	transport int // SDK retries of calls whose response was lost in the transport
	checks    int
	outcomes  map[string]int
}

func (m *matrixTally) add(r *faultRun, fired bool, failed int, c *checker, outcome string) {
	_, transport := r.retries()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs++
	m.transport += len(transport)
	if fired {
		m.faulted++
	}
	m.failed += failed
	m.checks += c.checks
	if m.outcomes == nil {
		m.outcomes = map[string]int{}
	}
	m.outcomes[outcome]++
}

func (m *matrixTally) report(t *testing.T, what string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(m.outcomes)) {
		kinds = append(kinds, fmt.Sprintf("%d %s", m.outcomes[k], k))
	}
	t.Logf("%s: %d runs, %d with the fault hit (%d failed calls); %d invariant checks; %d SDK retries of lost responses; outcomes: %s",
		what, m.runs, m.faulted, m.failed, m.checks, m.transport, strings.Join(kinds, ", "))
}

// runAll runs one subtest per fault point and kind, matrixWorkers at a time. Subtests that call
// t.Parallel would run at most -parallel (GOMAXPROCS) at a time; these mostly wait.
func runAll[K any](t *testing.T, points []faultPoint, kinds []K, name func(K, faultPoint) string, run func(*testing.T, K, faultPoint)) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, matrixWorkers)
	for _, k := range kinds {
		for _, p := range points {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				t.Run(name(k, p), func(t *testing.T) { run(t, k, p) })
			})
		}
	}
	wg.Wait()
}

// transientFault is an error the SDK retries.
type transientFault struct {
	code, message string
	status        int
}

// TestTransientFaultMatrix checks that an error the SDK retries costs a rollout nothing, at
// whichever call it comes: at each call of the rollout in turn, ecslocal fails the call once with a retryable error, a ThrottlingException in one
// pass and an HTTP 503 in the other (Elastic Load Balancing spells the first Throttling). The
// SDK retries it; the rollout must succeed without a rollback and leave exactly what the
// fault-free run left, the plain rollout and the load-balanced one alike.
func TestTransientFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, ro := range matrixRollouts {
		t.Run(ro.name, func(t *testing.T) {
			t.Parallel()
			transientFaultMatrix(t, ro)
		})
	}
}

func transientFaultMatrix(t *testing.T, ro matrixRollout) {
	ref := faultFreeRun(t, ro)
	kinds := []transientFault{
		{code: "ThrottlingException", message: "Rate exceeded", status: 400},
		{code: "ServiceUnavailableException", message: "Service Unavailable", status: 503},
	}
	tally := &matrixTally{}
	runAll(t, ref.points, kinds,
		func(k transientFault, p faultPoint) string { return fmt.Sprintf("%s at %s", k.code, p) },
		func(t *testing.T, k transientFault, p faultPoint) {
			r := runRollout(t, ro, &ecslocal.Fault{Operation: p.action, Skip: p.skip, Count: 1, Code: k.code, Message: k.message, Status: k.status})
			code := servedCode(p.action, k.code)
			defer func() {
				if t.Failed() {
					r.e.logSteps()
				}
			}()
			c := &checker{t: t}
			failed, atPoint := r.firedAt(p, code)
			fired := len(failed) > 0
			c.check(fired, "the fault at %s never hit", p)
			c.check(len(r.failed("")) == 1 && atPoint, "failed calls %+v, want one %s at %s", r.failed(""), code, p)
			c.check(slices.Equal(r.faultRetries(), []string{p.action}), "SDK retries of failed calls %v, want one of %s", r.faultRetries(), p.action)
			c.check(r.err == nil, "the rollout failed: %v", r.err)
			c.check(!r.rolledBack, "the rollout rolled back")
			got := r.view()
			c.check(reflect.DeepEqual(got, ref.view), "the run left\n  %+v\nthe fault-free run left\n  %+v", got, ref.view)
			// The SDK's retry takes real time but no virtual time: the engine makes every call
			// of the fault-free run, polls included, and no other.
			c.check(slices.Equal(callList(r.calls()), ref.all), "calls\n  %s\nwant\n  %s",
				strings.Join(callList(r.calls()), "\n  "), strings.Join(ref.all, "\n  "))
			r.checkCommon(c)
			tally.add(r, fired, len(failed), c, "succeeded without rollback, as the fault-free run")
		})
	tally.report(t, "transient fault matrix, "+ro.name)
}

// Outcomes of a run with a persistent fault.
const (
	outcomeCleanupWarning = "succeeded; the failed call was optional and is a warning"
	outcomeRolledBack     = "rolled back completely: old at P, new at 0"
	outcomeRejected       = "failed before any write"
	outcomeSetupFailed    = "failed in setup before the new revision existed; production untouched"
)

// persistentOutcome is the outcome a persistent fault at each operation must have after the
// rollout's first write (matrixRef.wantOutcome). A fault on a DescribeServices poll during a
// phase rolls back.
var persistentOutcome = map[string]string{
	"ecs:DescribeClusters":                             outcomeRejected,
	"ecs:DescribeTaskDefinition":                       outcomeRejected,
	"elasticloadbalancing:DescribeTargetGroups":        outcomeRejected,
	"ecs:DeleteService":                                outcomeCleanupWarning,
	"ecs:TagResource":                                  outcomeSetupFailed,
	"application-autoscaling:DeregisterScalableTarget": outcomeCleanupWarning,
	"ecs:UntagResource":                                outcomeCleanupWarning,
	"application-autoscaling:PutScheduledAction":       outcomeRolledBack,
	"ecs:ListTasks":                                    outcomeCleanupWarning,
	"ecs:DescribeTasks":                                outcomeCleanupWarning,
	"ecs:CreateService":                                outcomeSetupFailed,
	"ecs:UpdateService":                                outcomeRolledBack,
	"application-autoscaling:RegisterScalableTarget":   outcomeRolledBack,
	"application-autoscaling:PutScalingPolicy":         outcomeRolledBack,
	"elasticloadbalancing:DescribeTargetHealth":        outcomeRolledBack,
}

// wantOutcome is the outcome of a persistent fault at p. Every call before the rollout's first
// write is needed, so that a fault there fails the run before any write: preflight, discovery
// and, behind a load balancer, setup's wait for production to serve. In the load-balanced
// rollout, the later ListTasks, DescribeTasks and DescribeTaskDefinition calls read health too: a
// fault that begins at the start time estimate goes on to fail the first health read of phase 1,
// which fails the phase (DESIGN.md §7.5) and rolls back.
func (ref *matrixRef) wantOutcome(p faultPoint) string {
	switch {
	case p.index < ref.firstWrite:
		return outcomeRejected
	case p.action == pollAction:
		return outcomeRolledBack
	case ref.run.ro.balanced && (p.action == "ecs:ListTasks" || p.action == "ecs:DescribeTasks" || p.action == "ecs:DescribeTaskDefinition"):
		return outcomeRolledBack
	case ref.all[p.index] == "application-autoscaling:RegisterScalableTarget service/prod/"+faultProd:
		// Suspending production's auto scaling, before the new revision exists.
		return outcomeSetupFailed
	}
	return persistentOutcome[p.action]
}

// servedCode is the error code with which ecslocal answers an injected fault: Elastic Load
// Balancing's query protocol spells AccessDeniedException and ThrottlingException as
// AccessDenied and Throttling, as AWS does.
func servedCode(action, code string) string {
	if strings.HasPrefix(action, "elasticloadbalancing:") {
		switch code {
		case "AccessDeniedException":
			return "AccessDenied"
		case "ThrottlingException":
			return "Throttling"
		}
	}
	return code
}

// TestPersistentFaultMatrix checks how a rollout ends when one of its calls keeps failing
// (DESIGN.md §13.2): at each call of the rollout in turn, ecslocal fails that call and every later call of its operation with an error the SDK
// does not retry, a ClientException in one pass and an AccessDeniedException in the other,
// until the rollback begins. Each run must end in one of these ways, and which one is fixed by
// the call that failed:
//   - it succeeds, because the failed call was optional (pruning, the start time estimate),
//     and Result.Warnings names the failed call;
//   - it rolls back completely: the old service at P with its auto scaling, the new one at 0,
//     and the RolloutError names the failed call;
//   - preflight, discovery or setup's wait for production to serve fails before any write,
//     and the error names the failed call;
//   - setup fails before the new revision exists, after nothing but pruning and taking auto
//     scaling off production (which is put back): production is untouched.
//
// In every run capacity never dips and no foreign service is written; in the load-balanced
// rollout's runs, the load balancer's healthy targets never drop below P either.
func TestPersistentFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, ro := range matrixRollouts {
		t.Run(ro.name, func(t *testing.T) {
			t.Parallel()
			persistentFaultMatrix(t, ro)
		})
	}
}

func persistentFaultMatrix(t *testing.T, ro matrixRollout) {
	ref := faultFreeRun(t, ro)
	codes := []string{"ClientException", "AccessDeniedException"}
	tally := &matrixTally{}
	runAll(t, ref.points, codes,
		func(code string, p faultPoint) string { return fmt.Sprintf("%s from %s on", code, p) },
		func(t *testing.T, injected string, p faultPoint) {
			// The message does not name the operation: the error must, by itself.
			r := runRollout(t, ro, &ecslocal.Fault{Operation: p.action, Skip: p.skip, Count: -1, Code: injected, Message: "Injected persistent fault."})
			code := servedCode(p.action, injected)
			defer func() {
				if t.Failed() {
					r.e.logSteps()
				}
			}()
			c := &checker{t: t}
			failed, atPoint := r.firedAt(p, code)
			fired := len(failed) > 0
			if !fired {
				t.Fatalf("the fault at %s never hit", p)
			}
			c.check(atPoint, "the first failed call is %+v, want the one at %s", failed[0], p)
			for _, f := range failed {
				c.check(f.Action() == p.action && f.ErrorCode == code, "failed call %+v, want only %s failing with %s", f, p.action, code)
			}
			c.check(len(r.faultRetries()) == 0, "the SDK retried %v; %s is not retryable", r.faultRetries(), code)
			// Until the fault, the run made exactly the fault-free run's calls.
			before := callList(r.calls())[:min(p.index, len(r.calls()))]
			c.check(slices.Equal(before, ref.all[:p.index]), "calls before the fault\n  %s\nwant\n  %s",
				strings.Join(before, "\n  "), strings.Join(ref.all[:p.index], "\n  "))
			outcome := ref.wantOutcome(p)
			switch outcome {
			case outcomeCleanupWarning:
				r.checkWarnedSuccess(c, ref, failed)
			case outcomeRolledBack:
				r.checkRolledBack(c, p, code)
			case outcomeRejected:
				r.checkRejected(c, p, code)
			case outcomeSetupFailed:
				r.checkSetupFailed(c, p, code)
			default:
				t.Fatalf("no outcome is known for %s", p)
			}
			r.checkCommon(c)
			tally.add(r, fired, len(failed), c, outcome)
		})
	tally.report(t, "persistent fault matrix, "+ro.name)
	for _, o := range []string{outcomeCleanupWarning, outcomeRolledBack, outcomeRejected, outcomeSetupFailed} {
		if tally.outcomes[o] == 0 {
			t.Errorf("no run ended with the outcome %q", o)
		}
	}
}

// checkWarnedSuccess checks a run whose only failed calls were optional: it deployed web__7
// as the fault-free run did, and each failed call is named in a warning.
func (r *faultRun) checkWarnedSuccess(c *checker, ref *matrixRef, failed []ecslocal.Call) {
	c.t.Helper()
	c.check(r.err == nil, "the rollout failed: %v", r.err)
	if r.err != nil {
		return
	}
	c.check(!r.rolledBack, "the rollout rolled back")
	got := r.view()
	c.check(got.State == ref.view.State && got.Rollout == ref.view.Rollout, "saved %s %s, want %s %s", got.State, got.Rollout, ref.view.State, ref.view.Rollout)
	// When the old production service's target could not be deregistered, it stays there,
	// suspended, on a service at 0 tasks (DESIGN.md §5.5).
	wantScaling := maps.Clone(ref.view.Scaling)
	if slices.ContainsFunc(failed, func(f ecslocal.Call) bool { return f.Action() == "application-autoscaling:DeregisterScalableTarget" }) {
		kept := *matrixScaling
		kept.Suspended = "in out scheduled"
		wantScaling[faultProd] = &kept
	}
	c.check(reflect.DeepEqual(got.Scaling, wantScaling) && reflect.DeepEqual(got.Desired, ref.view.Desired),
		"auto scaling %s and desired counts %v, want %s and %v", scalingString(got.Scaling), got.Desired, scalingString(wantScaling), ref.view.Desired)
	// The services the fault-free run has, and the old ones whose deletion failed, at 0.
	want := maps.Clone(ref.view.Services)
	for _, f := range failed {
		if f.Action() == "ecs:DeleteService" {
			want[f.Resource] = r.ro.historyServices()[f.Resource]
		}
	}
	c.check(reflect.DeepEqual(got.Services, want), "services %+v, want %+v", got.Services, want)
	for _, f := range failed {
		_, op, _ := strings.Cut(f.Action(), ":")
		c.check(slices.ContainsFunc(got.Warnings, func(w string) bool { return strings.Contains(w, op) && strings.Contains(w, f.ErrorCode) }),
			"no warning names the failed %s %s: %q", f.Action(), f.Resource, got.Warnings)
	}
}

// checkRolledBack checks a complete rollback (DESIGN.md §8): web__4 back at P = 8 with its auto
// scaling, web__7 at 0 without any, state as before but for the new highest revision and
// last_rollout, and an error that names the failed call.
func (r *faultRun) checkRolledBack(c *checker, p faultPoint, code string) {
	c.t.Helper()
	var re *deploy.RolloutError
	c.check(errors.As(r.err, &re), "error %v (%T), want a *deploy.RolloutError", r.err, r.err)
	if re == nil {
		return
	}
	c.check(r.rolledBack, "no rollback began")
	c.check(re.RolledBack && re.RollbackErr == nil, "the rollback did not complete: %v", re.RollbackErr)
	c.check(re.Production == "web__4 at 8 tasks", "production now %q, want web__4 at 8 tasks", re.Production)
	c.check(len(re.RollbackSteps) > 0 && strings.HasPrefix(re.RollbackSteps[len(re.RollbackSteps)-1], "auto scaling (2–10) of web__4 resumed") &&
		slices.Contains(re.RollbackSteps, "R1: web__4 at 8 tasks, web__7 at 0"), "rollback steps %q", re.RollbackSteps)
	r.checkNamesCall(c, p, code)
	services := r.e.services()
	c.check(services[faultProd] == liveService{Desired: 8, Running: 8, Owner: "prod/web", TaskDefinition: r.ro.prodTD} &&
		services[faultNew] == liveService{Owner: "prod/web", TaskDefinition: r.ro.newTD}, "after the rollback %s is %+v and %s %+v, want 8/8 and 0/0",
		faultProd, services[faultProd], faultNew, services[faultNew])
	c.check(reflect.DeepEqual(r.e.scaling(faultProd), matrixScaling) && r.e.scaling(faultNew) == nil,
		"auto scaling %+v on web__4 and %+v on web__7, want %+v on web__4 only", r.e.scaling(faultProd), r.e.scaling(faultNew), matrixScaling)
	res := r.res
	c.check(res != nil, "no result after a rolled-back update; state must be saved")
	if res == nil {
		return
	}
	c.check(reflect.DeepEqual(res.Current, r.prior.Current) && reflect.DeepEqual(res.Previous, r.prior.Previous) && reflect.DeepEqual(res.AutoScaling, r.prior.AutoScaling),
		"current %+v previous %+v, want them unchanged", res.Current, res.Previous)
	c.check(res.HighestRevision == 7 && res.Rollout != nil && res.Rollout.Status == deploy.RolloutRolledBack && res.Rollout.Revision == 7 && strings.Contains(res.Rollout.Reason, p.operation()),
		"highest revision %d, last rollout %+v; want revision 7 rolled back naming %s", res.HighestRevision, res.Rollout, p.operation())
}

// checkNamesCall checks that the run's error names the failed operation and its error code.
func (r *faultRun) checkNamesCall(c *checker, p faultPoint, code string) {
	c.t.Helper()
	msg := r.err.Error()
	c.check(strings.Contains(msg, p.operation()) && strings.Contains(msg, code), "the error does not name the failed %s (%s):\n%s", p.operation(), code, msg)
}

// checkFailedEarly checks what a run that failed before its rollout began shows: an error
// that names the failed call, no result to save, no rollback. It reports whether there was an
// error to check further.
func (r *faultRun) checkFailedEarly(c *checker, p faultPoint, code string) bool {
	c.t.Helper()
	c.check(r.err != nil && r.res == nil, "result %+v error %v, want an error and no result", r.res, r.err)
	if r.err == nil {
		return false
	}
	c.check(!r.rolledBack, "a rollback began")
	r.checkNamesCall(c, p, code)
	return true
}

// checkRejected checks a run that failed before any write: preflight or discovery.
func (r *faultRun) checkRejected(c *checker, p faultPoint, code string) {
	c.t.Helper()
	if !r.checkFailedEarly(c, p, code) {
		return
	}
	c.check(len(r.writes()) == 0, "write calls before the error: %v", r.writes())
	c.check(reflect.DeepEqual(r.e.services(), r.ro.historyServices()), "services %+v, want them as before", r.e.services())
	c.check(reflect.DeepEqual(r.e.scaling(faultProd), matrixScaling), "auto scaling of web__4 %+v, want %+v", r.e.scaling(faultProd), matrixScaling)
}

// checkSetupFailed checks a run that failed in setup, before the new revision was created:
// its only writes were pruning web__1 and taking auto scaling off production, which is back.
func (r *faultRun) checkSetupFailed(c *checker, p faultPoint, code string) {
	c.t.Helper()
	if !r.checkFailedEarly(c, p, code) {
		return
	}
	// Pruning, production's auto scaling suspended (the tag that records how it was, the
	// suspension) and resumed as it was (the target registered again, the tag removed).
	allowed := []string{
		"ecs:DeleteService web__1",
		"ecs:TagResource " + serviceARN(faultProd),
		"application-autoscaling:RegisterScalableTarget service/prod/web__4",
		"ecs:UntagResource " + serviceARN(faultProd),
		"ecs:CreateService web__7", // only when it failed: web__7 must not exist
	}
	for _, w := range r.writes() {
		c.check(slices.Contains(allowed, w), "write call %s in a setup that failed", w)
	}
	want := r.ro.historyServices()
	delete(want, "web__1")
	c.check(reflect.DeepEqual(r.e.services(), want), "services %+v, want %+v", r.e.services(), want)
	c.check(slices.Equal(r.e.desiredChanges(r.m, faultProd), []int{8}), "web__4 went through %v, want [8]", r.e.desiredChanges(r.m, faultProd))
	c.check(reflect.DeepEqual(r.e.scaling(faultProd), matrixScaling), "auto scaling of web__4 %+v, want %+v back", r.e.scaling(faultProd), matrixScaling)
	tag, tagged := r.e.tags(faultProd)[deploy.SuspendedTag]
	c.check(!tagged, "web__4 still carries %s = %q", deploy.SuspendedTag, tag)
}

// TestLiveChecksTouchNoService covers the checks apply makes before any write (DESIGN.md §12.2)
// over a
// deployment with production running, auto scaling on and foreign services around: input that
// cannot be deployed is reported by preflight, whose only calls are DescribeClusters and
// DescribeTaskDefinition, so no service is even described, let alone written.
func TestLiveChecksTouchNoService(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		field string
		// arrange changes the rollout's configuration into the bad input, through the SDK where
		// it needs to, and returns the value the error must quote.
		arrange func(e *env, cfg *deploy.Config, st deploy.State) string
	}{
		{"a cluster that does not exist", "cluster", func(_ *env, cfg *deploy.Config, _ deploy.State) string {
			cfg.Cluster = "staging"
			return cfg.Cluster
		}},
		{"a cluster ARN that does not exist", "cluster", func(_ *env, cfg *deploy.Config, _ deploy.State) string {
			cfg.Cluster = "arn:aws:ecs:eu-west-1:000000000000:cluster/staging"
			return cfg.Cluster
		}},
		{"a task definition that does not exist", "task_definition", func(_ *env, cfg *deploy.Config, _ deploy.State) string {
			cfg.TaskDefinition = "web:99"
			return cfg.TaskDefinition
		}},
		{"a task definition ARN that does not exist", "task_definition", func(_ *env, cfg *deploy.Config, st deploy.State) string {
			cfg.TaskDefinition = strings.TrimSuffix(st.Current.TaskDefinition, ":1") + ":99"
			return cfg.TaskDefinition
		}},
		{"an INACTIVE task definition", "task_definition", func(e *env, cfg *deploy.Config, _ deploy.State) string {
			if _, err := e.ecs.DeregisterTaskDefinition(context.Background(), &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(tdHealthy2)}); err != nil {
				e.t.Fatal(err)
			}
			return "INACTIVE"
		}},
		{"a task definition of another family", "task_definition", func(e *env, cfg *deploy.Config, _ deploy.State) string {
			out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("api"), ContainerDefinitions: containers("healthy"),
			})
			if err != nil {
				e.t.Fatal(err)
			}
			cfg.TaskDefinition = fmt.Sprintf("api:%d", out.TaskDefinition.Revision)
			return `family "api"`
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is rejected before any service is touched", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			cfg := plainRollout.config("")
			quoted := tc.arrange(e, &cfg, st)
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, st)
			var ie *deploy.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("error %v (%T), want a *deploy.InputError on %s", err, err, tc.field)
			}
			if !strings.Contains(err.Error(), quoted) {
				t.Errorf("the error does not quote %s: %v", quoted, err)
			}
			if res != nil {
				t.Errorf("result %+v, want nil", res)
			}
			counts := e.countsSince(m)
			for _, c := range e.callsSince(m) {
				if a := c.Action(); a != "ecs:DescribeClusters" && a != "ecs:DescribeTaskDefinition" {
					t.Errorf("call %s %s before the error; preflight calls only DescribeClusters and DescribeTaskDefinition", a, c.Resource)
				}
			}
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("write calls before the error: %v", w)
			}
			if got := e.services(); !reflect.DeepEqual(got, historyServices()) {
				t.Errorf("services %+v, want them untouched: %+v", got, historyServices())
			}
			if got := e.scaling(faultProd); !reflect.DeepEqual(got, historyScaling) {
				t.Errorf("auto scaling of web__4 %+v, want %+v", got, historyScaling)
			}
			t.Logf("%v; calls: %v", err, counts)
		})
	}
}

// scalingString prints the auto scaling of services by value.
func scalingString(m map[string]*scalingView) string {
	b, _ := stdjson.Marshal(m)
	return string(b)
}
