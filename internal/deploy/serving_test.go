package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The serving tests (DESIGN.md §7.4–§7.7) run the engine against services behind an Application
// Load Balancer target group with AWS's default health settings: a health check every 30 s, two
// failed checks to be unhealthy, a 300 s deregistration delay. Under servingScale these AWS
// durations are a hundredth as long in ecslocal (a check every 300 ms, a 3 s drain); the start
// and stop delays are not scaled.
const servingScale = 0.01

// Health behaviours of a task definition's container (ecslocal's docker labels).
var (
	elbHealthy   = map[string]string{"ecslocal.elb-health": "healthy"}
	elbUnhealthy = map[string]string{"ecslocal.elb-health": "unhealthy"}
)

// defaultHealthCheck is a container health check with ECS's defaults: every 30 s, UNHEALTHY
// after 3 failures, no start period.
var defaultHealthCheck = &types.HealthCheck{
	Command: []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}, Interval: aws.Int32(30), Retries: aws.Int32(3), Timeout: aws.Int32(5),
}

// newServingEnv is newEnv with ecslocal's AWS durations multiplied by scale and a load balancer
// "web" forwarding to target groups tgs (the first one, named "web" unless tgs says otherwise).
func newServingEnv(t *testing.T, scale float64, tgs ...ecslocal.SeedTargetGroup) *env {
	t.Helper()
	e := newEnv(t)
	e.srv.Configure(ecslocal.Config{StartDelay: ecslocal.Duration(startDelay), StopDelay: ecslocal.Duration(stopDelay), TimeScale: scale})
	if len(tgs) == 0 {
		tgs = []ecslocal.SeedTargetGroup{{Name: "web"}}
	}
	if err := e.srv.ApplySeed(ecslocal.Seed{LoadBalancers: []ecslocal.SeedLoadBalancer{{Name: "web", TargetGroups: tgs}}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// tgArn returns the ARN of the seeded target group of that name.
func (e *env) tgArn(name string) string {
	e.t.Helper()
	arn, ok := e.srv.TargetGroupArn(name)
	if !ok {
		e.t.Fatalf("no target group %s", name)
	}
	return arn
}

// registerServingTD registers a task definition of family web whose essential container "web"
// maps container port 80, in network mode awsvpc unless mode says otherwise, with docker labels
// and an optional container health check; it returns family:revision.
func (e *env) registerServingTD(labels map[string]string, hc *types.HealthCheck, mode ...types.NetworkMode) string {
	e.t.Helper()
	nm := types.NetworkModeAwsvpc
	if len(mode) > 0 {
		nm = mode[0]
	}
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: nm,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true), DockerLabels: labels,
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}}, HealthCheck: hc,
		}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// servingConfig is baseConfig for services in two subnets behind target group tg, container web
// port 80.
func servingConfig(td string, desired int, tg string) deploy.Config {
	cfg := baseConfig(td, desired)
	cfg.Service.Network = &deploy.NetworkConfig{Subnets: []string{"subnet-a", "subnet-b"}}
	cfg.Service.LoadBalancers = []deploy.LoadBalancer{{TargetGroupARN: tg, ContainerName: "web", ContainerPort: 80}}
	return cfg
}

// checkServesBeforeShrink asserts on ecslocal's timeline after m that whenever shrinker's
// desired count went down, grower already had as many healthy targets in tg as its desired
// count (DESIGN.md §7.4: the side that shrinks next shrinks only after the side that grew
// serves). It returns each shrink as "shrinker a→b at t: grower h healthy of n".
func (e *env) checkServesBeforeShrink(m mark, tg, grower, shrinker string, since time.Time) []string {
	e.t.Helper()
	type state struct {
		desired, healthy int
		seen             bool
	}
	var g, s state
	var out []string
	for i, te := range e.srv.Timeline() {
		switch te.Service {
		case grower:
			g = state{te.Desired, te.HealthyTargets[tg], true}
		case shrinker:
			prev := s
			s = state{te.Desired, te.HealthyTargets[tg], true}
			if i < m.timeline || !prev.seen || te.Desired >= prev.desired {
				continue
			}
			desc := fmt.Sprintf("%s %d→%d at %s: %s %d healthy of %d", shrinker, prev.desired, te.Desired, te.Time.Sub(since), grower, g.healthy, g.desired)
			out = append(out, desc)
			if !g.seen || g.desired == 0 || g.healthy < g.desired {
				e.t.Errorf("%s shrank before %s served its count: %s", shrinker, grower, desc)
			}
		}
	}
	return out
}

