package deploy_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The engine against AWS behaviours that ecslocal switches on: ECS replacing tasks that did
// nothing wrong (Fargate Spot interruptions, task retirement, Availability Zone rebalancing,
// DESIGN.md §7.3), eventually consistent reads (§5.1, §5.3), an account's first service (§5.3),
// names that stay DRAINING after a delete (§10.5), client tokens (§5.3), and describing scalable
// targets before deregistering them (§10.5).

// behaviourBake is the bake of phase 2 in the interruption tests.
const behaviourBake = 5 * time.Second

// registerFargateTD registers a Fargate task definition of family web (network mode awsvpc) with
// an ecslocal behavior and returns it as family:revision.
func (e *env) registerFargateTD(behavior string) string {
	e.t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions:    containers(behavior),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// fargateConfig is baseConfig at 8 tasks for Fargate tasks in two subnets (two Availability Zones): on
// Fargate Spot alone (a capacity provider strategy of FARGATE_SPOT) when spot is set, otherwise
// with launch type FARGATE. Phase 2 bakes for behaviourBake.
func fargateConfig(td string, spot bool) deploy.Config {
	cfg := baseConfig(td, 8)
	cfg.Service.Network = &deploy.NetworkConfig{Subnets: []string{"subnet-a", "subnet-b"}}
	if spot {
		cfg.Service.CapacityProviderStrategy = []deploy.CapacityProvider{{CapacityProvider: "FARGATE_SPOT", Weight: 1}}
	} else {
		cfg.Service.LaunchType = "FARGATE"
	}
	cfg.Phases[1].BakeTime = behaviourBake
	return cfg
}

// bakeLog is the message the engine logs as phase n begins to bake web__2.
func bakeLog(phase int, d time.Duration) string {
	return fmt.Sprintf("phase %d: baking web__2 for %s", phase, d)
}

// describeTasks describes tasks of cluster prod by ARN.
func (e *env) describeTasks(arns []string) []types.Task {
	e.t.Helper()
	out, err := e.ecs.DescribeTasks(context.Background(), &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: arns})
	if err != nil || len(out.Tasks) != len(arns) {
		e.t.Fatalf("describing tasks %v: %v (%d found)", arns, err, len(out.Tasks))
	}
	return out.Tasks
}

// logged reports whether the engine logged a line that begins with prefix (after its level).
func (e *env) logged(prefix string) bool {
	return slices.ContainsFunc(e.log.all(), func(l string) bool {
		_, msg, _ := strings.Cut(l, " ")
		return strings.HasPrefix(msg, prefix)
	})
}

// listTasksOf counts the ListTasks calls on a service after m: the watch's reads of its stopped
// tasks (the call log does not record the desired status asked for).
func (e *env) listTasksOf(m mark, service string) int {
	n := 0
	for _, c := range e.callsSince(m) {
		if c.Action() == "ecs:ListTasks" && c.Resource == service {
			n++
		}
	}
	return n
}

// TestAWSBehaviourReplacementsDuringBake covers ECS replacing tasks of the new revision that did
// nothing wrong while a phase bakes (DESIGN.md §7.3): a Fargate Spot interruption, a task
// retirement and an Availability Zone rebalancing each stop and replace as many tasks as the
// failed-task threshold, so a watch that counted every replacement launch would roll back; the
// watch reads the stopped tasks, counts none of them, and the rollout succeeds.
func TestAWSBehaviourReplacementsDuringBake(t *testing.T) {
	t.Parallel()
	threshold := deploy.Threshold(0, 8)
	cases := []struct {
		name string
		spot bool
		// disrupt makes ECS stop tasks of web__2 on its own and returns the stopped ones.
		disrupt func(e *env) []string
		// stopped checks one of those tasks once the rollout is done.
		stopped func(tk types.Task) bool
		want    string
	}{
		{
			name: "a Fargate Spot interruption of 4 tasks",
			spot: true,
			disrupt: func(e *env) []string {
				arns, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptSpot)
				if err != nil {
					e.t.Fatal(err)
				}
				return arns
			},
			stopped: func(tk types.Task) bool {
				return tk.StopCode == types.TaskStopCodeSpotInterruption && aws.ToString(tk.StoppedReason) == "Your Spot Task was interrupted."
			},
			want: "STOPPED, SpotInterruption, \"Your Spot Task was interrupted.\"",
		},
		{
			name: "a Fargate task retirement of 4 tasks",
			disrupt: func(e *env) []string {
				arns, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptRetirement)
				if err != nil {
					e.t.Fatal(err)
				}
				return arns
			},
			stopped: func(tk types.Task) bool {
				return strings.HasPrefix(aws.ToString(tk.StoppedReason), "ECS is performing maintenance")
			},
			want: "STOPPED for maintenance",
		},
		{
			name: "an Availability Zone rebalancing of 4 tasks",
			disrupt: func(e *env) []string {
				rb, err := e.srv.Rebalance("prod", "web__2", threshold)
				if err != nil {
					e.t.Fatal(err)
				}
				return rb.Stopping
			},
			stopped: func(tk types.Task) bool { return tk.StopCode == types.TaskStopCodeServiceSchedulerInitiated },
			want:    "STOPPED by the scheduler",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name+" while phase 2 bakes is not a failure of the revision, and the rollout succeeds", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), tc.spot), deploy.State{})
			cfg := fargateConfig(e.registerFargateTD("healthy"), tc.spot)
			var disrupted []string
			var during mark
			e.onLog(bakeLog(2, behaviourBake), func() {
				during = e.mark()
				disrupted = tc.disrupt(e)
			})
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, prior)
			if err != nil {
				e.logSteps()
				t.Fatalf("the rollout failed: %v", err)
			}
			if len(disrupted) != threshold {
				t.Fatalf("%d tasks disrupted, want %d (the threshold)", len(disrupted), threshold)
			}
			if res.Current == nil || res.Current.Name != "web__2" || res.Rollout == nil || res.Rollout.Status != deploy.RolloutSucceeded {
				t.Fatalf("current %+v, rollout %+v; want web__2 in production and the rollout succeeded", res.Current, res.Rollout)
			}
			if e.logged(rollbackBegins) {
				t.Errorf("the engine began a rollback of a healthy revision")
			}
			for _, tk := range e.describeTasks(disrupted) {
				if aws.ToString(tk.LastStatus) != "STOPPED" || !tc.stopped(tk) {
					t.Errorf("disrupted task %s is %s, %s, %q; want %s", aws.ToString(tk.TaskArn), aws.ToString(tk.LastStatus), tk.StopCode, aws.ToString(tk.StoppedReason), tc.want)
				}
			}
			// ECS did start replacements during the bake: launches beyond the phase's own.
			if n := e.listTasksOf(during, "web__2"); n == 0 {
				t.Errorf("the watch never read web__2's stopped tasks after the disruption")
			}
			if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{0, 0} || got["web__2"] != [2]int{8, 8} {
				t.Errorf("live desired/running %v, want web__2 at 8 and web__1 at 0", got)
			}
			e.checkCapacity(m, 8, "web__1", "web__2")
		})
	}
}

