package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// The poller learns how long tasks take to start from production's tasks. These tests break
// that prediction and check that the rollout stays correct and the poll count stays bounded.
func TestPoller_wrongPredictions(t *testing.T) {
	t.Parallel()
	t.Run("new tasks far slower than production's still roll out, with a bounded number of polls", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		slow := e.registerTD("slow-start=1500ms") // production's tasks start in 40 ms
		m := e.mark()
		cfg := baseConfig(slow, 4)
		res, err := e.eng.Deploy(ctx, cfg, st)
		if err != nil {
			t.Fatalf("a slow but healthy revision failed: %v", err)
		}
		if res.Current.Name != "web__2" || e.live("web__2")["web__2"] != [2]int{4, 4} {
			t.Fatalf("current %+v, live %v", res.Current, e.live("web__2"))
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
		// Three waits of about 1.5 s each: at an eighth of the elapsed time per poll that is
		// about 20 polls each; a fixed 100 ms poll would need 45.
		n := e.countsSince(m)["ecs:DescribeServices"]
		if n > 80 {
			t.Errorf("%d DescribeServices calls for three slow waits", n)
		}
		t.Logf("%d DescribeServices calls for a rollout whose tasks started 37 times slower than predicted", n)
	})
	t.Run("new tasks that crash soon after the predicted start are still caught", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ctx := context.Background()
		st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
		crashing := e.registerTD("crash-after=100ms")
		m := e.mark()
		cfg := baseConfig(crashing, 4)
		cfg.Phases[0].BakeTime = time.Second
		cfg.FailedTaskThreshold = 1
		_, err := e.eng.Deploy(ctx, cfg, st)
		var re *deploy.RolloutError
		if !errors.As(err, &re) || re.Failure.Kind != deploy.FailureTasks || !re.RolledBack {
			t.Fatalf("err = %v, want a rolled-back failed-tasks rollout", err)
		}
		if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{4, 4} || got["web__2"][0] != 0 {
			t.Fatalf("after the rollback: %v", got)
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
	})
}