// servingSince returns the healthy targets of tg, summed over every service, at instant since
// and at each change after it.
func (e *env) servingSince(tg string, since time.Time) []ecslocal.ServingPoint {
	var out []ecslocal.ServingPoint
	for _, p := range ecslocal.ServingTimeline(e.srv.Timeline(), tg) {
		if !p.Time.After(since) {
			out = []ecslocal.ServingPoint{{Time: since, Healthy: p.Healthy}}
			continue
		}
		out = append(out, p)
	}
	return out
}

func fmtServing(points []ecslocal.ServingPoint, since time.Time) string {
	var parts []string
	for _, p := range points {
		parts = append(parts, fmt.Sprintf("%s:%d", p.Time.Sub(since), p.Healthy))
	}
	return strings.Join(parts, " ")
}

// healthyTargetsOf returns the targets of a service that tg reports healthy now, as ecslocal's
// status counts them.
func (e *env) healthyTargetsOf(service, tg string) int {
	for _, s := range e.srv.Status().Services {
		if s.Name != service {
			continue
		}
		for _, st := range s.TargetGroups {
			if st.TargetGroupArn == tg {
				return st.Healthy
			}
		}
	}
	return 0
}

// stepsAt returns the instant of each step whose message begins with one of prefixes, in order;
// the test fails when one is missing.
func stepsAt(t *testing.T, res *deploy.Result, prefixes ...string) []time.Time {
	t.Helper()
	out := make([]time.Time, 0, len(prefixes))
	for _, p := range prefixes {
		out = append(out, stepAt(t, res, p))
	}
	return out
}

// rollbackMark takes a mark when the engine begins to roll back, through the log hook.
func (e *env) rollbackMark() *mark {
	m := &mark{}
	e.onLog(rollbackBegins, func() { *m = e.mark() })
	return m
}

// TestServingRollout covers a healthy revision behind a target group (DESIGN.md §7.4): every
// phase shrinks the old service only once the new one's tasks are healthy in the target group,
// and the capacity the load balancer serves never drops below production's count.
func TestServingRollout(t *testing.T) {
	t.Parallel()
	t.Run("each phase shrinks the old service only after the new one has its count of healthy targets, and serving capacity never drops below P", func(t *testing.T) {
		t.Parallel()
		e := newServingEnv(t, servingScale)
		tg := e.tgArn("web")
		prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
		if n := e.healthyTargetsOf("web__1", tg); n != 4 {
			t.Fatalf("production web__1 has %d healthy targets, want 4", n)
		}
		m := e.mark()
		began := e.now()
		res, err := e.eng.Deploy(context.Background(), servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), prior)
		if err != nil {
			e.logSteps()
			t.Fatal(err)
		}
		if res.Current.Name != "web__2" || res.Previous == nil || res.Previous.Name != "web__1" {
			t.Fatalf("current %+v previous %+v", res.Current, res.Previous)
		}
		shrinks := e.checkServesBeforeShrink(m, tg, "web__2", "web__1", began)
		if len(shrinks) != 3 {
			t.Errorf("web__1 shrank %d times, want once per phase: %q", len(shrinks), shrinks)
		}
		t.Logf("shrinks: %q", shrinks)
		serving := e.servingSince(tg, began)
		t.Logf("serving capacity of %s: %s", "web", fmtServing(serving, began))
		for _, p := range serving {
			if p.Healthy < 4 {
				t.Errorf("serving capacity dropped to %d (< P = 4) at %s: %s", p.Healthy, p.Time.Sub(began), fmtServing(serving, began))
				break
			}
		}
		if last := serving[len(serving)-1]; last.Healthy != 4 {
			t.Errorf("serving capacity %d at the end, want 4", last.Healthy)
		}
		if n, old := e.healthyTargetsOf("web__2", tg), e.healthyTargetsOf("web__1", tg); n != 4 || old != 0 {
			t.Errorf("healthy targets: web__2 %d, web__1 %d; want 4 and 0", n, old)
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
		// Each phase's start wait takes a start delay and one health check interval (the first
		// check of a new target), 40 ms + 300 ms; the old service's tasks leave its running
		// count when they begin to drain, so the stop waits are short.
		for j := 1; j <= 3; j++ {
			at := stepsAt(t, res, fmt.Sprintf("phase %d of 3: ", j), fmt.Sprintf("phase %d of 3 done", j))
			t.Logf("phase %d took %s", j, at[1].Sub(at[0]))
			if took := at[1].Sub(at[0]); took < startDelay+300*time.Millisecond {
				t.Errorf("phase %d took %s, less than a start and a health check interval: it did not wait for health", j, took)
			}
		}
	})
}