// TestAWSBehaviourReplacementsExplainedOnce covers the cost of telling ECS's replacements from
// failures (DESIGN.md §7.3: the watch reads the stopped tasks only while launches are not yet
// explained): once the tasks ECS stopped on its own during the bake of phase 2 have been read
// and sorted, neither the rest of the bake nor phase 3 reads stopped tasks again.
func TestAWSBehaviourReplacementsExplainedOnce(t *testing.T) {
	t.Parallel()
	threshold := deploy.Threshold(0, 8)
	cases := []struct {
		name    string
		spot    bool
		disrupt func(e *env) error
	}{
		{"Fargate Spot interruption", true, func(e *env) error {
			_, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptSpot)
			return err
		}},
		{"task retirement", false, func(e *env) error {
			_, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptRetirement)
			return err
		}},
		{"Availability Zone rebalancing", false, func(e *env) error {
			_, err := e.srv.Rebalance("prod", "web__2", threshold)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+": the stopped tasks are read until the replacements are explained, not for the rest of the bake nor in phase 3", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), tc.spot), deploy.State{})
			cfg := fargateConfig(e.registerFargateTD("healthy"), tc.spot)
			var during mark
			e.onLog(bakeLog(2, behaviourBake), func() {
				during = e.mark()
				if err := tc.disrupt(e); err != nil {
					t.Fatal(err)
				}
			})
			if _, err := e.eng.Deploy(context.Background(), cfg, prior); err != nil {
				t.Fatalf("the rollout failed: %v", err)
			}
			// The bake polls every 50 ms for 5 s; the replaced tasks have all stopped within a
			// start and a stop delay (60 ms) of the disruption, so a poll or two read them. Phase 3
			// launches only the tasks it asks for, and has nothing to read.
			var polls, reads [2]int // in the bake, in phase 3
			i := 0
			for _, c := range e.callsSince(during) {
				if c.Write {
					i = 1 // phase 3 began
				}
				if c.Action() == "ecs:DescribeServices" && strings.Contains(c.Resource, "web__2") {
					polls[i]++
				}
				if c.Action() == "ecs:ListTasks" && c.Resource == "web__2" {
					reads[i]++
				}
			}
			if reads[0] > 4 || reads[1] > 0 {
				t.Errorf("web__2's stopped tasks were read %d times in the bake's %d polls and %d times in phase 3's %d polls; want them read only until the replacement launches are explained, and not again in phase 3",
					reads[0], polls[0], reads[1], polls[1])
			}
		})
	}
}

// throttleFrom is the engine's ECS client; once from is set and has passed, ecslocal throttles
// every ListTasks, the SDK's retries included.
type throttleFrom struct {
	deploy.ECSAPI
	e    *env
	from time.Time
	on   bool
}

func (c *throttleFrom) ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	if !c.on && !c.from.IsZero() && !c.e.now().Before(c.from) {
		c.on = true
		c.e.srv.InjectFault(ecslocal.Fault{Operation: "ListTasks", Count: -1, Code: "ThrottlingException", Message: "Rate exceeded", Status: 400})
	}
	return c.ECSAPI.ListTasks(ctx, in, optFns...)
}

// TestAWSBehaviourReadFailureAfterReplacementsExplained covers a read of the stopped tasks that
// fails once ECS's replacements have been explained (DESIGN.md §7.3: only when the stopped tasks
// cannot be read does every unexplained launch count): from a second into the bake of phase 2 on,
// ListTasks is throttled beyond the SDK's retries. The replacements were explained within the
// first polls, and phase 3 launches only the tasks it asks for, so nothing is left unexplained
// for a failed read to count, and the rollout succeeds.
func TestAWSBehaviourReadFailureAfterReplacementsExplained(t *testing.T) {
	t.Parallel()
	threshold := deploy.Threshold(0, 8)
	cases := []struct {
		name    string
		spot    bool
		disrupt func(e *env) error
	}{
		{"Fargate Spot interruption", true, func(e *env) error {
			_, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptSpot)
			return err
		}},
		{"task retirement", false, func(e *env) error {
			_, err := e.srv.Interrupt("prod", "web__2", threshold, ecslocal.InterruptRetirement)
			return err
		}},
		{"Availability Zone rebalancing", false, func(e *env) error {
			_, err := e.srv.Rebalance("prod", "web__2", threshold)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" while phase 2 bakes, then ListTasks throttled from a second later on: the rollout succeeds", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), tc.spot), deploy.State{})
			useFastRetries(e)
			cfg := fargateConfig(e.registerFargateTD("healthy"), tc.spot)
			throttle := &throttleFrom{ECSAPI: e.eng.ECS, e: e}
			e.eng.ECS = throttle
			e.onLog(bakeLog(2, behaviourBake), func() {
				if err := tc.disrupt(e); err != nil {
					t.Fatal(err)
				}
				throttle.from = e.now().Add(time.Second)
			})
			if _, err := e.eng.Deploy(context.Background(), cfg, prior); err != nil {
				t.Errorf("a healthy rollout failed: %v", err)
			}
		})
	}
}

