package deploy_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestRollout covers a successful deployment of a new revision over a production service.
func TestRollout(t *testing.T) {
	t.Parallel()
	t.Run("three phases of 25, 50 and 100 percent move both services through exactly the planned counts", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		res, err := e.eng.Deploy(ctx, baseConfig(tdHealthy1, 8), deploy.State{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__1" || res.Current.DesiredCount != 8 || res.Previous != nil || res.HighestRevision != 1 {
			t.Fatalf("after create: %+v current %+v", res, res.Current)
		}

		m := e.mark()
		began := e.now()
		res, err = e.eng.Deploy(ctx, baseConfig(tdHealthy2, 8), res.State)
		took := e.now().Sub(began)
		if err != nil {
			t.Fatal(err)
		}
		counts, polls := e.countsSince(m), e.pollsPerWait(m)
		if res.Current.Name != "web__2" || res.Current.DesiredCount != 8 || res.Current.Revision != 2 ||
			deploy.FamilyRevision(res.Current.TaskDefinition) != tdHealthy2 || res.HighestRevision != 2 {
			t.Errorf("current %+v, highest revision %d", res.Current, res.HighestRevision)
		}
		if res.Previous == nil || res.Previous.Name != "web__1" || res.Previous.DesiredCount != 8 {
			t.Errorf("previous %+v, want web__1 at 8", res.Previous)
		}
		if res.Rollout == nil || res.Rollout.Status != deploy.RolloutSucceeded || res.Rollout.Revision != 2 {
			t.Errorf("rollout %+v", res.Rollout)
		}

		// Phase arithmetic for desired 8, P 8: {2, 6}, {4, 4}, {8, 0}; each phase first grows
		// the new service, then shrinks the old one.
		if got, want := e.settledPairs(m, "web__2", "web__1"), [][2]int{{0, 8}, {2, 8}, {2, 6}, {4, 6}, {4, 4}, {8, 4}, {8, 0}}; !reflect.DeepEqual(got, want) {
			t.Errorf("settled {new, old} counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 4, 8}; !reflect.DeepEqual(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__1"), []int{8, 6, 4, 0}; !reflect.DeepEqual(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if got := e.live("web__1", "web__2"); got["web__2"] != [2]int{8, 8} || got["web__1"] != [2]int{0, 0} {
			t.Errorf("live desired/running %v", got)
		}

		// API cost: state names production, so nothing is listed; one ListTasks and DescribeTasks
		// learn how long production's tasks took to start; one call per scaling step.
		described := counts["ecs:DescribeServices"]
		delete(counts, "ecs:DescribeServices")
		want := map[string]int{
			"ecs:DescribeClusters":                            1,
			"ecs:DescribeTaskDefinition":                      1,
			"ecs:ListTasks":                                   1,
			"ecs:DescribeTasks":                               1,
			"application-autoscaling:DescribeScalableTargets": 1,
			"ecs:CreateService":                               1,
			"ecs:UpdateService":                               6,
		}
		if !maps.Equal(counts, want) {
			t.Errorf("calls per operation %v, want %v", counts, want)
		}
		// One DescribeServices for discovery, then the polls of six waits. Production's tasks
		// teach the poller that a start takes 40 ms: each start wait sleeps 37.5 ms (half a
		// Poll.Initial before the estimate), then polls every 2.5 ms (2 polls). The first stop
		// wait has no estimate and polls every 5 ms (4 polls, to 20 ms), which brackets the stop
		// between 15 and 20 ms; the second polls from 15 ms every 2.5 ms (3 polls), which
		// narrows it to between 17.5 and 20 ms; the third polls at 17.5 and 20 ms (2 polls).
		if want := []int{2, 4, 2, 3, 2, 2}; !slices.Equal(polls, want) || described != 1+2+4+2+3+2+2 {
			t.Errorf("%d DescribeServices calls, polls per wait %v; want discovery's one and %v", described, polls, want)
		}
		counts["ecs:DescribeServices"] = described
		t.Logf("calls per operation: %v", counts)
		if r := e.retriesSince(m); len(r) > 0 {
			t.Logf("SDK retries, left out of the counts: %v", r)
		}
		// Each phase waits one start delay and then one stop delay, and every wait ends at the
		// instant its goal is met: the rollout takes exactly its tasks' delays, no more.
		if delays := 3 * (startDelay + stopDelay); took != delays {
			t.Errorf("the rollout took %s of virtual time, want exactly the %s its tasks need to start and stop (3 × (%s + %s))", took, delays, startDelay, stopDelay)
		}
		if got := res.Rollout.FinishedAt.Sub(res.Rollout.StartedAt); got != took {
			t.Errorf("last rollout from %s to %s (%s), want the %s the rollout took", res.Rollout.StartedAt, res.Rollout.FinishedAt, got, took)
		}
	})
}

// TestRollbackAfterAFailedPhase fails the new revision in each phase in turn. Phase 1 fails
// with a revision that crashes on start. A revision that crashes on start cannot pass phase 1,
// so phases 2 and 3 fail with one whose tasks run for 700 ms and then crash: the phases before
// the failing one complete well within that time, and the failing phase bakes long enough for
// the crashes to happen in it.
func TestRollbackAfterAFailedPhase(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		failIn    int
		allAtOnce bool
		old, new  []int // desired counts each service goes through
		steps     []string
	}{
		{
			name: "a revision that crashes on start fails phase 1 and R1 scales it back to 0", failIn: 1,
			old: []int{8}, new: []int{0, 2, 0},
			steps: []string{"R1: web__1 at 8 tasks, web__2 at 0"},
		},
		{
			name: "a failure in phase 2 runs R2 then R1", failIn: 2,
			old: []int{8, 6, 4, 6, 8}, new: []int{0, 2, 4, 2, 0},
			steps: []string{"R2: web__1 at 6 tasks, web__2 at 2", "R1: web__1 at 8 tasks, web__2 at 0"},
		},
		{
			name: "a failure in phase 3 runs R3, R2 and R1 in that order", failIn: 3,
			old: []int{8, 6, 4, 0, 4, 6, 8}, new: []int{0, 2, 4, 8, 4, 2, 0},
			steps: []string{"R3: web__1 at 4 tasks, web__2 at 4", "R2: web__1 at 6 tasks, web__2 at 2", "R1: web__1 at 8 tasks, web__2 at 0"},
		},
		{
			name: "a failure in phase 1 rolled back all at once takes one step", failIn: 1, allAtOnce: true,
			old: []int{8}, new: []int{0, 2, 0},
			steps: []string{"rollback (all phases at once): web__1 at 8 tasks, web__2 at 0"},
		},
		{
			name: "a failure in phase 2 rolled back all at once brings the old service straight back to its count", failIn: 2, allAtOnce: true,
			old: []int{8, 6, 4, 8}, new: []int{0, 2, 4, 0},
			steps: []string{"rollback (all phases at once): web__1 at 8 tasks, web__2 at 0"},
		},
		{
			name: "a failure in phase 3 rolled back all at once brings the old service straight back to its count", failIn: 3, allAtOnce: true,
			old: []int{8, 6, 4, 0, 8}, new: []int{0, 2, 4, 8, 0},
			steps: []string{"rollback (all phases at once): web__1 at 8 tasks, web__2 at 0"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
			cfg := baseConfig(tdCrash, 8)
			if tc.failIn > 1 {
				cfg = baseConfig(e.registerTD("crash-after=700ms"), 8)
				cfg.Phases[tc.failIn-1].BakeTime = 3 * time.Second
			}
			cfg.RollbackAllAtOnce = tc.allAtOnce

			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, prior)
			counts := e.countsSince(m)
			re := rolloutError(t, err)
			if re.Phase != tc.failIn || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack || re.RollbackErr != nil {
				t.Errorf("failed in phase %d (%s) while %s, rolled back %v (%v); want phase %d, failed tasks",
					re.Phase, re.Failure.Kind, re.Stage, re.RolledBack, re.RollbackErr, tc.failIn)
			}
			if !slices.Equal(re.RollbackSteps, tc.steps) {
				t.Errorf("rollback steps %q, want %q", re.RollbackSteps, tc.steps)
			}
			if re.Production != "web__1 at 8 tasks" || !strings.Contains(err.Error(), `stopped task: "Essential container in task exited`) {
				t.Errorf("report lacks production or the quoted stop reason:\n%v", err)
			}
			checkRolledBackState(t, res, prior)

			if got := e.desiredChanges(m, "web__1"); !slices.Equal(got, tc.old) {
				t.Errorf("web__1 desired counts %v, want %v", got, tc.old)
			}
			if got := e.desiredChanges(m, "web__2"); !slices.Equal(got, tc.new) {
				t.Errorf("web__2 desired counts %v, want %v", got, tc.new)
			}
			e.checkCapacity(m, 8, "web__1", "web__2")
			if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"][0] != 0 {
				t.Errorf("live desired/running %v, want web__1 at 8 and web__2 at 0", got)
			}
			// Every desired count above was set by exactly one UpdateService call.
			if want := len(tc.old) - 1 + len(tc.new) - 1; counts["ecs:UpdateService"] != want || counts["ecs:CreateService"] != 1 || counts["ecs:DeleteService"] != 0 {
				t.Errorf("calls per operation %v, want %d UpdateService, 1 CreateService, no DeleteService; writes: %q", counts, want, e.writesSince(m))

			}
			t.Logf("calls per operation: %v", counts)
			if r := e.retriesSince(m); len(r) > 0 {
				t.Logf("SDK retries, left out of the counts: %v", r)
			}
			t.Log(err)
		})
	}
}