// TestServingRollbackOfUnhealthyRevisions covers revisions whose tasks run but do not serve
// (DESIGN.md §7.6): they are rolled back in reverse order, production ends at P with every
// target healthy, every rollback step grows the old service to healthy targets before it
// shrinks the new one (§8.1, §7.4), and the error quotes the health evidence.
func TestServingRollbackOfUnhealthyRevisions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		labels map[string]string
		hc     *types.HealthCheck
		bake   time.Duration // in phase 2
		phase  int
		stage  string
		steps  []string
		// quotes is what the error must quote: the reason ECS stopped the tasks with (§7.6; the
		// target's own health is TestServingFailureEvidence's).
		quotes func(tg string) []string
	}{
		{
			name: "a revision that fails its ELB health checks fails phase 1 and is rolled back with R1", labels: elbUnhealthy,
			phase: 1, stage: "scaling web__2 up to 1 tasks",
			steps: []string{"R1: web__1 at 4 tasks, web__2 at 0"},
			quotes: func(tg string) []string {
				return []string{`stopped task: "Task failed ELB health checks in (target-group ` + tg + `)"`}
			},
		},
		{
			name:   "a revision that fails its container health checks fails phase 1 and is rolled back with R1",
			labels: map[string]string{"ecslocal.elb-health": "healthy", "ecslocal.container-health": "unhealthy"}, hc: defaultHealthCheck,
			phase: 1, stage: "scaling web__2 up to 1 tasks",
			steps:  []string{"R1: web__1 at 4 tasks, web__2 at 0"},
			quotes: func(string) []string { return []string{`stopped task: "Task failed container health checks"`} },
		},
		{
			name:   "a revision whose targets turn unhealthy after 1 s fails in phase 2's bake and is rolled back with R2 then R1",
			labels: map[string]string{"ecslocal.elb-health": "unhealthy-after=1s"}, bake: 10 * time.Second,
			phase: 2, stage: "baking for 10s",
			steps: []string{"R2: web__1 at 3 tasks, web__2 at 1", "R1: web__1 at 4 tasks, web__2 at 0"},
			quotes: func(tg string) []string {
				return []string{`stopped task: "Task failed ELB health checks in (target-group ` + tg + `)"`}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newServingEnv(t, servingScale)
			tg := e.tgArn("web")
			prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
			cfg := servingConfig(e.registerServingTD(tc.labels, tc.hc), 4, tg)
			cfg.Phases[1].BakeTime = tc.bake
			rb := e.rollbackMark()
			m := e.mark()
			began := e.now()
			res, err := e.eng.Deploy(context.Background(), cfg, prior)
			re := rolloutError(t, err)
			t.Logf("error:\n%v", err)
			if re.Phase != tc.phase || re.Stage != tc.stage || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
				t.Errorf("failed in phase %d while %q (%s), rolled back %v; want phase %d while %q, %s", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, tc.phase, tc.stage, deploy.FailureTasks)
			}
			if !slices.Equal(re.RollbackSteps, tc.steps) {
				t.Errorf("rollback steps %q, want %q", re.RollbackSteps, tc.steps)
			}
			for _, q := range tc.quotes(tg) {
				if !strings.Contains(err.Error(), q) {
					t.Errorf("the error does not quote %q", q)
				}
			}
			checkRolledBackState(t, res, prior)
			if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{4, 4} || got["web__2"] != [2]int{0, 0} {
				t.Errorf("live desired/running %v, want web__1 4/4 and web__2 0/0", got)
			}
			if n := e.healthyTargetsOf("web__1", tg); n != 4 {
				t.Errorf("production web__1 has %d healthy targets, want 4", n)
			}
			serving := e.servingSince(tg, began)
			if last := serving[len(serving)-1]; last.Healthy != 4 {
				t.Errorf("serving capacity %d at the end, want 4: %s", last.Healthy, fmtServing(serving, began))
			}
			t.Logf("serving capacity: %s", fmtServing(serving, began))
			// In the phases web__1 shrinks only after web__2 serves; in the rollback, web__2
			// shrinks only after web__1 is back to healthy targets.
			t.Logf("phases: %q", e.checkServesBeforeShrink(m, tg, "web__2", "web__1", began))
			back := e.checkServesBeforeShrink(*rb, tg, "web__1", "web__2", began)
			t.Logf("rollback: %q", back)
			if len(back) != len(tc.steps) {
				t.Errorf("web__2 shrank %d times in the rollback, want once per step: %q", len(back), back)
			}
		})
	}
}