// TestAWSBehaviourCrashAmongSpotInterruptions covers a genuine failure among replacements ECS
// makes on its own (DESIGN.md §7.3): Fargate Spot interrupts both tasks of phase 1 as it starts
// to bake, and their replacements crash 3 s after they start, again and again. The crashes are
// counted and roll the rollout back; the Spot interruptions are not counted: the phase fails
// with no more failures than crashed tasks.
func TestAWSBehaviourCrashAmongSpotInterruptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), true), deploy.State{})
	cfg := fargateConfig(e.registerFargateTD("crash-after=3s"), true)
	cfg.Phases[0].BakeTime, cfg.Phases[1].BakeTime = 30*time.Second, 0
	var interrupted []string
	e.onLog(bakeLog(1, 30*time.Second), func() {
		var err error
		if interrupted, err = e.srv.Interrupt("prod", "web__2", 2, ecslocal.InterruptSpot); err != nil {
			t.Fatal(err)
		}
	})
	m := e.mark()
	res, err := e.eng.Deploy(context.Background(), cfg, prior)
	re := rolloutError(t, err)
	if len(interrupted) != 2 {
		t.Fatalf("%d tasks interrupted, want 2", len(interrupted))
	}
	if re.Phase != 1 || !strings.HasPrefix(re.Stage, "baking") || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
		t.Fatalf("failed in phase %d while %q (%s), rolled back %v; want phase 1 while baking, failed tasks, rolled back: %v", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, err)
	}
	if want := []string{"R1: web__1 at 8 tasks, web__2 at 0"}; !slices.Equal(re.RollbackSteps, want) {
		t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
	}
	checkRolledBackState(t, res, prior)
	failures := leadingCount(t, regexp.MustCompile(`^(\d+) tasks of web__2 failed \(threshold 4\)`), re.Failure.Message)
	crashed, spot := 0, 0
	for _, ev := range re.Failure.Evidence {
		if strings.Contains(ev, "Essential container in task exited") {
			crashed = leadingCount(t, regexp.MustCompile(`^(\d+)× stopped task`), ev)
		}
		if strings.Contains(ev, "Your Spot Task was interrupted.") {
			spot = leadingCount(t, regexp.MustCompile(`^(\d+)× stopped task`), ev)
		}
	}
	if crashed == 0 || failures > crashed {
		t.Errorf("%d failures counted with %d crashed tasks quoted; want the failures to be crashed tasks only (evidence %q)", failures, crashed, re.Failure.Evidence)
	}
	if spot != 2 {
		t.Errorf("the evidence quotes %d Spot interruptions, want 2: %q", spot, re.Failure.Evidence)
	}
	if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
		t.Errorf("live desired/running %v, want web__1 at 8 and web__2 at 0", got)
	}
	e.checkCapacity(m, 8, "web__1", "web__2")
}

// TestAWSBehaviourCrashAmongRebalancing covers a genuine failure in the same bake as an
// Availability Zone rebalancing (DESIGN.md §7.3): ECS rebalances both tasks of phase 1 as it
// starts to bake (it starts a task in another zone for each and stops the old one), and every
// task of the revision crashes 3 s after it starts, the rebalancing's new ones included. The
// crashes are counted and roll the rollout back; the tasks the rebalancing stopped are not
// counted: the phase fails with no more failures than crashed tasks.
func TestAWSBehaviourCrashAmongRebalancing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), false), deploy.State{})
	cfg := fargateConfig(e.registerFargateTD("crash-after=3s"), false)
	cfg.Phases[0].BakeTime, cfg.Phases[1].BakeTime = 30*time.Second, 0
	var rb ecslocal.Rebalancing
	e.onLog(bakeLog(1, 30*time.Second), func() {
		var err error
		if rb, err = e.srv.Rebalance("prod", "web__2", 2); err != nil {
			t.Fatal(err)
		}
	})
	m := e.mark()
	res, err := e.eng.Deploy(context.Background(), cfg, prior)
	re := rolloutError(t, err)
	if len(rb.Started) != 2 || len(rb.Stopping) != 2 {
		t.Fatalf("rebalancing started %d and stopped %d tasks, want 2 and 2", len(rb.Started), len(rb.Stopping))
	}
	if re.Phase != 1 || !strings.HasPrefix(re.Stage, "baking") || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
		t.Fatalf("failed in phase %d while %q (%s), rolled back %v; want phase 1 while baking, failed tasks, rolled back: %v", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, err)
	}
	if want := []string{"R1: web__1 at 8 tasks, web__2 at 0"}; !slices.Equal(re.RollbackSteps, want) {
		t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
	}
	checkRolledBackState(t, res, prior)
	// The rebalancing stopped its tasks before they could crash: stopped by the scheduler, not
	// because a container exited.
	for _, tk := range e.describeTasks(rb.Stopping) {
		if aws.ToString(tk.LastStatus) != "STOPPED" || tk.StopCode != types.TaskStopCodeServiceSchedulerInitiated ||
			strings.Contains(aws.ToString(tk.StoppedReason), "Essential container in task exited") {
			t.Errorf("rebalanced task %s is %s, %s, %q; want STOPPED by the scheduler", aws.ToString(tk.TaskArn), aws.ToString(tk.LastStatus), tk.StopCode, aws.ToString(tk.StoppedReason))
		}
	}
	failures := leadingCount(t, regexp.MustCompile(`^(\d+) tasks of web__2 failed \(threshold 4\)`), re.Failure.Message)
	crashed := 0
	for _, ev := range re.Failure.Evidence {
		if strings.Contains(ev, "Essential container in task exited") {
			crashed = leadingCount(t, regexp.MustCompile(`^(\d+)× stopped task`), ev)
		}
	}
	if crashed == 0 || failures > crashed {
		t.Errorf("%d failures counted with %d crashed tasks quoted; want the failures to be crashed tasks only (evidence %q)", failures, crashed, re.Failure.Evidence)
	}
	if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
		t.Errorf("live desired/running %v, want web__1 at 8 and web__2 at 0", got)
	}
	e.checkCapacity(m, 8, "web__1", "web__2")
}

