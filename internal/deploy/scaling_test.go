package deploy_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// cpu60 is the auto scaling of these tests: 2–10 tasks, one target tracking policy.
func cpu60() *deploy.AutoScaling {
	return &deploy.AutoScaling{Min: 2, Max: 10, TargetTracking: []deploy.TargetTracking{
		{Name: "cpu60", PredefinedMetricType: "ECSServiceAverageCPUUtilization", TargetValue: 60},
	}}
}

// TestAutoScaling covers auto scaling across a rollout (DESIGN.md §5.2.6, §5.5 and §8.3): it is
// taken off production during a rollout, put on the new revision after success, and put back on
// the old one after a rollback.
func TestAutoScaling(t *testing.T) {
	t.Parallel()
	t.Run("the scalable target moves to the new revision after success and back to the old one with its settings after a rollback", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		want := &scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}}
		withScaling := func(td string) deploy.Config {
			cfg := baseConfig(td, 8)
			cfg.AutoScaling = cpu60()
			return cfg
		}

		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		if got := e.scaling("web__1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("auto scaling of web__1 after the first deployment: %+v, want %+v", got, want)
		}

		// Success: off web__1 before web__2 gets any task, onto web__2 once it is at 8.
		m := e.mark()
		st = e.mustDeploy(withScaling(tdHealthy2), st)
		off := e.callIndex(m, "application-autoscaling:DeregisterScalableTarget", "service/prod/web__1", false)
		firstUp := e.callIndex(m, "ecs:UpdateService", "web__2", false)
		lastUp := e.callIndex(m, "ecs:UpdateService", "web__2", true)
		on := e.callIndex(m, "application-autoscaling:RegisterScalableTarget", "service/prod/web__2", false)
		if off < 0 || firstUp < 0 || off > firstUp {
			t.Errorf("DeregisterScalableTarget of web__1 is call %d, the first UpdateService of web__2 call %d: want the target off first", off, firstUp)
		}
		if on < lastUp {
			t.Errorf("RegisterScalableTarget of web__2 is call %d, its last UpdateService call %d: want the target on after the last phase", on, lastUp)
		}
		if got := e.scaling("web__2"); !reflect.DeepEqual(got, want) {
			t.Errorf("auto scaling of web__2 after success: %+v, want %+v", got, want)
		}
		if got := e.scaling("web__1"); got != nil {
			t.Errorf("web__1 still has auto scaling after success: %+v", got)
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if !reflect.DeepEqual(st.AutoScaling, cpu60()) {
			t.Errorf("state's auto scaling %+v", st.AutoScaling)
		}

		// Rollback: the failed rollout asks for other settings; the old service gets its own
		// back, not those.
		failing := withScaling(tdCrash)
		failing.AutoScaling.Min, failing.AutoScaling.Max = 3, 12
		failing.AutoScaling.TargetTracking[0].TargetValue = 75
		m = e.mark()
		_, err := e.eng.Deploy(context.Background(), failing, st)
		counts := e.countsSince(m)
		if re := rolloutError(t, err); !re.RolledBack {
			t.Fatalf("not rolled back: %v", err)
		}
		off = e.callIndex(m, "application-autoscaling:DeregisterScalableTarget", "service/prod/web__2", false)
		firstUp = e.callIndex(m, "ecs:UpdateService", "web__3", false)
		lastDown := e.callIndex(m, "ecs:UpdateService", "web__3", true)
		on = e.callIndex(m, "application-autoscaling:RegisterScalableTarget", "service/prod/web__2", false)
		if off < 0 || off > firstUp {
			t.Errorf("DeregisterScalableTarget of web__2 is call %d, the first UpdateService of web__3 call %d", off, firstUp)
		}
		if on < lastDown {
			t.Errorf("RegisterScalableTarget of web__2 is call %d, the last UpdateService of web__3 call %d: want it after R1", on, lastDown)
		}
		if got := e.scaling("web__2"); !reflect.DeepEqual(got, want) {
			t.Errorf("auto scaling of web__2 after the rollback: %+v, want its original %+v", got, want)
		}
		if got := e.scaling("web__3"); got != nil {
			t.Errorf("the failed web__3 has auto scaling: %+v", got)
		}
		if got := e.desiredChanges(m, "web__2"); !reflect.DeepEqual(got, []int{8}) {
			t.Errorf("web__2 desired counts %v, want [8]", got)
		}
		e.checkCapacity(m, 8, "web__2", "web__3")
		t.Logf("calls per operation of the rolled-back rollout: %v", counts)
	})
}
