package deploy_test

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// How long ecslocal's tasks take to start and to stop. Most tests run in virtual time, where
// these cost nothing; the few real-time tests need them small enough to be fast and large
// enough that waits really wait.
const (
	startDelay = 40 * time.Millisecond
	stopDelay  = 20 * time.Millisecond
)

// epoch is when a virtual-time test begins.
var epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// env is an engine wired through real SDK clients to an in-process ecslocal.
type env struct {
	t   *testing.T
	srv *ecslocal.Server
	// clock is the virtual time that ecslocal and the engine share: the engine's waits move
	// it forward, and ecslocal's tasks start and stop in it. It is nil in a real-time env.
	clock *ecslocal.FakeClock
	ecs   *ecs.Client
	aas   *applicationautoscaling.Client
	elb   *elbv2.Client
	cw    *cloudwatch.Client
	eng   *deploy.Engine
	log   *recLog

	mu   sync.Mutex
	kill *killPoint // set: the deploying process "dies" at this point
	// hold, when set and true for a call ecslocal has just served, keeps that call's response
	// back until the client gives up on it: the call took effect, but its caller never learns.
	hold func(ecslocal.Call) bool
	// retried holds the sequence numbers of calls that were the SDK's own retry attempts of a
	// call the engine made once (the amz-sdk-request header says attempt=2 or more).
	retried map[int64]bool
}

// killPoint is where a simulated process death happens: once the call log holds writes write
// calls after call index from, every further request fails as if the process were gone, and
// die ends the dead process's context.
type killPoint struct {
	from, writes int
	die          context.CancelFunc
}

// recLog records the engine's log lines.
type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+msg)
}
func (l *recLog) Info(_ context.Context, msg string, _ map[string]any)  { l.add("INFO", msg) }
func (l *recLog) Debug(_ context.Context, msg string, _ map[string]any) { l.add("DEBUG", msg) }
func (l *recLog) Warn(_ context.Context, msg string, _ map[string]any)  { l.add("WARN", msg) }