// leadingCount returns the number re's first group matches in s; the test fails without one.
func leadingCount(t *testing.T, re *regexp.Regexp, s string) int {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q does not match %s", s, re)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestAWSBehaviourCrashAfterOnSpot covers a revision that crashes a while after it starts, on
// Fargate Spot with an interruption in the same bake: it is caught and rolled back in the phase
// whose bake it crashes in.
func TestAWSBehaviourCrashAfterOnSpot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prior := e.mustDeploy(fargateConfig(e.registerFargateTD("healthy"), true), deploy.State{})
	cfg := fargateConfig(e.registerFargateTD("crash-after=1s"), true)
	e.onLog(bakeLog(2, behaviourBake), func() {
		if _, err := e.srv.Interrupt("prod", "web__2", 1, ecslocal.InterruptSpot); err != nil {
			t.Fatal(err)
		}
	})
	res, err := e.eng.Deploy(context.Background(), cfg, prior)
	re := rolloutError(t, err)
	if re.Phase != 2 || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
		t.Fatalf("failed in phase %d while %q (%s), rolled back %v; want phase 2, failed tasks, rolled back: %v", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, err)
	}
	checkRolledBackState(t, res, prior)
	if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
		t.Errorf("live desired/running %v, want web__1 at 8 and web__2 at 0", got)
	}
}

// withLag sets ecslocal's consistency lag: clusters and services created from now on are
// MISSING from DescribeClusters and DescribeServices, and left out of ListServices, for d.
func (e *env) withLag(d time.Duration) {
	cfg := e.srv.CurrentConfig()
	cfg.ConsistencyLag = ecslocal.Duration(d)
	e.srv.Configure(cfg)
}

// TestAWSBehaviourConsistencyLag covers ECS's eventually consistent reads (DESIGN.md §5.3): with
// every new service MISSING from DescribeServices and ListServices for 2 s, a first deployment,
// the deployment of a new revision and a delete all succeed, and nothing rolls back.
func TestAWSBehaviourConsistencyLag(t *testing.T) {
	t.Parallel()
	const lag = 2 * time.Second
	cases := []struct {
		name    string
		serving bool
	}{
		{"tasks without a load balancer", false},
		{"tasks behind a target group", true},
	}
	for _, tc := range cases {
		t.Run(tc.name+": create, deploy and delete succeed through a 2 s lag", func(t *testing.T) {
			t.Parallel()
			var e *env
			var config func(td string) deploy.Config
			var td1, td2 string
			if tc.serving {
				e = newServingEnv(t, servingScale)
				tg := e.tgArn("web")
				config = func(td string) deploy.Config { return servingConfig(td, 4, tg) }
				td1, td2 = e.registerServingTD(elbHealthy, nil), e.registerServingTD(elbHealthy, nil)
			} else {
				e = newEnv(t)
				config = func(td string) deploy.Config { return baseConfig(td, 4) }
				td1, td2 = tdHealthy1, tdHealthy2
			}
			e.withLag(lag)
			cfg := config(td1)
			cfg.Phases[1].BakeTime = time.Second

			res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
			if err != nil {
				e.logSteps()
				t.Fatalf("create: %v", err)
			}
			if res.Current.Name != "web__1" || res.Rollout.Status != deploy.RolloutSucceeded {
				t.Fatalf("create: current %+v, rollout %+v", res.Current, res.Rollout)
			}
			// The create's waits saw web__1 MISSING for the lag and waited through it.
			if took := res.Rollout.FinishedAt.Sub(res.Rollout.StartedAt); took < lag {
				t.Errorf("the create took %s, less than the lag: ecslocal's lag was not in effect", took)
			}

			cfg2 := config(td2)
			cfg2.Phases[1].BakeTime = time.Second
			res2, err := e.eng.Deploy(context.Background(), cfg2, res.State)
			if err != nil {
				e.logSteps()
				t.Fatalf("deploy: %v", err)
			}
			if res2.Current.Name != "web__2" || res2.Previous == nil || res2.Previous.Name != "web__1" || res2.Rollout.Status != deploy.RolloutSucceeded {
				t.Fatalf("deploy: current %+v, previous %+v, rollout %+v", res2.Current, res2.Previous, res2.Rollout)
			}
			if got := e.live("web__1", "web__2"); got["web__2"] != [2]int{4, 4} || got["web__1"][0] != 0 {
				t.Errorf("after the deploy: live desired/running %v", got)
			}
			if e.logged(rollbackBegins) {
				t.Errorf("the engine began a rollback of a healthy rollout")
			}

			if err := e.eng.Delete(context.Background(), cfg2, res2.State); err != nil {
				t.Fatalf("delete: %v", err)
			}
			for _, s := range e.statuses("web__1", "web__2") {
				if s != "INACTIVE" {
					t.Errorf("after the delete: statuses %v, want every service INACTIVE", e.statuses("web__1", "web__2"))
					break
				}
			}
		})
	}
}

// statuses describes services of cluster prod and returns each one's status ("MISSING" when
// ECS does not show it).
func (e *env) statuses(names ...string) map[string]string {
	e.t.Helper()
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: names})
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, n := range names {
		m[n] = "MISSING"
	}
	for _, s := range out.Services {
		m[aws.ToString(s.ServiceName)] = aws.ToString(s.Status)
	}
	return m
}

// tokenLog is the engine's ECS client, recording the client token of every CreateService call
// the engine makes (the SDK's own retries of a call are not calls of the engine).
type tokenLog struct {
	deploy.ECSAPI
	mu     sync.Mutex
	tokens []string // "service token"
}

func (l *tokenLog) CreateService(ctx context.Context, in *ecs.CreateServiceInput, optFns ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error) {
	l.mu.Lock()
	l.tokens = append(l.tokens, aws.ToString(in.ServiceName)+" "+aws.ToString(in.ClientToken))
	l.mu.Unlock()
	return l.ECSAPI.CreateService(ctx, in, optFns...)
}

func (l *tokenLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.tokens)
}

// recordTokens makes the engine's ECS client record client tokens.
func (e *env) recordTokens() *tokenLog {
	l := &tokenLog{ECSAPI: e.eng.ECS}
	e.eng.ECS = l
	return l
}