// TestFailureDetection covers the other ways a phase fails (DESIGN.md §7): tasks that crash
// during the bake, a steady-state timeout, and a failed first deployment.
func TestFailureDetection(t *testing.T) {
	t.Parallel()
	t.Run("tasks that crash during the bake time fail the phase and it is rolled back", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		cfg := baseConfig(tdCrashAfter, 8)
		cfg.Phases[0].BakeTime = 2 * time.Second

		m := e.mark()
		res, err := e.eng.Deploy(context.Background(), cfg, prior)
		re := rolloutError(t, err)
		if re.Phase != 1 || !strings.HasPrefix(re.Stage, "baking") || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
			t.Errorf("failed in phase %d while %q (%s), rolled back %v; want phase 1 while baking, failed tasks", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack)
		}
		// The threshold for 8 tasks is 4 failures: the phase's two tasks start 40 ms after the
		// scale-up and crash 150 ms later, their two replacements do the same, so the fourth
		// crash comes 380 ms after the scale-up. The bake polls every Poll.Max (50 ms), so the
		// rollback begins within 50 ms of that, long before the 2 s bake is over.
		up, bake, found := e.callAt(m, "ecs:UpdateService", "web__2"), stepAt(t, res, "phase 1: baking"), stepAt(t, res, "R1:")
		fourth := 2 * (startDelay + 150*time.Millisecond)
		if took := found.Sub(up); took <= fourth || took > fourth+testPoll.Max {
			t.Errorf("the rollback began %s after the scale-up, want within %s after the fourth crash at %s", took, testPoll.Max, fourth)
		}
		if took := found.Sub(bake); took >= cfg.Phases[0].BakeTime {
			t.Errorf("the failure was found %s into the bake, not during the %s bake", took, cfg.Phases[0].BakeTime)
		}
		if want := []string{"R1: web__1 at 8 tasks, web__2 at 0"}; !slices.Equal(re.RollbackSteps, want) {
			t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
		}
		if !strings.Contains(err.Error(), `stopped task: "Essential container in task exited`) {
			t.Errorf("the report does not quote the stop reason:\n%v", err)
		}
		checkRolledBackState(t, res, prior)
		if got, want := e.desiredChanges(m, "web__1"), []int{8, 6, 8}; !slices.Equal(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"][0] != 0 {
			t.Errorf("live desired/running %v", got)
		}
		// ListTasks and DescribeTasks: once to learn production's start time, once at each of the
		// two crashes (two tasks each) to tell the revision's own failures from tasks ECS replaced
		// on its own, and once for the evidence of the failure.
		if counts := e.countsSince(m); counts["ecs:UpdateService"] != 4 || counts["ecs:ListTasks"] != 4 || counts["ecs:DescribeTasks"] != 4 {
			t.Errorf("calls per operation %v, want 4 UpdateService and four each of ListTasks and DescribeTasks", counts)
		}
		t.Log(err)
	})

	t.Run("a revision slower to start than steady_state_timeout is rolled back with an error naming the timeout", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		cfg := baseConfig(tdSlowStart, 8)
		cfg.SteadyStateTimeout = 300 * time.Millisecond

		m := e.mark()
		res, err := e.eng.Deploy(context.Background(), cfg, prior)
		re := rolloutError(t, err)
		if re.Phase != 1 || re.Failure.Kind != deploy.FailureTimeout || !re.RolledBack {
			t.Errorf("failed in phase %d (%s), rolled back %v; want phase 1, timeout", re.Phase, re.Failure.Kind, re.RolledBack)
		}
		if !strings.Contains(err.Error(), "steady_state_timeout (300ms) reached: web__2 has 0 running and 2 pending of 2") {
			t.Errorf("the error does not name the timeout and the counts:\n%v", err)
		}
		// The wait gives up when steady_state_timeout has passed since web__2 was scaled up,
		// long before its tasks' 2 s start, and the rollback begins at once.
		if waited := stepAt(t, res, "R1:").Sub(e.callAt(m, "ecs:UpdateService", "web__2")); waited != cfg.SteadyStateTimeout {
			t.Errorf("the rollback began %s after web__2 was scaled up, want exactly the %s timeout", waited, cfg.SteadyStateTimeout)
		}
		checkRolledBackState(t, res, prior)
		if got, want := e.desiredChanges(m, "web__1"), []int{8}; !slices.Equal(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
			t.Errorf("live desired/running %v", got)
		}
		if counts := e.countsSince(m); counts["ecs:UpdateService"] != 2 {
			t.Errorf("calls per operation %v, want 2 UpdateService", counts)
		}
		t.Log(err)
	})

	t.Run("a first deployment that fails has nothing to roll back to and is scaled to 0 and deleted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		m := e.mark()
		res, err := e.eng.Deploy(context.Background(), baseConfig(tdCrash, 8), deploy.State{})
		re := rolloutError(t, err)
		if res != nil {
			t.Errorf("result %+v, want nil: nothing is saved", res)
		}
		if !re.Created || re.Phase != 1 || re.Failure.Kind != deploy.FailureTasks || re.RollbackErr != nil {
			t.Errorf("created %v, phase %d (%s), rollback error %v", re.Created, re.Phase, re.Failure.Kind, re.RollbackErr)
		}
		if want := []string{"web__1 scaled to 0 and deleted"}; !slices.Equal(re.RollbackSteps, want) {
			t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
		}
		if got, want := e.desiredChanges(m, "web__1"), []int{0, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got := e.services(); len(got) != 0 {
			t.Errorf("ACTIVE services after the failed create: %v", got)
		}
		if i, j := e.callIndex(m, "ecs:UpdateService", "web__1", true), e.callIndex(m, "ecs:DeleteService", "web__1", false); i < 0 || j < i {
			t.Errorf("DeleteService of web__1 at call %d, last UpdateService at %d: want the scale to 0 first", j, i)
		}
		if counts := e.countsSince(m); counts["ecs:CreateService"] != 1 || counts["ecs:UpdateService"] != 2 || counts["ecs:DeleteService"] != 1 {
			t.Errorf("calls per operation %v", counts)
		}
		t.Log(err)
	})
}