// TestServingFailureEvidence covers the report of a revision whose targets fail their health
// checks (DESIGN.md §7.6): the error quotes the target's state, reason code and description.
func TestServingFailureEvidence(t *testing.T) {
	t.Parallel()
	t.Run("the error of a revision whose targets fail their ELB health checks quotes the target's state, reason code and description", func(t *testing.T) {
		t.Parallel()
		e := newServingEnv(t, servingScale)
		tg := e.tgArn("web")
		prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
		_, err := e.eng.Deploy(context.Background(), servingConfig(e.registerServingTD(elbUnhealthy, nil), 4, tg), prior)
		re := rolloutError(t, err)
		if !re.RolledBack {
			t.Fatalf("not rolled back: %v", err)
		}
		if want := "unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])"; !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not quote %q:\n%v", want, err)
		}
	})
	t.Run("a revision whose targets never turn healthy within a grace period longer than steady_state_timeout fails at the timeout, quoting the targets' health", func(t *testing.T) {
		t.Parallel()
		e := newServingEnv(t, servingScale)
		tg := e.tgArn("web")
		prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
		cfg := servingConfig(e.registerServingTD(elbUnhealthy, nil), 4, tg)
		// ECS ignores the failing checks for 10 minutes (6 s at the time scale): no task is
		// stopped and none counts as failed before the 5 s timeout.
		cfg.Service.HealthCheckGracePeriodSeconds = aws.Int(600)
		_, err := e.eng.Deploy(context.Background(), cfg, prior)
		re := rolloutError(t, err)
		if re.Failure.Kind != deploy.FailureTimeout || re.Phase != 1 || !re.RolledBack {
			t.Fatalf("failure %q (%s) in phase %d, rolled back %v; want a steady-state timeout in phase 1, rolled back", re.Failure.Message, re.Failure.Kind, re.Phase, re.RolledBack)
		}
		for _, want := range []string{"steady_state_timeout (5s) reached", "unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q:\n%v", want, err)
			}
		}
	})
}

// phaseTimes returns how long each phase of a rollout took, from its first step to its "done"
// step.
func phaseTimes(t *testing.T, res *deploy.Result) []time.Duration {
	t.Helper()
	var out []time.Duration
	for j := 1; j <= len(res.Phases); j++ {
		at := stepsAt(t, res, fmt.Sprintf("phase %d of %d: ", j, len(res.Phases)), fmt.Sprintf("phase %d of %d done", j, len(res.Phases)))
		out = append(out, at[1].Sub(at[0]))
	}
	return out
}

// TestServingDeregistrationDelay covers the old service's draining targets (DESIGN.md §7.4): a
// task that is stopped behind a load balancer leaves the running count as its target begins to
// drain, so the deregistration delay adds no wait to a phase.
func TestServingDeregistrationDelay(t *testing.T) {
	t.Parallel()
	t.Run("with AWS's default deregistration delay of 300 s every phase takes as long as with no delay, within 10 %", func(t *testing.T) {
		t.Parallel()
		measure := func(delay *int) ([]time.Duration, time.Duration, int) {
			e := newServingEnv(t, servingScale, ecslocal.SeedTargetGroup{Name: "web", DeregistrationDelaySeconds: delay})
			tg := e.tgArn("web")
			prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
			began := e.now()
			res, err := e.eng.Deploy(context.Background(), servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), prior)
			if err != nil {
				t.Fatal(err)
			}
			// The old targets are still draining when the rollout ends, with the default delay,
			// and the rollout's last step says so.
			if last := res.Steps[len(res.Steps)-1].Message; !strings.Contains(last, "web__1 stopped may still be draining") {
				t.Errorf("the last step %q does not say that web__1's tasks may still be draining", last)
			}
			return phaseTimes(t, res), e.now().Sub(began), e.srv.Status().TargetGroups[0].Draining
		}
		zero := 0
		withDelay, totalWith, drainingWith := measure(nil)
		without, totalWithout, drainingWithout := measure(&zero)
		t.Logf("phases with the 300 s delay (3 s scaled) %v, total %s; with no delay %v, total %s", withDelay, totalWith, without, totalWithout)
		if drainingWith != 4 || drainingWithout != 0 {
			t.Errorf("draining targets at the end: %d with the delay, %d without; want 4 and 0", drainingWith, drainingWithout)
		}
		within := func(a, b time.Duration) bool { return a <= b+b/10 && b <= a+a/10 }
		for j := range withDelay {
			if !within(withDelay[j], without[j]) {
				t.Errorf("phase %d took %s with the deregistration delay and %s without: more than 10 %% apart", j+1, withDelay[j], without[j])
			}
		}
		if !within(totalWith, totalWithout) {
			t.Errorf("the rollout took %s with the deregistration delay and %s without", totalWith, totalWithout)
		}
	})
}