// TestAWSBehaviourFreshAccount covers an account's first service (DESIGN.md §5.3): ECS fails the
// first CreateService while it creates its service-linked role, and the engine retries it after
// a second, with the same client token, and the first deployment succeeds.
func TestAWSBehaviourFreshAccount(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(o *ecslocal.Options) { o.FreshAccount = true })
	tokens := e.recordTokens()
	m := e.mark()
	res, err := e.eng.Deploy(context.Background(), baseConfig(tdHealthy1, 4), deploy.State{})
	if err != nil {
		t.Fatalf("first deployment in a fresh account: %v", err)
	}
	if res.Current.Name != "web__1" || res.Rollout.Status != deploy.RolloutSucceeded {
		t.Fatalf("current %+v, rollout %+v", res.Current, res.Rollout)
	}
	var creates []string
	var at []time.Time
	for _, c := range e.callsSince(m) {
		if c.Action() == "ecs:CreateService" {
			w := c.Action() + " " + c.Resource
			if c.ErrorCode != "" {
				w += " failed: " + c.ErrorCode
			}
			creates, at = append(creates, w), append(at, c.Time)
		}
	}
	want := []string{"ecs:CreateService web__1 failed: InvalidParameterException", "ecs:CreateService web__1"}
	if !slices.Equal(creates, want) {
		t.Fatalf("CreateService calls %q, want %q", creates, want)
	}
	if gap := at[1].Sub(at[0]); gap < time.Second {
		t.Errorf("the retry came %s after the failure, want the first backoff of 1s", gap)
	}
	if got := tokens.all(); len(got) != 2 || got[0] != got[1] {
		t.Errorf("client tokens of the create and its retry %q, want one token sent twice", got)
	}
	if !e.logged("CreateService failed with an error that eventual consistency explains; retrying") {
		t.Errorf("the retry was not logged: %q", e.log.all())
	}
	if got := e.live("web__1"); got["web__1"] != [2]int{4, 4} {
		t.Errorf("live desired/running %v", got)
	}
}

// TestAWSBehaviourClusterJustCreated covers preflight on a cluster created a moment ago
// (DESIGN.md §5.1): DescribeClusters does not show it for 2 s, and preflight looks again with
// backoff instead of calling it missing; the deployment succeeds.
func TestAWSBehaviourClusterJustCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.withLag(2 * time.Second)
	if _, err := e.ecs.CreateCluster(context.Background(), &ecs.CreateClusterInput{ClusterName: aws.String("fresh")}); err != nil {
		t.Fatal(err)
	}
	created := e.now()
	m := e.mark()
	cfg := baseConfig(tdHealthy1, 2)
	cfg.Cluster = "fresh"
	res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
	if err != nil {
		t.Fatalf("deployment to a cluster created a moment ago: %v", err)
	}
	if res.Current.Name != "web__1" || !strings.Contains(res.Current.ARN, ":service/fresh/web__1") {
		t.Fatalf("current %+v", res.Current)
	}
	looks := e.countsSince(m)["ecs:DescribeClusters"]
	if looks < 2 {
		t.Errorf("%d DescribeClusters calls, want preflight to have looked again", looks)
	}
	if first := e.callAt(m, "ecs:CreateService", "web__1"); first.Sub(created) < 2*time.Second {
		t.Errorf("CreateService came %s after the cluster was created, before it was visible", first.Sub(created))
	}
}

// replicaAhead is the engine's ECS client, whose reads of one cluster reach, until a given
// instant, a replica of ECS that already knows the cluster: DescribeClusters shows it ACTIVE,
// ListServices lists no service in it and DescribeServices finds none, as ECS answers for a new
// cluster once it is visible. ECS's reads are eventually consistent: "the result of an API
// command you run that affects your Amazon ECS resources might not be immediately visible to all
// subsequent commands you run"
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html), so a read may see
// a new cluster while the next command does not (the same model, for EC2, tells clients to keep
// waiting between commands "even if a Describe command returns an accurate response",
// https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). Everything else,
// CreateService included, goes to ecslocal, which does not find the cluster until its
// consistency lag has passed.
type replicaAhead struct {
	deploy.ECSAPI
	e       *env
	cluster string
	until   time.Time
	mu      sync.Mutex
	served  int // reads answered by the replica
}

// ahead reports whether a read of cluster ref is answered by the replica, and counts it.
func (r *replicaAhead) ahead(ref *string) bool {
	if deploy.LastSegment(aws.ToString(ref)) != r.cluster || !r.e.now().Before(r.until) {
		return false
	}
	r.mu.Lock()
	r.served++
	r.mu.Unlock()
	return true
}

func (r *replicaAhead) reads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served
}

func (r *replicaAhead) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	if len(in.Clusters) == 1 && r.ahead(&in.Clusters[0]) {
		return &ecs.DescribeClustersOutput{Clusters: []types.Cluster{{
			ClusterName: aws.String(r.cluster), ClusterArn: aws.String("arn:aws:ecs:eu-west-1:000000000000:cluster/" + r.cluster), Status: aws.String("ACTIVE"),
		}}}, nil
	}
	return r.ECSAPI.DescribeClusters(ctx, in, optFns...)
}

func (r *replicaAhead) ListServices(ctx context.Context, in *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	if r.ahead(in.Cluster) {
		return &ecs.ListServicesOutput{}, nil
	}
	return r.ECSAPI.ListServices(ctx, in, optFns...)
}

func (r *replicaAhead) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if r.ahead(in.Cluster) {
		out := &ecs.DescribeServicesOutput{}
		for _, s := range in.Services {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(fmt.Sprintf("arn:aws:ecs:eu-west-1:000000000000:service/%s/%s", r.cluster, s)), Reason: aws.String("MISSING")})
		}
		return out, nil
	}
	return r.ECSAPI.DescribeServices(ctx, in, optFns...)
}

// createServiceCalls lists the CreateService calls after m as "service error-code" with when
// each was served.
func (e *env) createServiceCalls(m mark) ([]string, []time.Time) {
	var calls []string
	var at []time.Time
	for _, c := range e.callsSince(m) {
		if c.Action() == "ecs:CreateService" {
			calls, at = append(calls, c.Resource+" "+c.ErrorCode), append(at, c.Time)
		}
	}
	return calls, at
}