// TestCancel cancels the operation's context in the middle of a phase, as Ctrl-C does. It runs
// in real time on purpose: the cancel comes from another goroutine, at a moment the engine does
// not choose, while it is in a real sleep or a real call.
func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("a cancel while phase 2 waits still rolls back R2 and R1 and returns the cancellation with the report", func(t *testing.T) {
		t.Parallel()
		e := newRealTimeEnv(t)
		prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		// Tasks that take 300 ms to start keep phase 2 waiting long enough to cancel it.
		cfg := baseConfig(e.registerTD("slow-start=300ms"), 8)

		m := e.mark()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for ctx.Err() == nil {
				for _, te := range e.srv.Timeline()[m.timeline:] {
					if te.Service == "web__2" && te.Desired == 4 {
						cancel()
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
		res, err := e.eng.Deploy(ctx, cfg, prior)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) is false for %v", err)
		}
		re := rolloutError(t, err)
		if re.Phase != 2 || re.Failure.Kind != deploy.FailureCancelled || !re.RolledBack {
			t.Errorf("failed in phase %d (%s), rolled back %v; want phase 2, cancelled", re.Phase, re.Failure.Kind, re.RolledBack)
		}
		if want := []string{"R2: web__1 at 6 tasks, web__2 at 2", "R1: web__1 at 8 tasks, web__2 at 0"}; !slices.Equal(re.RollbackSteps, want) {
			t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
		}
		checkRolledBackState(t, res, prior)
		// The cancel came while web__2 grew to 4, before web__1 shrank for phase 2.
		if got, want := e.desiredChanges(m, "web__1"), []int{8, 6, 8}; !slices.Equal(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 4, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
			t.Errorf("live desired/running %v", got)
		}
		if counts := e.countsSince(m); counts["ecs:UpdateService"] != 6 {
			t.Errorf("calls per operation %v, want 6 UpdateService", counts)
		}
		t.Log(err)
	})
}