// firstRunning returns when service first had a running task after m, from the timeline.
func (e *env) firstRunning(m mark, service string) time.Time {
	e.t.Helper()
	for _, te := range e.srv.Timeline()[m.timeline:] {
		if te.Service == service && te.Running > 0 {
			return te.Time
		}
	}
	e.t.Fatalf("%s never ran a task", service)
	return time.Time{}
}

// firstUnhealthy returns when service's healthy targets in tg first went down after m.
func (e *env) firstUnhealthy(m mark, service, tg string) time.Time {
	e.t.Helper()
	last := -1
	for _, te := range e.srv.Timeline()[m.timeline:] {
		if te.Service != service {
			continue
		}
		n := te.HealthyTargets[tg]
		if last >= 0 && n < last {
			return te.Time
		}
		last = n
	}
	e.t.Fatalf("%s's targets never turned unhealthy", service)
	return time.Time{}
}

// TestServingGracePeriod covers health_check_grace_period_seconds (DESIGN.md §7.6): unhealthy
// targets count as failures only once the grace period has passed since the task started. It runs
// at AWS's real durations (time scale 1), since the engine reads the grace period in seconds from
// the service as AWS defines it, while ecslocal would scale it; the engine polls at its default
// intervals.
func TestServingGracePeriod(t *testing.T) {
	t.Parallel()
	const grace = 300 // seconds
	cases := []struct {
		name  string
		grace *int
		phase int
		stage string
		steps []string
	}{
		{
			name:  "with a grace period longer than the bake, a target that turns unhealthy within it does not fail the bake, and the revision fails once the grace period ends",
			grace: aws.Int(grace), phase: 2, stage: "scaling web__2 up to 2 tasks",
			steps: []string{"R2: web__1 at 1 tasks, web__2 at 1", "R1: web__1 at 2 tasks, web__2 at 0"},
		},
		{
			name:  "without a grace period, the same revision fails in the bake as soon as ECS replaces its unhealthy task",
			phase: 1, stage: "baking for 2m0s",
			steps: []string{"R1: web__1 at 2 tasks, web__2 at 0"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newServingEnv(t, 1)
			e.eng.Poll = deploy.PollConfig{}
			tg := e.tgArn("web")
			cfg := servingConfig(e.registerServingTD(elbHealthy, nil), 2, tg)
			cfg.SteadyStateTimeout = 10 * time.Minute
			cfg.Phases = []deploy.Phase{{Percent: 100}}
			prior := e.mustDeploy(cfg, deploy.State{})

			// Targets pass their checks for 45 s: healthy at the first check, 30 s after the
			// task started, unhealthy after the failed checks at 60 and 90 s.
			cfg.TaskDefinition = e.registerServingTD(map[string]string{"ecslocal.elb-health": "unhealthy-after=45s"}, nil)
			cfg.Phases = []deploy.Phase{{Count: 1, BakeTime: 2 * time.Minute}, {Percent: 100}}
			cfg.FailedTaskThreshold = 1
			cfg.Service.HealthCheckGracePeriodSeconds = tc.grace
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, prior)
			re := rolloutError(t, err)
			t.Logf("error:\n%v", err)
			if re.Phase != tc.phase || re.Stage != tc.stage || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
				t.Errorf("failed in phase %d while %q (%s), rolled back %v; want phase %d while %q, %s", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, tc.phase, tc.stage, deploy.FailureTasks)
			}
			if !slices.Equal(re.RollbackSteps, tc.steps) {
				t.Errorf("rollback steps %q, want %q", re.RollbackSteps, tc.steps)
			}
			started := e.firstRunning(m, "web__2")
			unhealthy := e.firstUnhealthy(m, "web__2", tg).Sub(started)
			failed := stepAt(t, res, tc.steps[0][:2]+": ").Sub(started)
			t.Logf("web__2's first task started at %s; its target turned unhealthy %s later; the rollback began %s after it started", started.Sub(epoch), unhealthy, failed)
			if unhealthy != 90*time.Second {
				t.Errorf("the first target turned unhealthy %s after its task started, want 90 s", unhealthy)
			}
			if tc.grace == nil {
				// ECS replaces the task when it turns unhealthy; the bake polls every 5 s.
				if failed < unhealthy || failed > unhealthy+5*time.Second+time.Second {
					t.Errorf("the rollback began %s after the task started, want within a poll of %s", failed, unhealthy)
				}
				return
			}
			done := stepAt(t, res, "phase 1 of 2 done").Sub(started)
			if done <= unhealthy || done >= grace*time.Second {
				t.Errorf("phase 1 was done %s after the task started, want after it turned unhealthy (%s) and within the grace period (%ds)", done, unhealthy, grace)
			}
			if failed < grace*time.Second || failed > grace*time.Second+6*time.Second {
				t.Errorf("the rollback began %s after the task started, want within a poll of the grace period's end (%ds)", failed, grace)
			}
		})
	}
}