// TestAWSBehaviourCreateServiceClusterNotFound covers a CreateService in a cluster created a
// moment ago (DESIGN.md §5.3): with a 2 s consistency lag, the engine's reads see the new
// cluster at once (replicaAhead) but ecslocal's CreateService does not find it until the lag has
// passed and answers ClusterNotFoundException, as terraform-provider-aws expects of a cluster
// created in the same apply. The engine retries with backoff and the same client token, and the
// deployment succeeds without a rollback.
func TestAWSBehaviourCreateServiceClusterNotFound(t *testing.T) {
	t.Parallel()
	const lag = 2 * time.Second
	e := newEnv(t)
	e.withLag(lag)
	if _, err := e.ecs.CreateCluster(context.Background(), &ecs.CreateClusterInput{ClusterName: aws.String("fresh")}); err != nil {
		t.Fatal(err)
	}
	created := e.now()
	replica := &replicaAhead{ECSAPI: e.eng.ECS, e: e, cluster: "fresh", until: created.Add(lag)}
	e.eng.ECS = replica
	tokens := e.recordTokens()
	m := e.mark()
	cfg := baseConfig(tdHealthy1, 2)
	cfg.Cluster = "fresh"
	res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
	if err != nil {
		e.logSteps()
		t.Fatalf("deployment to a cluster created a moment ago: %v", err)
	}
	if res.Current.Name != "web__1" || !strings.Contains(res.Current.ARN, ":service/fresh/web__1") || res.Rollout.Status != deploy.RolloutSucceeded {
		t.Fatalf("current %+v, rollout %+v", res.Current, res.Rollout)
	}
	if replica.reads() == 0 {
		t.Fatalf("no read of cluster fresh reached the replica that knows it")
	}
	calls, at := e.createServiceCalls(m)
	failed := 0
	for _, c := range calls[:len(calls)-1] {
		if c == "web__1 ClusterNotFoundException" {
			failed++
		}
	}
	if failed == 0 || failed != len(calls)-1 || calls[len(calls)-1] != "web__1 " {
		t.Fatalf("CreateService calls (service error) %q, want ClusterNotFoundException at least once, then a create that succeeded", calls)
	}
	if ok := at[len(at)-1]; ok.Sub(created) < lag {
		t.Errorf("the create succeeded %s after the cluster was created, within the lag", ok.Sub(created))
	}
	if got := tokens.all(); len(got) != len(calls) || len(slices.Compact(slices.Clone(got))) != 1 {
		t.Errorf("client tokens of the create and its retries %q, want one token sent %d times", got, len(calls))
	}
	if !e.logged("CreateService failed with an error that eventual consistency explains; retrying") {
		t.Errorf("the retry was not logged: %q", e.log.all())
	}
	if e.logged(rollbackBegins) {
		t.Errorf("the engine began a rollback")
	}
	out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("fresh"), Services: []string{"web__1"}})
	if err != nil || len(out.Services) != 1 || out.Services[0].DesiredCount != 2 || out.Services[0].RunningCount != 2 {
		t.Errorf("web__1 in fresh: %+v, %v; want 2 running", out, err)
	}
}

// clockHook is the engine's clock with an action run once the engine's sleeps have brought
// virtual time to at (set by the test while the engine runs).
type clockHook struct {
	*ecslocal.FakeClock
	mu     sync.Mutex
	at     time.Time
	action func()
}

func (c *clockHook) fireAt(at time.Time) {
	c.mu.Lock()
	c.at = at
	c.mu.Unlock()
}

func (c *clockHook) Sleep(ctx context.Context, d time.Duration) error {
	if err := c.FakeClock.Sleep(ctx, d); err != nil {
		return err
	}
	c.mu.Lock()
	fire := !c.at.IsZero() && !c.Now().Before(c.at) && c.action != nil
	action := c.action
	if fire {
		c.action = nil
	}
	c.mu.Unlock()
	if fire {
		action()
	}
	return nil
}

// TestAWSBehaviourTargetGroupWithoutListener covers a target group whose listener is created in
// the same apply as the deployment (DESIGN.md §5.3): CreateService fails with "does not have an
// associated load balancer" while no listener forwards to the group; a listener forwarding to it
// is created a (virtual) second after that failure, and the engine's retry creates the service,
// which serves behind the group.
func TestAWSBehaviourTargetGroupWithoutListener(t *testing.T) {
	t.Parallel()
	e := newServingEnv(t, servingScale)
	ctx := context.Background()
	tgOut, err := e.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("late"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-ecslocal"), TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil {
		t.Fatal(err)
	}
	late := aws.ToString(tgOut.TargetGroups[0].TargetGroupArn)
	lbs, err := e.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	lbArn := aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn)
	var listenerAt time.Time
	hook := &clockHook{FakeClock: e.clock, action: func() {
		listenerAt = e.now()
		if _, err := e.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: aws.String(lbArn), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(late)}},
		}); err != nil {
			t.Error(err)
		}
	}}
	e.eng.Clock = hook
	e.onLog("CreateService failed with an error that eventual consistency explains; retrying", func() {
		hook.fireAt(e.now().Add(time.Second))
	})
	m := e.mark()
	res, err := e.eng.Deploy(ctx, servingConfig(e.registerServingTD(elbHealthy, nil), 4, late), deploy.State{})
	if err != nil {
		e.logSteps()
		t.Fatalf("deployment behind a target group whose listener came a second later: %v", err)
	}
	if res.Current.Name != "web__1" || res.Rollout.Status != deploy.RolloutSucceeded {
		t.Fatalf("current %+v, rollout %+v", res.Current, res.Rollout)
	}
	calls, at := e.createServiceCalls(m)
	if want := []string{"web__1 InvalidParameterException", "web__1 "}; !slices.Equal(calls, want) {
		t.Fatalf("CreateService calls (service error) %q, want %q", calls, want)
	}
	if listenerAt.IsZero() || listenerAt.Sub(at[0]) != time.Second || at[1].Before(listenerAt) {
		t.Errorf("CreateService failed at %s, the listener came at %s, the retry at %s; want the listener a second after the failure and the retry after it", at[0], listenerAt, at[1])
	}
	if e.logged(rollbackBegins) {
		t.Errorf("the engine began a rollback")
	}
	if got := e.live("web__1"); got["web__1"] != [2]int{4, 4} {
		t.Errorf("live desired/running %v, want web__1 at 4", got)
	}
	th, err := e.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(late)})
	if err != nil {
		t.Fatal(err)
	}
	healthy := 0
	for _, d := range th.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	if healthy != 4 {
		t.Errorf("%d healthy targets in the late target group, want web__1's 4", healthy)
	}
}

