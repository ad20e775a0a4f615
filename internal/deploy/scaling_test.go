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

// withSchedule is cpu60 with a scheduled action: a scale-out that never fires during a test.
func withSchedule() *deploy.AutoScaling {
	a := cpu60()
	four, ten := 4, 10
	a.ScheduledActions = []deploy.ScheduledAction{{Name: "morning", Schedule: "cron(0 8 1 1 ? 2099)", Timezone: "Europe/Berlin", Min: &four, Max: &ten}}
	return a
}

// scheduledView is how env.scaling shows withSchedule's scaling on a service.
var scheduledView = scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}, Scheduled: []string{"morning cron(0 8 1 1 ? 2099) 4–10"}}

// TestAutoScaling covers auto scaling across a rollout (DESIGN.md §5.2.6, §5.5, §5.6 and §8.3):
// production's scalable target stays registered, suspended, during a rollout; the configured
// settings go onto the new revision after success, before the old target is deregistered; after
// a rollback the old target is resumed as it was, its policies never recreated.
func TestAutoScaling(t *testing.T) {
	t.Parallel()
	t.Run("production's target is suspended for the rollout, moves to the new revision after success and is resumed after a rollback", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		want := scheduledView
		withScaling := func(td string) deploy.Config {
			cfg := baseConfig(td, 8)
			cfg.AutoScaling = withSchedule()
			return cfg
		}

		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("auto scaling of web__1 after the first deployment: %+v, want %+v", got, want)
		}

		// Success: web__1 suspended before web__2 gets any task; web__2's scaling on once it is
		// at 8; only then web__1's target off.
		m := e.mark()
		st = e.mustDeploy(withScaling(tdHealthy2), st)
		suspend := e.callIndex(m, "application-autoscaling:RegisterScalableTarget", "service/prod/web__1", false)
		firstUp := e.callIndex(m, "ecs:UpdateService", "web__2", false)
		lastUp := e.callIndex(m, "ecs:UpdateService", "web__2", true)
		on := e.callIndex(m, "application-autoscaling:PutScheduledAction", "service/prod/web__2", true)
		off := e.callIndex(m, "application-autoscaling:DeregisterScalableTarget", "service/prod/web__1", false)
		if suspend < 0 || firstUp < 0 || suspend > firstUp {
			t.Errorf("web__1's target is suspended at call %d, the first UpdateService of web__2 is call %d: want it suspended first", suspend, firstUp)
		}
		if on < lastUp || off < on {
			t.Errorf("web__2's scaling is complete at call %d, its last UpdateService is call %d, web__1's target is deregistered at call %d: want them in that order", on, lastUp, off)
		}
		if n := e.countsSince(m)["application-autoscaling:DeregisterScalableTarget"]; n != 1 {
			t.Errorf("%d DeregisterScalableTarget calls, want 1 (web__1's, at the end)", n)
		}
		if got := e.scaling("web__2"); got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("auto scaling of web__2 after success: %+v, want %+v", got, want)
		}
		if got := e.scaling("web__1"); got != nil {
			t.Errorf("web__1 still has auto scaling after success: %+v", got)
		}
		for _, name := range []string{"web__1", "web__2"} {
			if v, ok := e.tags(name)[deploy.SuspendedTag]; ok {
				t.Errorf("%s carries %s = %q after success", name, deploy.SuspendedTag, v)
			}
		}
		e.checkCapacity(m, 8, "web__1", "web__2")
		if !reflect.DeepEqual(st.AutoScaling, withSchedule()) {
			t.Errorf("state's auto scaling %+v", st.AutoScaling)
		}

		// Rollback: the failed rollout asks for other settings; the old service keeps its own,
		// the very same policy (same ARN), suspended meanwhile and resumed after R1.
		before := e.policyARNs("web__2")
		failing := withScaling(tdCrash)
		failing.AutoScaling.Min, failing.AutoScaling.Max = 3, 12
		failing.AutoScaling.TargetTracking[0].TargetValue = 75
		m = e.mark()
		_, err := e.eng.Deploy(context.Background(), failing, st)
		counts := e.countsSince(m)
		if re := rolloutError(t, err); !re.RolledBack {
			t.Fatalf("not rolled back: %v", err)
		}
		suspend = e.callIndex(m, "application-autoscaling:RegisterScalableTarget", "service/prod/web__2", false)
		resume := e.callIndex(m, "application-autoscaling:RegisterScalableTarget", "service/prod/web__2", true)
		firstUp = e.callIndex(m, "ecs:UpdateService", "web__3", false)
		lastDown := e.callIndex(m, "ecs:UpdateService", "web__3", true)
		if suspend < 0 || suspend > firstUp {
			t.Errorf("web__2's target is suspended at call %d, the first UpdateService of web__3 is call %d", suspend, firstUp)
		}
		if resume == suspend || resume < lastDown {
			t.Errorf("web__2's target is resumed at call %d, the last UpdateService of web__3 is call %d: want it after R1", resume, lastDown)
		}
		for _, op := range []string{"DeregisterScalableTarget", "PutScalingPolicy", "PutScheduledAction", "DeleteScalingPolicy"} {
			if n := counts["application-autoscaling:"+op]; n != 0 {
				t.Errorf("%d %s calls in the rolled-back rollout, want none: nothing was taken off", n, op)
			}
		}
		if got := e.scaling("web__2"); got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("auto scaling of web__2 after the rollback: %+v, want its original %+v, not suspended", got, want)
		}
		if after := e.policyARNs("web__2"); !reflect.DeepEqual(after, before) {
			t.Errorf("web__2's policy ARNs %v after the rollback, %v before: a policy was recreated", after, before)
		}
		if got := e.scaling("web__3"); got != nil {
			t.Errorf("the failed web__3 has auto scaling: %+v", got)
		}
		if v, ok := e.tags("web__2")[deploy.SuspendedTag]; ok {
			t.Errorf("web__2 carries %s = %q after the rollback", deploy.SuspendedTag, v)
		}
		if got := e.desiredChanges(m, "web__2"); !reflect.DeepEqual(got, []int{8}) {
			t.Errorf("web__2 desired counts %v, want [8]", got)
		}
		e.checkCapacity(m, 8, "web__2", "web__3")
		t.Logf("calls per operation of the rolled-back rollout: %v", counts)
	})
}