// TestServingPreflight covers the load balancer checks before any write (DESIGN.md §7.7).
func TestServingPreflight(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tg      func(e *env) string
		mode    types.NetworkMode
		message string
	}{
		{
			name: "a target group that does not exist",
			tg: func(*env) string {
				return "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/gone/0123456789abcdef"
			},
			mode:    types.NetworkModeAwsvpc,
			message: "target group arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/gone/0123456789abcdef does not exist",
		},
		{
			name:    "an instance target group for an awsvpc task definition",
			tg:      func(e *env) string { return e.tgArn("web-instance") },
			mode:    types.NetworkModeAwsvpc,
			message: "target group web-instance has target type instance, but tasks of network mode awsvpc register as ip targets",
		},
		{
			name:    "an ip target group for a bridge task definition",
			tg:      func(e *env) string { return e.tgArn("web") },
			mode:    types.NetworkModeBridge,
			message: "target group web has target type ip, but tasks of network mode bridge register as instance targets",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is an input error on service.load_balancer[0].target_group_arn, and nothing is written", func(t *testing.T) {
			t.Parallel()
			e := newServingEnv(t, servingScale, ecslocal.SeedTargetGroup{Name: "web"}, ecslocal.SeedTargetGroup{Name: "web-instance", TargetType: "instance"})
			prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, e.tgArn("web")), deploy.State{})
			cfg := servingConfig(e.registerServingTD(elbHealthy, nil, tc.mode), 4, tc.tg(e))
			if tc.mode != types.NetworkModeAwsvpc {
				cfg.Service.Network = nil
			}
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, prior)
			var ie *deploy.InputError
			if !errors.As(err, &ie) || ie.Field != "service.load_balancer[0].target_group_arn" || !strings.Contains(ie.Message, tc.message) {
				t.Fatalf("error %v (%T), want an InputError on service.load_balancer[0].target_group_arn saying %q", err, err, tc.message)
			}
			if res != nil {
				t.Errorf("result %+v, want none", res)
			}
			if w := e.writesSince(m); len(w) > 0 {
				t.Errorf("write calls %q, want none", w)
			}
			if n := e.countsSince(m)["elasticloadbalancing:DescribeTargetGroups"]; n != 1 {
				t.Errorf("%d DescribeTargetGroups calls, want 1", n)
			}
			if got := e.live("web__1"); got["web__1"] != [2]int{4, 4} {
				t.Errorf("production %v, want 4/4", got)
			}
		})
	}
}

// describeTasksLog is the engine's ECS client, noting which tasks each DescribeTasks names.
type describeTasksLog struct {
	deploy.ECSAPI
	mu      sync.Mutex
	batches [][]string
}

func (d *describeTasksLog) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	d.mu.Lock()
	d.batches = append(d.batches, slices.Clone(in.Tasks))
	d.mu.Unlock()
	return d.ECSAPI.DescribeTasks(ctx, in, optFns...)
}