// TestAWSBehaviourDestroyThenCreate covers a name that stays DRAINING after its service is
// deleted (DESIGN.md §10.5): behind a target group with a 3 s deregistration delay, Delete
// returns only once both services are INACTIVE, so the create of the same deployment that
// follows at once gets web__1 again; and that create, a new run, sends a client token of its
// own. It runs without and with a 2 s consistency lag (DESIGN.md §5.3): with the lag, every
// service the deployments and the create make is MISSING from DescribeServices for 2 s, the
// new web__1 included, and nothing is refused or rolled back.
func TestAWSBehaviourDestroyThenCreate(t *testing.T) {
	t.Parallel()
	for _, lag := range []time.Duration{0, 2 * time.Second} {
		t.Run(fmt.Sprintf("consistency lag %s", lag), func(t *testing.T) {
			t.Parallel()
			e := newServingEnv(t, servingScale) // deregistration delay 300 s × 0.01
			e.withLag(lag)
			tg := e.tgArn("web")
			tokens := e.recordTokens()
			cfg := servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg)
			first := e.mustDeploy(cfg, deploy.State{})
			st := e.mustDeploy(servingConfig(e.registerServingTD(elbHealthy, nil), 4, tg), first)

			m := e.mark()
			began := e.now()
			if err := e.eng.Delete(context.Background(), cfg, st); err != nil {
				t.Fatalf("delete: %v", err)
			}
			returned := e.now()
			if got := e.statuses("web__1", "web__2"); got["web__1"] != "INACTIVE" || got["web__2"] != "INACTIVE" {
				t.Fatalf("when Delete returned: %v, want both INACTIVE", got)
			}
			// The deleted services were DRAINING for the deregistration delay, and Delete waited.
			var draining, inactive time.Time
			for _, te := range e.srv.Timeline()[m.timeline:] {
				if te.Service == "web__2" && te.Status == "DRAINING" && draining.IsZero() {
					draining = te.Time
				}
				if te.Service == "web__2" && te.Status == "INACTIVE" && inactive.IsZero() {
					inactive = te.Time
				}
			}
			if draining.IsZero() || inactive.Sub(draining) < 2500*time.Millisecond {
				t.Errorf("web__2 DRAINING at %s, INACTIVE at %s (from the delete); want it to drain for the 3 s deregistration delay", draining.Sub(began), inactive.Sub(began))
			}
			if returned.Before(inactive) {
				t.Errorf("Delete returned %s before web__2 was INACTIVE", inactive.Sub(returned))
			}

			m = e.mark()
			began = e.now()
			res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
			if err != nil {
				e.logSteps()
				t.Fatalf("create right after the delete: %v", err)
			}
			if res.Current.Name != "web__1" || res.Rollout.Status != deploy.RolloutSucceeded {
				t.Errorf("the create made %s (rollout %+v), want web__1 (the name is free again) and a rollout that succeeded", res.Current.Name, res.Rollout)
			}
			if calls, _ := e.createServiceCalls(m); !slices.Equal(calls, []string{"web__1 "}) {
				t.Errorf("CreateService calls (service error) %q, want one create of web__1 that succeeded", calls)
			}
			// With the lag, the new web__1 was MISSING for 2 s and the create waited it out.
			if took := e.now().Sub(began); took < lag {
				t.Errorf("the create took %s, less than the %s lag: ecslocal's lag was not in effect", took, lag)
			}
			if e.logged(rollbackBegins) {
				t.Errorf("the engine began a rollback")
			}
			if got := e.live("web__1"); got["web__1"] != [2]int{4, 4} {
				t.Errorf("live desired/running %v, want web__1 at 4", got)
			}
			got := tokens.all()
			var web1 []string
			for _, tk := range got {
				if name, tok, _ := strings.Cut(tk, " "); name == "web__1" {
					web1 = append(web1, tok)
				}
			}
			if len(web1) != 2 || web1[0] == web1[1] {
				t.Errorf("client tokens of the two creates of web__1 %q, want two different tokens", web1)
			}
		})
	}
}

// TestAWSBehaviourAvailabilityZoneRebalancing covers service.availability_zone_rebalancing
// (DESIGN.md §7.3): the created services of a first deployment and of a new revision get what the
// configuration says, DISABLED; without it, ECS's default, ENABLED. ECS does not rebalance a
// service whose rebalancing is DISABLED.
func TestAWSBehaviourAvailabilityZoneRebalancing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		setting string
		want    types.AvailabilityZoneRebalancing
	}{
		{"", types.AvailabilityZoneRebalancingEnabled},
		{"DISABLED", types.AvailabilityZoneRebalancingDisabled},
		{"ENABLED", types.AvailabilityZoneRebalancingEnabled},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("availability_zone_rebalancing %q", tc.setting), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			config := func(td string) deploy.Config {
				cfg := fargateConfig(td, false)
				cfg.Phases[1].BakeTime = 0
				cfg.Service.AvailabilityZoneRebalancing = tc.setting
				return cfg
			}
			m := e.mark()
			st := e.mustDeploy(config(e.registerFargateTD("healthy")), deploy.State{})
			e.mustDeploy(config(e.registerFargateTD("healthy")), st)
			out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web__1", "web__2"}})
			if err != nil || len(out.Services) != 2 {
				t.Fatalf("describing web__1 and web__2: %v (%d found)", err, len(out.Services))
			}
			for _, svc := range out.Services {
				if svc.AvailabilityZoneRebalancing != tc.want {
					t.Errorf("%s has availabilityZoneRebalancing %q, want %q", aws.ToString(svc.ServiceName), svc.AvailabilityZoneRebalancing, tc.want)
				}
			}
			if calls, _ := e.createServiceCalls(m); !slices.Equal(calls, []string{"web__1 ", "web__2 "}) {
				t.Errorf("CreateService calls %q", calls)
			}
			_, err = e.srv.Rebalance("prod", "web__2", 1)
			if disabled := tc.want == types.AvailabilityZoneRebalancingDisabled; disabled != (err != nil) {
				t.Errorf("rebalancing web__2: %v; want it refused only when rebalancing is DISABLED", err)
			}
		})
	}
}

