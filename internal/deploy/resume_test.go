package deploy_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// TestResume kills a rollout at each step boundary and runs it again: the next run restores the
// recorded production service, quiesces the rest and completes the release (DESIGN.md §5.2 and
// §13.3).
// The kill is a process death: after the boundary no request of the killed run reaches
// ecslocal, so nothing rolls back (its context ends too, so that it stops at once, but its
// attempts to roll back cannot get through), while ecslocal's scheduler carries on with what it
// was last told. The next run starts from the state saved before the killed one.
//
// Each case runs for the plain rollout and for the same rollout behind a load balancer (awsvpc
// tasks in an ip target group with AWS's default health settings under a time scale), where the
// load balancer's healthy targets must also never drop below P, from the start of the killed run
// to the end of the next one: the killed run left the old service shrunk only after the new one
// served, and the next run restores production and waits for it to serve before it scales the
// killed run's revision to 0.
func TestResume(t *testing.T) {
	t.Parallel()
	for _, ro := range matrixRollouts {
		t.Run(ro.name, func(t *testing.T) {
			t.Parallel()
			testResume(t, ro)
		})
	}
}

func testResume(t *testing.T, ro matrixRollout) {
	// The write calls of a 3-phase rollout of web:2 over web__1 at 8 with auto scaling and a
	// scheduled action, in order.
	writes := []string{
		"ecs:TagResource " + serviceARN("web__1"),                            // the suspension it had: none
		"application-autoscaling:RegisterScalableTarget service/prod/web__1", // suspended
		"ecs:CreateService web__2",
		"ecs:UpdateService web__2", // phase 1 up to 2
		"ecs:UpdateService web__1", // phase 1 down to 6
		"ecs:UpdateService web__2", // phase 2 up to 4
		"ecs:UpdateService web__1", // phase 2 down to 4
		"ecs:UpdateService web__2", // phase 3 up to 8
		"ecs:UpdateService web__1", // phase 3 down to 0
		"application-autoscaling:RegisterScalableTarget service/prod/web__2",
		"application-autoscaling:PutScalingPolicy service/prod/web__2",
		"application-autoscaling:PutScheduledAction service/prod/web__2",
		"application-autoscaling:DeregisterScalableTarget service/prod/web__1",
		"ecs:UntagResource " + serviceARN("web__1"),
	}
	boundaries := []string{
		"recording web__1's auto scaling suspension in its tag",
		"suspending web__1's auto scaling",
		"creating web__2",
		"scaling web__2 up for phase 1",
		"scaling web__1 down for phase 1",
		"scaling web__2 up for phase 2",
		"scaling web__1 down for phase 2",
		"scaling web__2 up for phase 3",
		"scaling web__1 down for phase 3, before finish",
		"registering the scalable target on web__2, before its policy",
		"putting the policy on web__2, before its scheduled action",
		"putting the scheduled action on web__2, before web__1's target is deregistered",
		"deregistering web__1's target, before its tag is removed",
		"finishing, before its state was saved",
	}
	for i, boundary := range boundaries {
		n := i + 1
		t.Run(fmt.Sprintf("a run killed after %s is completed by the next run", boundary), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tg := ro.prepare(e)
			ctx := context.Background()
			cfg := func(td string) deploy.Config {
				c := baseConfig(td, 8)
				c.AutoScaling = withSchedule()
				return ro.withTemplate(c, tg)
			}
			prior := e.mustDeploy(cfg(ro.prodTD), deploy.State{})

			killed := e.mark()
			_, _ = e.eng.Deploy(e.killAfterWrites(n), cfg(ro.newTD), prior)
			e.revive()
			if got := e.writesSince(killed); !reflect.DeepEqual(got, writes[:n]) {
				t.Fatalf("the killed run wrote %q, want %q", got, writes[:n])
			}
			// Production keeps a registered scalable target with its policy and scheduled
			// action at every kill point: web__1, suspended once the rollout has suspended it,
			// until web__2's scaling is in place.
			prod, suspended := "web__1", ""
			switch {
			case n >= 12:
				prod = "web__2"
			case n >= 2:
				suspended = "in out scheduled"
			}
			wantProd := scheduledView
			wantProd.Suspended = suspended
			if got := e.scaling(prod); got == nil || !reflect.DeepEqual(*got, wantProd) {
				t.Errorf("killed after %d writes: production %s's auto scaling %+v, want %+v", n, prod, got, wantProd)
			}

			m := e.mark()
			res, err := e.eng.Deploy(ctx, cfg(ro.newTD), prior)
			if err != nil {
				e.logSteps()
				t.Fatal(err)
			}
			counts := e.countsSince(m)
			want := "web__3"
			if n < 3 {
				want = "web__2" // the killed run created nothing
			}
			if res.Current.Name != want || res.Current.DesiredCount != 8 || deploy.FamilyRevision(res.Current.TaskDefinition) != ro.newTD {
				t.Errorf("production %+v, want %s at 8 with %s", res.Current, want, ro.newTD)
			}
			if res.Previous == nil || res.Previous.Name != "web__1" || res.Previous.DesiredCount != 8 {
				t.Errorf("previous %+v, want web__1 at its recorded 8", res.Previous)
			}
			for name, s := range e.services() {
				switch {
				case name == want && (s.Desired != 8 || s.Running != 8):
					t.Errorf("production %s: %+v, want 8 running", name, s)
				case name != want && (s.Desired != 0 || s.Running != 0):
					t.Errorf("%s holds tasks: %+v", name, s)
				}
			}
			if got := e.scaling(want); got == nil || !reflect.DeepEqual(*got, scheduledView) {
				t.Errorf("auto scaling of %s: %+v, want %+v, not suspended", want, got, scheduledView)
			}
			for name := range e.services() {
				if tags := e.tags(name); tags[deploy.SuspendedTag] != "" {
					t.Errorf("%s still carries %s = %q", name, deploy.SuspendedTag, tags[deploy.SuspendedTag])
				}
			}
			for _, name := range []string{"web__1", "web__2"} {
				if name != want && e.scaling(name) != nil {
					t.Errorf("%s still has a scalable target: %+v", name, e.scaling(name))
				}
			}
			// Production is restored first, then capacity never dips.
			start := e.desiredChanges(m, "web__1")
			if w := e.writesSince(m); start[0] < 8 && (len(w) == 0 || w[0] != "ecs:UpdateService web__1") {
				t.Errorf("web__1 was at %d, but the first write of the next run is %v, not its restore", start[0], w)
			}
			e.checkCapacity(m, 8, "web__1", "web__2", "web__3")
			serving := ""
			if ro.balanced {
				if got := servingNow(e.srv, tg); got != 8 {
					t.Errorf("%d targets healthy after the next run, want 8", got)
				}
				serving = fmt.Sprintf("; serving capacity checked at %d instants", e.checkServingFloor(killed, 8, tg, "web__2", "web__3"))
			}
			t.Logf("web__1 desired counts in the next run: %v%s; calls: %v", start, serving, counts)
		})
	}

	t.Run("a first deployment killed mid-rollout is taken over by the next one without losing its tasks", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tg := ro.prepare(e)
		ctx := context.Background()
		// Killed after CreateService and the phase 1 and phase 2 scale-ups: web__1 is at 4,
		// two of them still starting when the next run begins.
		killed := e.mark()
		_, _ = e.eng.Deploy(e.killAfterWrites(3), ro.withTemplate(baseConfig(ro.prodTD, 8), tg), deploy.State{})
		e.revive()

		m := e.mark()
		res, err := e.eng.Deploy(ctx, ro.withTemplate(baseConfig(ro.newTD, 8), tg), deploy.State{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__2" || res.Current.DesiredCount != 8 || res.Previous == nil || res.Previous.Name != "web__1" || res.Previous.DesiredCount != 4 {
			t.Errorf("current %+v previous %+v, want web__2 at 8 over web__1 at 4", res.Current, res.Previous)
		}
		// P = 4: the old service shrinks as ceil(4 × (8 − n) / 8).
		if got, want := e.desiredChanges(m, "web__1"), []int{4, 3, 2, 0}; !reflect.DeepEqual(got, want) {
			t.Errorf("web__1 desired counts %v, want %v", got, want)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 4, 8}; !reflect.DeepEqual(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
		if ro.balanced {
			// From the moment web__1's first 4 tasks serve, during the killed run or the next.
			if got := servingNow(e.srv, tg); got != 8 {
				t.Errorf("%d targets healthy after the next run, want 8", got)
			}
			e.checkServingFloorOnceReached(killed, 4, tg, "web__2")
		}
	})
}