// waitCost is what one start wait called.
type waitCost struct {
	Polls                                          int // DescribeServices
	HealthPolls                                    int // of those, the polls made once the running count was met
	ListTasks, DescribeTasks, DescribeTargetHealth int
	Early                                          int // health reads made before the running count was met
	Other                                          int // any other call
	RunningAt                                      time.Duration
	Took                                           time.Duration
}

// startWaitCosts returns the cost of the wait after each UpdateService of service since m (up
// to the next write call), with the instant its running count was met read from the timeline.
func (e *env) startWaitCosts(m mark, service string) []waitCost {
	e.t.Helper()
	calls := e.callsSince(m)
	var out []waitCost
	for i, c := range calls {
		if c.Action() != "ecs:UpdateService" || c.Resource != service {
			continue
		}
		var met time.Time
		scaled := false
		for _, te := range e.srv.Timeline() {
			if te.Service != service || te.Time.Before(c.Time) {
				continue
			}
			if te.Pending > 0 {
				scaled = true
			}
			if scaled && te.Pending == 0 && te.Running == te.Desired {
				met = te.Time
				break
			}
		}
		if met.IsZero() {
			e.t.Fatalf("%s never met its running count after the UpdateService at %s", service, c.Time)
		}
		wc := waitCost{RunningAt: met.Sub(c.Time)}
		end := c.Time
		for _, d := range calls[i+1:] {
			if d.Write {
				break
			}
			end = d.Time
			switch d.Action() {
			case "ecs:DescribeServices":
				wc.Polls++
				if !d.Time.Before(met) {
					wc.HealthPolls++
				}
				continue
			case "ecs:ListTasks":
				wc.ListTasks++
			case "ecs:DescribeTasks":
				wc.DescribeTasks++
			case "elasticloadbalancing:DescribeTargetHealth":
				wc.DescribeTargetHealth++
			default:
				wc.Other++
				continue
			}
			if d.Time.Before(met) {
				wc.Early++
			}
		}
		wc.Took = end.Sub(c.Time)
		out = append(out, wc)
	}
	return out
}

// TestServingHealthReadCost covers the cost of health-gated waits (DESIGN.md §7.5): health is
// read only once the running count is met, with one ListTasks and one DescribeTargetHealth per
// poll from then on, and where a task is registered is kept, so that a task is described once
// unless container health is read.
func TestServingHealthReadCost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		hc   *types.HealthCheck
		// describedEveryPoll: container health is read, so every health read describes the
		// service's tasks; otherwise each wait describes only its new tasks, once.
		describedEveryPoll bool
	}{
		{name: "behind a target group, each start wait reads health only once its running count is met and describes only its new tasks, once"},
		{name: "with a container health check, each start wait reads health only once its running count is met and describes the tasks at every read", hc: defaultHealthCheck, describedEveryPoll: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newServingEnv(t, servingScale)
			tg := e.tgArn("web")
			prior := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), deploy.State{})
			log := &describeTasksLog{ECSAPI: e.ecs}
			e.eng.ECS = log
			m := e.mark()
			if _, err := e.eng.Deploy(context.Background(), servingConfig(e.registerServingTD(elbHealthy, tc.hc), 4, tg), prior); err != nil {
				t.Fatal(err)
			}
			costs := e.startWaitCosts(m, "web__2")
			if len(costs) != 3 {
				t.Fatalf("%d start waits of web__2, want 3", len(costs))
			}
			for j, c := range costs {
				t.Logf("phase %d start wait: %+v", j+1, c)
				if c.Early != 0 {
					t.Errorf("phase %d: %d health reads before the running count was met", j+1, c.Early)
				}
				// The poll that first finds the running count met reads no health (a task that
				// has just started has passed no health check); every later poll reads the
				// target group. The running tasks are listed at the first read only: no task
				// starts or stops after it (the steady-state event the service shows as its
				// targets turn healthy changes no task).
				if c.HealthPolls < 2 || c.DescribeTargetHealth != c.HealthPolls-1 {
					t.Errorf("phase %d: %d DescribeTargetHealth for %d polls once the running count was met; want one per poll but the first", j+1, c.DescribeTargetHealth, c.HealthPolls)
				}
				if c.ListTasks != 1 {
					t.Errorf("phase %d: %d ListTasks for %d health reads; want the first read's only", j+1, c.ListTasks, c.DescribeTargetHealth)
				}
				switch {
				case tc.describedEveryPoll && c.DescribeTasks != c.DescribeTargetHealth:
					t.Errorf("phase %d: %d DescribeTasks for %d health reads, want one per read (container health changes)", j+1, c.DescribeTasks, c.DescribeTargetHealth)
				case !tc.describedEveryPoll && c.DescribeTasks != 1:
					t.Errorf("phase %d: %d DescribeTasks, want 1 (only the new tasks, once)", j+1, c.DescribeTasks)
				}
				if c.Other != 0 {
					t.Errorf("phase %d: %d other calls", j+1, c.Other)
				}
			}
			var sizes []int
			seen := map[string]bool{}
			dup := 0
			for _, b := range log.batches {
				sizes = append(sizes, len(b))
				for _, arn := range b {
					if seen[arn] {
						dup++
					}
					seen[arn] = true
				}
			}
			t.Logf("DescribeTasks batch sizes %v, %d tasks described again; calls per operation %v", sizes, dup, e.countsSince(m))
			if !tc.describedEveryPoll {
				// learnStartTime describes production's 4 tasks; each phase then describes its
				// new tasks: 1, 1, 2.
				if want := []int{4, 1, 1, 2}; !slices.Equal(sizes, want) || dup != 0 {
					t.Errorf("DescribeTasks batch sizes %v with %d tasks described again, want %v and none", sizes, dup, want)
				}
			}
		})
	}
}