// TestAWSBehaviourClientTokenPerRun covers the client token of CreateService (DESIGN.md §5.3):
// the same deployment created again with the same configuration by a later run, after its
// service became INACTIVE, is a request of its own, with a token of its own, and succeeds.
func TestAWSBehaviourClientTokenPerRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokens := e.recordTokens()
	cfg := baseConfig(tdHealthy1, 2)
	st := e.mustDeploy(cfg, deploy.State{})
	if err := e.eng.Delete(context.Background(), cfg, st); err != nil {
		t.Fatal(err)
	}
	if got := e.statuses("web__1"); got["web__1"] != "INACTIVE" {
		t.Fatalf("after the delete web__1 is %s", got["web__1"])
	}
	res, err := e.eng.Deploy(context.Background(), cfg, deploy.State{})
	if err != nil {
		t.Fatalf("the second create: %v", err)
	}
	if res.Current.Name != "web__1" {
		t.Fatalf("the second create made %s, want web__1", res.Current.Name)
	}
	got := tokens.all()
	if len(got) != 2 || got[0] == got[1] || !strings.HasPrefix(got[0], "web__1 ") || !strings.HasPrefix(got[1], "web__1 ") {
		t.Errorf("CreateService calls (service token) %q, want two creates of web__1 with different tokens", got)
	}
	if got := e.live("web__1"); got["web__1"] != [2]int{2, 2} {
		t.Errorf("live desired/running %v", got)
	}
}

// scalingCalls lists the Application Auto Scaling calls after m as "Operation resource".
func (e *env) scalingCalls(m mark) []string {
	var out []string
	for _, c := range e.callsSince(m) {
		if c.Service == "application-autoscaling" {
			out = append(out, c.Operation+" "+c.Resource)
		}
	}
	return out
}

// TestAWSBehaviourDescribeBeforeDeregister covers DESIGN.md §10.5: Delete and a rollback
// describe the scalable targets of the services they take auto scaling off in one
// DescribeScalableTargets call, and deregister only the targets that exist.
func TestAWSBehaviourDescribeBeforeDeregister(t *testing.T) {
	t.Parallel()
	withScaling := func(td string) deploy.Config {
		cfg := baseConfig(td, 4)
		cfg.AutoScaling = &deploy.AutoScaling{Min: 2, Max: 8, TargetTracking: cpu60().TargetTracking}
		return cfg
	}
	t.Run("Delete describes the three owned services at once and deregisters the two targets that exist", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		st = e.mustDeploy(withScaling(tdHealthy2), st)
		st = e.mustDeploy(withScaling(tdHealthy6), st)
		// A target left on web__1 (at 0) by hand; web__2 has none.
		if _, err := e.aas.RegisterScalableTarget(context.Background(), &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: aws.Int32(0), MaxCapacity: aws.Int32(2),
		}); err != nil {
			t.Fatal(err)
		}
		m := e.mark()
		if err := e.eng.Delete(context.Background(), withScaling(tdHealthy6), st); err != nil {
			t.Fatalf("delete: %v", err)
		}
		want := []string{
			"DescribeScalableTargets service/prod/web__1,service/prod/web__2,service/prod/web__3",
			"DeregisterScalableTarget service/prod/web__1",
			"DeregisterScalableTarget service/prod/web__3",
		}
		if got := e.scalingCalls(m); !slices.Equal(got, want) {
			t.Errorf("auto scaling calls %q, want %q", got, want)
		}
		for _, s := range []string{"web__1", "web__3"} {
			if v := e.scaling(s); v != nil {
				t.Errorf("%s still has a scalable target %+v", s, v)
			}
		}
	})
	t.Run("a rollback in a phase describes the new service's target, finds none and deregisters nothing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		rb := e.rollbackMark()
		_, err := e.eng.Deploy(context.Background(), withScaling(tdCrash), prior)
		if re := rolloutError(t, err); !re.RolledBack {
			t.Fatalf("not rolled back: %v", err)
		}
		// web__1's target kept its policy through the rollout, suspended: resuming it is one
		// registration, and no policy is put again (DESIGN.md §5.6.3).
		want := []string{
			"DescribeScalableTargets service/prod/web__2",
			"RegisterScalableTarget service/prod/web__1",
		}
		if got := e.scalingCalls(*rb); !slices.Equal(got, want) {
			t.Errorf("the rollback's auto scaling calls %q, want %q", got, want)
		}
	})
	t.Run("a rollback after the new service's target was registered deregisters it, once", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		// Finish registers web__2's target, then its policy is refused: the last phase fails.
		e.fault("PutScalingPolicy", "AccessDeniedException", 0, 1)
		rb := e.rollbackMark()
		_, err := e.eng.Deploy(context.Background(), withScaling(tdHealthy2), prior)
		re := rolloutError(t, err)
		if !re.RolledBack || !strings.Contains(re.Stage, "registering auto scaling on web__2") {
			t.Fatalf("stage %q, rolled back %v: %v", re.Stage, re.RolledBack, err)
		}
		want := []string{
			"DescribeScalableTargets service/prod/web__2",
			"DeregisterScalableTarget service/prod/web__2",
			"RegisterScalableTarget service/prod/web__1",
		}
		if got := e.scalingCalls(*rb); !slices.Equal(got, want) {
			t.Errorf("the rollback's auto scaling calls %q, want %q", got, want)
		}
		if v := e.scaling("web__2"); v != nil {
			t.Errorf("web__2 still has a scalable target %+v", v)
		}
		if v := e.scaling("web__1"); v == nil || v.Min != 2 || v.Max != 8 {
			t.Errorf("web__1's scalable target %+v, want 2–8 back", v)
		}
	})
}
