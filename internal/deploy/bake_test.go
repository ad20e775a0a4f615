package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestBakeInterrupted covers a bake time that ends early for another reason than failed tasks
// (DESIGN.md §7): a cancel or an API error while the phase bakes fails the phase, and it is
// rolled back like any other.
func TestBakeInterrupted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		interrupt func(e *env, cancel context.CancelFunc)
		kind      deploy.FailureKind
		cancelled bool
	}{
		{
			name:      "a cancel while phase 2 bakes rolls back R2 and R1 and returns the cancellation",
			interrupt: func(_ *env, cancel context.CancelFunc) { cancel() },
			kind:      deploy.FailureCancelled, cancelled: true,
		},
		{
			name: "a DescribeServices error while phase 2 bakes rolls back R2 and R1",
			interrupt: func(e *env, _ context.CancelFunc) {
				e.srv.InjectFault(ecslocal.Fault{Operation: "DescribeServices", Count: 1, Code: "AccessDeniedException", Message: "Injected fault."})
			},
			kind: deploy.FailureAPI,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			prior := e.mustDeploy(baseConfig(tdHealthy1, 8), deploy.State{})
			cfg := baseConfig(tdHealthy2, 8)
			cfg.Phases[1].BakeTime = time.Minute
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The engine logs the bake, then sleeps: the interruption is there by then.
			e.onLog("phase 2: baking web__2 for 1m0s", func() { tc.interrupt(e, cancel) })
			m := e.mark()
			res, err := e.eng.Deploy(ctx, cfg, prior)
			re := rolloutError(t, err)
			if re.Phase != 2 || !strings.HasPrefix(re.Stage, "baking") || re.Failure.Kind != tc.kind || !re.RolledBack {
				t.Errorf("failed in phase %d while %q (%s), rolled back %v; want phase 2 while baking, %s", re.Phase, re.Stage, re.Failure.Kind, re.RolledBack, tc.kind)
			}
			if errors.Is(err, context.Canceled) != tc.cancelled {
				t.Errorf("errors.Is(err, context.Canceled) is %v for %v", !tc.cancelled, err)
			}
			if want := []string{"R2: web__1 at 6 tasks, web__2 at 2", "R1: web__1 at 8 tasks, web__2 at 0"}; !slices.Equal(re.RollbackSteps, want) {
				t.Errorf("rollback steps %q, want %q", re.RollbackSteps, want)
			}
			checkRolledBackState(t, res, prior)
			// The bake ended at its first poll, not after its minute.
			if took := res.Rollout.FinishedAt.Sub(res.Rollout.StartedAt); took > cfg.Phases[1].BakeTime {
				t.Errorf("the rollout took %s, longer than the bake it cut short", took)
			}
			e.checkCapacity(m, 8, "web__1", "web__2")
			if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{8, 8} || got["web__2"] != [2]int{0, 0} {
				t.Errorf("live desired/running %v", got)
			}
		})
	}
}