// TestServingOtherWaits covers the waits for a service to grow outside the phases (DESIGN.md
// §7.4): setup's restore of production and scale in place wait for serving tasks too.
func TestServingOtherWaits(t *testing.T) {
	t.Parallel()
	t.Run("scale in place returns once the added tasks are healthy in the target group", func(t *testing.T) {
		t.Parallel()
		e := newServingEnv(t, servingScale)
		tg := e.tgArn("web")
		cfg := servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg)
		prior := e.mustDeploy(cfg, deploy.State{})
		began := e.now()
		if _, err := e.eng.Scale(context.Background(), cfg, prior, 6); err != nil {
			t.Fatal(err)
		}
		took := e.now().Sub(began)
		if n := e.healthyTargetsOf("web__1", tg); n != 6 {
			t.Errorf("web__1 has %d healthy targets when the scale returns, want 6 (it took %s)", n, took)
		}
		t.Logf("scale in place took %s", took)
	})

	t.Run("setup waits until production's running tasks are healthy before it scales another service of the deployment to 0", func(t *testing.T) {
		t.Parallel()
		e := newServingEnv(t, servingScale)
		tg := e.tgArn("web")
		ctx := context.Background()
		cfg := servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg)
		prior := e.mustDeploy(cfg, deploy.State{})
		// What a run killed in its rollback leaves: its revision web__2 serving at 4, and
		// production web__1 just scaled back up to 4, its tasks RUNNING but their targets
		// not yet checked.
		if _, err := e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__2"), TaskDefinition: aws.String(cfg.TaskDefinition), DesiredCount: aws.Int32(4),
			NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}},
			LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(80)}},
			Tags:                 []types.Tag{ecsTag(deploy.OwnerTag, "prod/web"), ecsTag(deploy.RevisionTag, "2")},
		}); err != nil {
			t.Fatal(err)
		}
		e.await(10*time.Millisecond, "web__2 serving 4", func() bool { return e.healthyTargetsOf("web__2", tg) == 4 })
		for _, n := range []int32{0, 4} {
			if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(n)}); err != nil {
				t.Fatal(err)
			}
			e.await(10*time.Millisecond, fmt.Sprintf("web__1 running %d", n), func() bool { return e.live("web__1")["web__1"] == [2]int{int(n), int(n)} })
		}
		if n := e.healthyTargetsOf("web__1", tg); n != 0 {
			t.Fatalf("web__1 has %d healthy targets before the apply, want none yet", n)
		}
		m := e.mark()
		began := e.now()
		if _, err := e.eng.Deploy(ctx, servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), prior); err != nil {
			t.Fatal(err)
		}
		t.Logf("web__2 shrinks: %q", e.checkServesBeforeShrink(m, tg, "web__1", "web__2", began))
		serving := e.servingSince(tg, began)
		t.Logf("serving capacity: %s", fmtServing(serving, began))
		for _, p := range serving {
			if p.Healthy < 4 {
				t.Errorf("serving capacity dropped to %d (< P = 4) at %s", p.Healthy, p.Time.Sub(began))
				break
			}
		}
	})
}