// TestCancelInFlight cancels while a scaling call is in flight: ECS has applied it, but the
// engine never sees the response. The rollback must not trust the count it last knew.
func TestCancelInFlight(t *testing.T) {
	t.Parallel()
	t.Run("a cancel that lands after ECS applied the phase 2 scale-up but before its response arrived still rolls back", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
		m := e.mark()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.holdResponse(func(c ecslocal.Call) bool {
			if c.Action() != "ecs:UpdateService" || c.Resource != "web__2" {
				return false
			}
			if got := e.desiredChanges(m, "web__2"); got[len(got)-1] != 4 {
				return false
			}
			cancel()
			return true
		})
		res, err := e.eng.Deploy(ctx, baseConfig(tdHealthy2, 8), prior)
		e.holdResponse(nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) is false for %v", err)
		}
		re := rolloutError(t, err)
		if re.Phase != 2 || re.Failure.Kind != deploy.FailureCancelled || !re.RolledBack {
			t.Fatalf("failed in phase %d (%s), rolled back %v: %v", re.Phase, re.Failure.Kind, re.RolledBack, err)
		}
		checkRolledBackState(t, res, prior)
		if got, want := e.desiredChanges(m, "web__1"), []int{8, 6, 8}; !slices.Equal(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 4, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
			t.Errorf("live desired/running %v", got)
		}
	})
}