func (l *recLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// newEnv starts an in-process ecslocal in virtual time behind a thin HTTP layer of the test's
// own, which can make the deploying process die (killAfterWrites), hold a response back until
// its caller gives up (holdResponse), and notes the SDK's retry attempts so that call counts
// are the engine's. The engine and ecslocal share one ecslocal.FakeClock: time moves only when
// the engine sleeps, by exactly what it asked for, so a run takes no real time waiting and
// makes the same calls at the same virtual instants every time.
func newEnv(t *testing.T) *env {
	t.Helper()
	return startEnv(t, ecslocal.NewFakeClock(epoch))
}

// newRealTimeEnv is newEnv on the wall clock, for the tests whose point is how the engine
// behaves in real time: real sleeps, a cancel that arrives from outside while it sleeps.
func newRealTimeEnv(t *testing.T) *env {
	t.Helper()
	return startEnv(t, nil)
}

// newEnvWith is newEnv with ecslocal's options changed by each of with: AWS behaviours that are
// off by default, such as a fresh account.
func newEnvWith(t *testing.T, with ...func(*ecslocal.Options)) *env {
	t.Helper()
	return startEnv(t, ecslocal.NewFakeClock(epoch), with...)
}

// startEnv starts an env on clock, or on the wall clock when clock is nil.
func startEnv(t *testing.T, clock *ecslocal.FakeClock, with ...func(*ecslocal.Options)) *env {
	t.Helper()
	opts := ecslocal.Options{StartDelay: startDelay, StopDelay: stopDelay}
	if clock != nil {
		opts.Clock = clock
	}
	for _, w := range with {
		w(&opts)
	}
	srv := ecslocal.New(opts)
	e := &env{t: t, srv: srv, clock: clock, log: &recLog{}, retried: map[int64]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.dead() {
			// What a process that died sends: nothing reaches ECS any more. A 400 is not
			// retried by the SDK, so the dead run's goroutine ends at once.
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-ErrorType", "ProcessKilled")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ProcessKilled","message":"the deploying process was killed"}`)
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		last := lastCall(srv)
		e.mu.Lock()
		hold, kp := e.hold, e.kill
		if sdkRetry(r) {
			e.retried[last.Seq] = true
		}
		e.mu.Unlock()
		switch {
		case kp != nil && e.dead():
			// The process dies right after this call took effect. Ending its context stops
			// its sleeps at once; whatever it tries next cannot get through.
			kp.die()
		case hold != nil && hold(last):
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	e.ecs = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.aas = applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.elb = elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.cw = cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	e.eng = &deploy.Engine{ECS: e.ecs, AutoScaling: e.aas, ELB: e.elb, CloudWatch: e.cw, Log: e.log, Poll: testPoll}
	if clock != nil {
		e.eng.Clock = clock
	}
	td := func(label string) json {
		return json(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	if err := srv.ApplySeed(ecslocal.Seed{
		Clusters: []string{"prod"},
		TaskDefinitions: []json{
			td("healthy"), td("healthy"), td("crash-on-start"), td("crash-after=150ms"), td("slow-start=2s"), td("healthy"),
		},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

type json = stdjson.RawMessage

// testPoll is the engine's polling in these tests.
var testPoll = deploy.PollConfig{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}

// now is the env's current time: virtual, or the wall clock's in a real-time env.
func (e *env) now() time.Time {
	if e.clock == nil {
		return time.Now()
	}
	return e.clock.Now()
}

// await lets time pass, step at a time and at most 5 s, until cond holds: in virtual time by
// moving the clock, in real time by sleeping.
func (e *env) await(step time.Duration, what string, cond func() bool) {
	e.t.Helper()
	for deadline := e.now().Add(5 * time.Second); !cond(); {
		if e.now().After(deadline) {
			e.t.Fatalf("%s did not happen within 5s", what)
		}
		if e.clock != nil {
			e.clock.Advance(step)
		} else {
			time.Sleep(step)
		}
	}
}

// Task definitions seeded by newEnv.
const (
	tdHealthy1   = "web:1"
	tdHealthy2   = "web:2"
	tdCrash      = "web:3"
	tdCrashAfter = "web:4"
	tdSlowStart  = "web:5"
	tdHealthy6   = "web:6"
)

func baseConfig(td string, desired int) deploy.Config {
	return deploy.Config{
		Cluster: "prod", Name: "web", DeploymentID: "prod/web", TaskDefinition: td,
		DesiredCount: &desired, RetainOldServices: 3, SteadyStateTimeout: 5 * time.Second,
		Phases: []deploy.Phase{{Percent: 25}, {Percent: 50}, {Percent: 100}},
	}
}

// registerTD registers a task definition of family web with an ecslocal behavior through the
// SDK and returns it as family:revision.
func (e *env) registerTD(behavior string) string {
	e.t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), ContainerDefinitions: containers(behavior),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// containers is a task definition's one container with an ecslocal behavior.
func containers(behavior string) []types.ContainerDefinition {
	return []types.ContainerDefinition{{
		Name: aws.String("web"), Image: aws.String("nginx"),
		DockerLabels: map[string]string{"ecslocal.behavior": behavior},
	}}
}

func ecsTag(key, value string) types.Tag {
	return types.Tag{Key: aws.String(key), Value: aws.String(value)}
}

// mustDeploy runs a deployment that the test needs to succeed as its starting point.
func (e *env) mustDeploy(cfg deploy.Config, st deploy.State) deploy.State {
	e.t.Helper()
	res, err := e.eng.Deploy(context.Background(), cfg, st)
	if err != nil {
		e.t.Fatalf("deploying %s: %v", cfg.TaskDefinition, err)
	}
	return res.State
}

// live returns desired/running of each named ACTIVE service.
func (e *env) live(names ...string) map[string][2]int {
	e.t.Helper()
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: names})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string][2]int{}
	for _, s := range out.Services {
		if aws.ToString(s.Status) == "ACTIVE" {
			m[*s.ServiceName] = [2]int{int(s.DesiredCount), int(s.RunningCount)}
		}
	}
	return m
}

// liveService is one ACTIVE service of the cluster as the SDK reports it.
type liveService struct {
	Desired, Running int
	Owner            string // the ownership tag's value, "" without it
	TaskDefinition   string // family:revision
}

// services lists every ACTIVE service of the cluster through ListServices and DescribeServices.
func (e *env) services() map[string]liveService {
	e.t.Helper()
	ctx := context.Background()
	var names []string
	p := ecs.NewListServicesPaginator(e.ecs, &ecs.ListServicesInput{Cluster: aws.String("prod")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, arn := range page.ServiceArns {
			names = append(names, arn[strings.LastIndex(arn, "/")+1:])
		}
	}
	m := map[string]liveService{}
	for batch := range slices.Chunk(names, 10) {
		out, err := e.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: batch, Include: []types.ServiceField{types.ServiceFieldTags},
		})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range out.Services {
			if aws.ToString(s.Status) != "ACTIVE" {
				continue
			}
			ls := liveService{Desired: int(s.DesiredCount), Running: int(s.RunningCount), TaskDefinition: deploy.FamilyRevision(aws.ToString(s.TaskDefinition))}
			for _, tg := range s.Tags {
				if aws.ToString(tg.Key) == deploy.OwnerTag {
					ls.Owner = aws.ToString(tg.Value)
				}
			}
			m[aws.ToString(s.ServiceName)] = ls
		}
	}
	return m
}

// scalingView is a service's scalable target and policies as Application Auto Scaling reports
// them.
type scalingView struct {
	Min, Max  int
	Policies  []string // "name metric target"
	Scheduled []string // "name schedule min–max", nil for none
	Suspended string   // "in out scheduled", the suspended kinds; "" for none
}

// scaling returns the service's scalable target and policies, or nil when it has none.
func (e *env) scaling(service string) *scalingView {
	e.t.Helper()
	ctx := context.Background()
	id := "service/prod/" + service
	out, err := e.aas.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{id},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(out.ScalableTargets) == 0 {
		return nil
	}
	tg := out.ScalableTargets[0]
	v := &scalingView{Min: int(aws.ToInt32(tg.MinCapacity)), Max: int(aws.ToInt32(tg.MaxCapacity))}
	if ss := tg.SuspendedState; ss != nil {
		var kinds []string
		for _, k := range []struct {
			name string
			on   *bool
		}{{"in", ss.DynamicScalingInSuspended}, {"out", ss.DynamicScalingOutSuspended}, {"scheduled", ss.ScheduledScalingSuspended}} {
			if aws.ToBool(k.on) {
				kinds = append(kinds, k.name)
			}
		}
		v.Suspended = strings.Join(kinds, " ")
	}
	sched, err := e.aas.DescribeScheduledActions(ctx, &applicationautoscaling.DescribeScheduledActionsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range sched.ScheduledActions {
		desc := aws.ToString(a.ScheduledActionName) + " " + aws.ToString(a.Schedule)
		if act := a.ScalableTargetAction; act != nil {
			desc += fmt.Sprintf(" %d–%d", aws.ToInt32(act.MinCapacity), aws.ToInt32(act.MaxCapacity))
		}
		v.Scheduled = append(v.Scheduled, desc)
	}
	slices.Sort(v.Scheduled)
	pol, err := e.aas.DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range pol.ScalingPolicies {
		tt := p.TargetTrackingScalingPolicyConfiguration
		desc := aws.ToString(p.PolicyName)
		switch {
		case tt != nil && tt.PredefinedMetricSpecification != nil:
			desc += fmt.Sprintf(" %s %g", tt.PredefinedMetricSpecification.PredefinedMetricType, aws.ToFloat64(tt.TargetValue))
		case tt != nil && tt.CustomizedMetricSpecification != nil:
			cm := tt.CustomizedMetricSpecification
			desc += fmt.Sprintf(" %s/%s", aws.ToString(cm.Namespace), aws.ToString(cm.MetricName))
			for _, d := range cm.Dimensions {
				desc += fmt.Sprintf(" %s=%s", aws.ToString(d.Name), aws.ToString(d.Value))
			}
			desc += fmt.Sprintf(" %g", aws.ToFloat64(tt.TargetValue))
		default:
			desc += " " + string(p.PolicyType)
		}
		v.Policies = append(v.Policies, desc)
	}
	slices.Sort(v.Policies)
	return v
}

// mark is a point in ecslocal's timeline and call log, to look only at what follows.
type mark struct {
	timeline, calls int
}

func (e *env) mark() mark {
	return mark{timeline: len(e.srv.Timeline()), calls: len(e.srv.Calls())}
}

// callsSince returns the calls made after m, as the engine made them: an SDK retry of a call
// (the SDK sends a request again when the connection fails under it, as it may when a cancelled
// request's connection is closed) is the same call and is left out; retriesSince counts them.
func (e *env) callsSince(m mark) []ecslocal.Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ecslocal.Call
	for _, c := range e.srv.Calls()[m.calls:] {
		if !e.retried[c.Seq] {
			out = append(out, c)
		}
	}
	return out
}

// retriesSince lists the SDK's retry attempts after m as "action resource".
func (e *env) retriesSince(m mark) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, c := range e.srv.Calls()[m.calls:] {
		if e.retried[c.Seq] {
			out = append(out, c.Action()+" "+c.Resource)
		}
	}
	return out
}

// sdkRetry reports whether a request is the SDK's retry of an earlier attempt.
func sdkRetry(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("amz-sdk-request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			return v != "1"
		}
	}
	return false
}

// callAt returns when the first call of action on resource after m was served, in the env's
// time; the test fails when there is none.
func (e *env) callAt(m mark, action, resource string) time.Time {
	e.t.Helper()
	for _, c := range e.callsSince(m) {
		if c.Action() == action && c.Resource == resource {
			return c.Time
		}
	}
	e.t.Fatalf("no %s %s call", action, resource)
	return time.Time{}
}

// stepAt returns when the engine took the first step of res whose message begins with prefix;
// the test fails when there is none.
func stepAt(t *testing.T, res *deploy.Result, prefix string) time.Time {
	t.Helper()
	for _, s := range res.Steps {
		if strings.HasPrefix(s.Message, prefix) {
			return s.At
		}
	}
	t.Fatalf("no step begins with %q", prefix)
	return time.Time{}
}

// pollsPerWait counts, after m, the DescribeServices calls between one write call and the
// next, and after the last one: the polls of each wait, in order. Calls before the first write
// (discovery) are left out, and so are writes with no poll after them.
func (e *env) pollsPerWait(m mark) []int {
	var out []int
	for _, c := range e.callsSince(m) {
		switch {
		case c.Write:
			out = append(out, 0)
		case c.Action() == "ecs:DescribeServices" && len(out) > 0:
			out[len(out)-1]++
		}
	}
	return slices.DeleteFunc(out, func(n int) bool { return n == 0 })
}

// countsSince returns the number of calls per action after m.
func (e *env) countsSince(m mark) map[string]int {
	counts := map[string]int{}
	for _, c := range e.callsSince(m) {
		counts[c.Action()]++
	}
	return counts
}

// writesSince lists the write calls after m as "action resource", with " failed: code" when
// ecslocal answered with an error.
func (e *env) writesSince(m mark) []string {
	var out []string
	for _, c := range e.callsSince(m) {
		if c.Write {
			w := c.Action() + " " + c.Resource
			if c.ErrorCode != "" {
				w += " failed: " + c.ErrorCode
			}
			out = append(out, w)
		}
	}
	return out
}

// writesTo lists the write calls after m whose resource names the service.
func (e *env) writesTo(m mark, service string) []string {
	var out []string
	for _, c := range e.callsSince(m) {
		if c.Write && (c.Resource == service || strings.HasSuffix(c.Resource, "/"+service)) {
			out = append(out, c.Action())
		}
	}
	return out
}

// callIndex returns the position among the calls after m of the first (or, with last, the
// last) call of action on resource, or -1.
func (e *env) callIndex(m mark, action, resource string, last bool) int {
	at := -1
	for i, c := range e.callsSince(m) {
		if c.Action() == action && c.Resource == resource {
			at = i
			if !last {
				break
			}
		}
	}
	return at
}

// desiredChanges returns the desired counts a service went through since m, starting with the
// count it had at m.
func (e *env) desiredChanges(m mark, service string) []int {
	var out []int
	last := -1
	for i, te := range e.srv.Timeline() {
		if te.Service != service {
			continue
		}
		if i < m.timeline {
			last = te.Desired
			continue
		}
		if len(out) == 0 && last >= 0 {
			out = append(out, last)
		}
		if te.Desired != last {
			out = append(out, te.Desired)
			last = te.Desired
		}
	}
	if len(out) == 0 && last >= 0 {
		out = append(out, last) // unchanged since m
	}
	return out
}

// settledPairs returns, in order, each distinct {new, old} count pair at which both services
// were settled after m: as many tasks running as desired, none pending. A rollout whose
// phases follow the arithmetic settles at exactly the planned counts, in that order.
func (e *env) settledPairs(m mark, newSvc, oldSvc string) [][2]int {
	type counts struct{ desired, running, pending int }
	state := map[string]counts{}
	var out [][2]int
	for i, te := range e.srv.Timeline() {
		if te.Service != newSvc && te.Service != oldSvc {
			continue
		}
		state[te.Service] = counts{te.Desired, te.Running, te.Pending}
		n, okN := state[newSvc]
		o, okO := state[oldSvc]
		// The state after the entry before m is the state at m.
		if i < m.timeline-1 || !okN || !okO || n.running != n.desired || n.pending > 0 || o.running != o.desired || o.pending > 0 {
			continue
		}
		if p := [2]int{n.desired, o.desired}; len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// checkCapacity asserts the capacity invariant (DESIGN.md §13.1) on ecslocal's timeline after m:
// once one of the new services has been scaled up, the old service's running tasks plus the new
// services' never drop below floor. A new task that stops on its own (its service's running
// count drops while not above its desired count) is still counted, up to the desired count: the
// invariant allows dips caused by the new revision's own failures, not dips caused by the engine
// shrinking the old service too early or a new one before the old service is back up.
func (e *env) checkCapacity(m mark, floor int, oldSvc string, newSvcs ...string) {
	e.t.Helper()
	type counts struct{ desired, running, lost int }
	state := map[string]*counts{}
	started := false
	for i, te := range e.srv.Timeline() {
		if te.Service != oldSvc && !slices.Contains(newSvcs, te.Service) {
			continue
		}
		c := state[te.Service]
		if c == nil {
			c = &counts{}
			state[te.Service] = c
		}
		if te.Running < c.running && c.running <= te.Desired {
			c.lost += c.running - te.Running
		}
		c.desired, c.running = te.Desired, te.Running
		total, detail := 0, ""
		if o := state[oldSvc]; o != nil {
			total, detail = o.running, fmt.Sprintf("%s running %d", oldSvc, o.running)
		}
		for _, n := range newSvcs {
			if s := state[n]; s != nil {
				started = started || s.desired > 0
				credit := min(s.desired, s.running+s.lost)
				total += credit
				detail += fmt.Sprintf(", %s running %d (counted %d)", n, s.running, credit)
			}
		}
		if i >= m.timeline && started && total < floor {
			e.t.Fatalf("capacity dipped to %d (< %d) at %s: %s", total, floor, te.Time.Format("15:04:05.000"), detail)
		}
	}
}

// killAfterWrites returns the context of a deploying process that "dies" once it has made n
// more write calls: the n-th takes effect, then every later request fails without reaching
// ecslocal, as if the process were gone, and the context ends so that the dead run returns at
// once instead of sleeping. Nothing the dead run tries afterwards (its rollback included)
// reaches ecslocal, whose scheduler carries on with what it was last told.
func (e *env) killAfterWrites(n int) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.kill = &killPoint{from: len(e.srv.Calls()), writes: n, die: cancel}
	return ctx
}

// lastCall returns the call ecslocal served last.
func lastCall(srv *ecslocal.Server) ecslocal.Call {
	c, _ := srv.LastCall()
	return c
}

// holdResponse sets which calls' responses are held back until the client gives up.
func (e *env) holdResponse(hold func(ecslocal.Call) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hold = hold
}

// revive lets requests through again, for the next run.
func (e *env) revive() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.kill = nil
}

func (e *env) dead() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kill == nil {
		return false
	}
	writes := 0
	for _, c := range e.srv.Calls()[e.kill.from:] {
		if c.Write && !e.retried[c.Seq] {
			writes++
		}
	}
	return writes >= e.kill.writes
}

// logSteps writes the engine's log into the test log, for a failing test's reader.
func (e *env) logSteps() {
	for _, l := range e.log.all() {
		e.t.Log(l)
	}
}

// serviceARN is the ARN of a service of cluster prod in the env's account and region.
func serviceARN(name string) string {
	return "arn:aws:ecs:eu-west-1:000000000000:service/prod/" + name
}

// tags returns a service's tags, as ECS lists them.
func (e *env) tags(service string) map[string]string {
	e.t.Helper()
	out, err := e.ecs.ListTagsForResource(context.Background(), &ecs.ListTagsForResourceInput{ResourceArn: aws.String(serviceARN(service))})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// policyARNs returns the ARNs of a service's scaling policies, sorted.
func (e *env) policyARNs(service string) []string {
	e.t.Helper()
	out, err := e.aas.DescribeScalingPolicies(context.Background(), &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/" + service),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var arns []string
	for _, p := range out.ScalingPolicies {
		arns = append(arns, aws.ToString(p.PolicyARN))
	}
	slices.Sort(arns)
	return arns
}