// rolloutError returns err as a *deploy.RolloutError, failing the test when it is not one.
func rolloutError(t *testing.T, err error) *deploy.RolloutError {
	t.Helper()
	var re *deploy.RolloutError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a *deploy.RolloutError", err, err)
	}
	return re
}

// checkRolledBackState asserts the state a rolled-back update saves (DESIGN.md §8.7): current
// and previous unchanged, the failed revision counted in highest_revision, last_rollout rolled
// back.
func checkRolledBackState(t *testing.T, res *deploy.Result, prior deploy.State) {
	t.Helper()
	if res == nil {
		t.Fatal("no result after a rolled-back update; state must be saved")
	}
	if !reflect.DeepEqual(res.Current, prior.Current) || !reflect.DeepEqual(res.Previous, prior.Previous) {
		t.Errorf("current %+v previous %+v, want them unchanged (%+v, %+v)", res.Current, res.Previous, prior.Current, prior.Previous)
	}
	if res.HighestRevision != prior.HighestRevision+1 {
		t.Errorf("highest revision %d, want %d", res.HighestRevision, prior.HighestRevision+1)
	}
	if res.Rollout == nil || res.Rollout.Status != deploy.RolloutRolledBack || res.Rollout.Revision != prior.HighestRevision+1 || res.Rollout.Reason == "" {
		t.Errorf("last rollout %+v, want revision %d rolled back with a reason", res.Rollout, prior.HighestRevision+1)
	}
}
