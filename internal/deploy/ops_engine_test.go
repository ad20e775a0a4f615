package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The operations other than a rollout, each against the history that arrangeHistory builds:
// web__1 to web__3 at 0 (web__3 recorded as previous, at 8), production web__4 at 8 with auto
// scaling (2–10, cpu60), and foreign services (web__5 untagged, web__6 of another deployment,
// api) that no operation may write to.

// opsConfig is the configuration the history was applied with.
func opsConfig() deploy.Config {
	cfg := baseConfig(tdHealthy1, 8)
	cfg.AutoScaling = cpu60()
	cfg.RetainOldServices = 2
	return cfg
}

// checkForeignUntouched asserts that no call after m wrote to a foreign service and that their
// counts never changed (DESIGN.md §1: a service without our ownership tag is never touched).
func (e *env) checkForeignUntouched(m mark) {
	e.t.Helper()
	for _, f := range foreignServices {
		if w := e.writesTo(m, f.name); len(w) != 0 {
			e.t.Errorf("writes to the foreign service %s: %v", f.name, w)
		}
		if got := e.desiredChanges(m, f.name); !slices.Equal(got, []int{f.desired}) {
			e.t.Errorf("the foreign service %s went through desired counts %v, want [%d]", f.name, got, f.desired)
		}
	}
}

// removeByHand deletes a service through the SDK, as a person would in the console.
func (e *env) removeByHand(name string) {
	e.t.Helper()
	if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String(name), Force: aws.Bool(true)}); err != nil {
		e.t.Fatal(err)
	}
}

// fault makes the next count calls of operation fail with code (count < 0: every later one).
func (e *env) fault(operation, code string, skip, count int) {
	e.srv.InjectFault(ecslocal.Fault{Operation: operation, Skip: skip, Count: count, Code: code, Message: "Injected fault."})
}

// checkNamesCall asserts that err names the failed operation and its error code.
func checkNamesCall(t *testing.T, err error, operation, code string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), operation) || !strings.Contains(err.Error(), code) {
		t.Errorf("error %v, want one naming %s and %s", err, operation, code)
	}
}

// TestScale covers changing production's count in place (DESIGN.md §6).
func TestScale(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		autoScaling bool // configure the history's auto scaling (2–10)
		to, want    int
		wait        time.Duration // how long the tasks take to reach the count
	}{
		{"scaling production up waits until the new tasks run and records the count", false, 10, 10, startDelay},
		{"scaling production down waits until the extra tasks have stopped", false, 3, 3, stopDelay},
		{"a count above the auto scaling range is clamped to its maximum", true, 20, 10, startDelay},
		{"a count below the auto scaling range is clamped to its minimum", true, 1, 2, stopDelay},
		{"a count production already has is not sent again", false, 8, 8, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			cfg := opsConfig()
			if !tc.autoScaling {
				cfg.AutoScaling = nil
			}
			m := e.mark()
			began := e.now()
			res, err := e.eng.Scale(context.Background(), cfg, st, tc.to)
			took := e.now().Sub(began)
			if err != nil {
				t.Fatal(err)
			}
			want := *st.Current
			want.DesiredCount = tc.want
			if !reflect.DeepEqual(res.Current, &want) || !reflect.DeepEqual(res.Previous, st.Previous) || res.HighestRevision != st.HighestRevision || res.Rollout != nil {
				t.Errorf("current %+v previous %+v highest %d rollout %+v; want production at %d and the rest as recorded",
					res.Current, res.Previous, res.HighestRevision, res.Rollout, tc.want)
			}
			if got := e.live(faultProd)[faultProd]; got != [2]int{tc.want, tc.want} {
				t.Errorf("%s desired/running %v, want %d", faultProd, got, tc.want)
			}
			var writes []string
			if tc.want != 8 {
				writes = []string{"ecs:UpdateService " + faultProd}
			}
			if got := e.writesSince(m); !slices.Equal(got, writes) {
				t.Errorf("write calls %q, want %q", got, writes)
			}
			// The wait ends within a poll of the tasks reaching the count.
			if took < tc.wait || took > tc.wait+testPoll.Initial {
				t.Errorf("Scale took %s of virtual time, want %s to %s", took, tc.wait, tc.wait+testPoll.Initial)
			}
			if got := e.scaling(faultProd); !reflect.DeepEqual(got, historyScaling) {
				t.Errorf("auto scaling of %s %+v, want it untouched: %+v", faultProd, got, historyScaling)
			}
			e.checkForeignUntouched(m)
		})
	}
}

// TestScaleRefuses covers what Scale does instead of scaling when it cannot or must not.
func TestScaleRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// arrange changes the history into the case and returns the state and configuration.
		arrange func(e *env, st deploy.State, cfg *deploy.Config) deploy.State
		check   func(t *testing.T, err error)
		// writes are the write calls Scale makes; count is web__4's desired count afterwards.
		writes []string
		count  int
	}{
		{
			name:    "with no production service recorded nothing is called",
			arrange: func(_ *env, _ deploy.State, _ *deploy.Config) deploy.State { return deploy.State{} },
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "no production service is recorded") {
					t.Errorf("error %v, want one saying no production service is recorded", err)
				}
			},
			count: 8,
		},
		{
			name: "a cluster that does not exist is an error on cluster",
			arrange: func(_ *env, st deploy.State, cfg *deploy.Config) deploy.State {
				cfg.Cluster = "staging"
				return st
			},
			check: func(t *testing.T, err error) {
				var ie *deploy.InputError
				if !errors.As(err, &ie) || ie.Field != "cluster" {
					t.Errorf("error %v (%T), want an *InputError on cluster", err, err)
				}
			},
			count: 8,
		},
		{
			name: "a production service deleted by hand is an error and nothing is created in its place",
			arrange: func(e *env, st deploy.State, _ *deploy.Config) deploy.State {
				e.removeByHand(faultProd)
				return st
			},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), faultProd) {
					t.Errorf("error %v, want one naming %s", err, faultProd)
				}
			},
			count: 0,
		},
		{
			name: "a recorded production service without our tag is left alone",
			arrange: func(_ *env, st deploy.State, _ *deploy.Config) deploy.State {
				st.Current = &deploy.ServiceRef{Name: "web__5", Revision: 5, DesiredCount: 1}
				return st
			},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "web__5") {
					t.Errorf("error %v, want one naming web__5", err)
				}
			},
			count: 8,
		},
		{
			name: "a failed UpdateService is reported with its error code",
			arrange: func(e *env, st deploy.State, _ *deploy.Config) deploy.State {
				e.fault("ecs:UpdateService", "ClientException", 0, 1)
				return st
			},
			check:  func(t *testing.T, err error) { checkNamesCall(t, err, "UpdateService", "ClientException") },
			writes: []string{"ecs:UpdateService web__4 failed: ClientException"},
			count:  8,
		},
		{
			name: "a failed poll ends the wait with the error and names the count waited for",
			arrange: func(e *env, st deploy.State, _ *deploy.Config) deploy.State {
				e.fault("ecs:DescribeServices", "AccessDeniedException", 1, -1) // discovery's passes
				return st
			},
			check: func(t *testing.T, err error) {
				checkNamesCall(t, err, "DescribeServices", "AccessDeniedException")
				if err != nil && !strings.Contains(err.Error(), "waiting for web__4 to reach 6 running tasks") {
					t.Errorf("error %v, want it to name the wait", err)
				}
			},
			writes: []string{"ecs:UpdateService web__4"},
			count:  6,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := opsConfig()
			st := tc.arrange(e, e.arrangeHistory(), &cfg)
			m := e.mark()
			res, err := e.eng.Scale(context.Background(), cfg, st, 6)
			e.srv.ClearFaults()
			if res != nil {
				t.Errorf("result %+v, want none", res)
			}
			tc.check(t, err)
			if w := e.writesSince(m); !slices.Equal(w, tc.writes) {
				t.Errorf("write calls %q, want %q", w, tc.writes)
			}
			if st.Current == nil && len(e.callsSince(m)) > 0 {
				t.Errorf("calls %v without a production service to scale", e.countsSince(m))
			}
			// A range that excludes the live count moves it through a scaling activity that
			// completes after the registration (ecslocal's clampDelay): the count recorded is
			// where it goes.
			e.await(500*time.Millisecond, fmt.Sprintf("%s at %d", faultProd, tc.count), func() bool {
				return e.services()[faultProd].Desired == tc.count
			})
			e.checkForeignUntouched(m)
		})
	}
}

// mem70 is a target tracking policy on memory.
func mem70() deploy.TargetTracking {
	return deploy.TargetTracking{Name: "mem70", PredefinedMetricType: "ECSServiceAverageMemoryUtilization", TargetValue: 70}
}

// TestUpdateAutoScaling covers changing production's auto scaling in place: the configured
// target and policies are put, policies no longer configured are deleted, and the count state
// records is the one production runs at afterwards.
func TestUpdateAutoScaling(t *testing.T) {
	t.Parallel()
	const target = "service/prod/" + faultProd
	cases := []struct {
		name        string
		arrange     func(e *env)
		autoScaling *deploy.AutoScaling
		desired     *int
		scaling     *scalingView // production's auto scaling afterwards
		writes      []string
		count       int // the count recorded, and production's desired count afterwards
	}{
		{
			name:        "a new policy is put and the policy no longer configured is deleted",
			autoScaling: &deploy.AutoScaling{Min: 2, Max: 10, TargetTracking: []deploy.TargetTracking{mem70()}},
			scaling:     &scalingView{Min: 2, Max: 10, Policies: []string{"mem70 ECSServiceAverageMemoryUtilization 70"}},
			writes: []string{"application-autoscaling:RegisterScalableTarget " + target, "application-autoscaling:PutScalingPolicy " + target,
				"application-autoscaling:DeleteScalingPolicy " + target},
			count: 8,
		},
		{
			name:        "a range that excludes the live count moves production into it and state records that count",
			autoScaling: &deploy.AutoScaling{Min: 10, Max: 12, TargetTracking: cpu60().TargetTracking},
			scaling:     &scalingView{Min: 10, Max: 12, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}},
			writes:      []string{"application-autoscaling:RegisterScalableTarget " + target, "application-autoscaling:PutScalingPolicy " + target},
			count:       10,
		},
		{
			name: "state records the count auto scaling chose, not the one recorded before",
			arrange: func(e *env) {
				if _, err := e.srv.AutoScale("prod", faultProd, 6); err != nil {
					e.t.Fatal(err)
				}
			},
			autoScaling: &deploy.AutoScaling{Min: 2, Max: 12, TargetTracking: cpu60().TargetTracking},
			scaling:     &scalingView{Min: 2, Max: 12, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}},
			writes:      []string{"application-autoscaling:RegisterScalableTarget " + target, "application-autoscaling:PutScalingPolicy " + target},
			count:       6,
		},
		{
			name:   "removing auto scaling without a desired count deregisters the target and keeps the live count",
			writes: []string{"application-autoscaling:DeregisterScalableTarget " + target},
			count:  8,
		},
		{
			name:    "removing auto scaling with a desired count deregisters the target, then scales production to it",
			desired: aws.Int(5),
			writes:  []string{"application-autoscaling:DeregisterScalableTarget " + target, "ecs:UpdateService " + faultProd},
			count:   5,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			if tc.arrange != nil {
				tc.arrange(e)
			}
			cfg := opsConfig()
			cfg.AutoScaling, cfg.DesiredCount = tc.autoScaling, tc.desired
			m := e.mark()
			res, err := e.eng.UpdateAutoScaling(context.Background(), cfg, st)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.writesSince(m); !slices.Equal(got, tc.writes) {
				t.Errorf("write calls %q, want %q", got, tc.writes)
			}
			if got := e.scaling(faultProd); !reflect.DeepEqual(got, tc.scaling) {
				t.Errorf("auto scaling of %s %+v, want %+v", faultProd, got, tc.scaling)
			}
			want := *st.Current
			want.DesiredCount = tc.count
			if !reflect.DeepEqual(res.Current, &want) || !reflect.DeepEqual(res.Previous, st.Previous) || !reflect.DeepEqual(res.AutoScaling, tc.autoScaling) || res.Rollout != nil {
				t.Errorf("current %+v previous %+v auto scaling %+v rollout %+v; want production recorded at %d with %+v",
					res.Current, res.Previous, res.AutoScaling, res.Rollout, tc.count, tc.autoScaling)
			}
			// A range that excludes the live count moves it through a scaling activity that
			// completes after the registration (ecslocal's clampDelay): the count recorded is
			// where it goes.
			e.await(500*time.Millisecond, fmt.Sprintf("%s at %d", faultProd, tc.count), func() bool {
				return e.services()[faultProd].Desired == tc.count
			})
			e.checkForeignUntouched(m)
		})
	}
}

// TestUpdateAutoScalingFailures covers UpdateAutoScaling when it cannot do what is asked.
func TestUpdateAutoScalingFailures(t *testing.T) {
	t.Parallel()
	mem := &deploy.AutoScaling{Min: 2, Max: 10, TargetTracking: []deploy.TargetTracking{mem70()}}
	cases := []struct {
		name    string
		arrange func(e *env, st *deploy.State, cfg *deploy.Config)
		// errContains lists what the error must say; none: UpdateAutoScaling succeeds.
		errContains []string
		scaling     *scalingView // production's auto scaling afterwards
	}{
		{
			name:        "with no production service recorded nothing is called",
			arrange:     func(_ *env, st *deploy.State, _ *deploy.Config) { *st = deploy.State{} },
			errContains: []string{"no production service is recorded"},
			scaling:     historyScaling,
		},
		{
			name:        "a cluster that does not exist is an error on cluster",
			arrange:     func(_ *env, _ *deploy.State, cfg *deploy.Config) { cfg.Cluster = "staging" },
			errContains: []string{`ECS cluster "staging"`},
			scaling:     historyScaling,
		},
		{
			name:        "a production service deleted by hand is an error",
			arrange:     func(e *env, _ *deploy.State, _ *deploy.Config) { e.removeByHand(faultProd) },
			errContains: []string{faultProd},
		},
		{
			name: "a failed PutScalingPolicy is reported with its error code",
			arrange: func(e *env, _ *deploy.State, _ *deploy.Config) {
				e.fault("PutScalingPolicy", "AccessDeniedException", 0, 1)
			},
			errContains: []string{"PutScalingPolicy", "AccessDeniedException", "mem70"},
			scaling:     &scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60"}},
		},
		{
			name: "a failed DeleteScalingPolicy is reported with its error code",
			arrange: func(e *env, _ *deploy.State, _ *deploy.Config) {
				e.fault("DeleteScalingPolicy", "AccessDeniedException", 0, 1)
			},
			errContains: []string{"DeleteScalingPolicy", "AccessDeniedException", "cpu60"},
			scaling:     &scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60", "mem70 ECSServiceAverageMemoryUtilization 70"}},
		},
		{
			name: "a policy already gone when it is deleted is not an error",
			arrange: func(e *env, _ *deploy.State, _ *deploy.Config) {
				e.fault("DeleteScalingPolicy", "ObjectNotFoundException", 0, 1)
			},
			// The injected error left cpu60 in place; the engine took ECS at its word.
			scaling: &scalingView{Min: 2, Max: 10, Policies: []string{"cpu60 ECSServiceAverageCPUUtilization 60", "mem70 ECSServiceAverageMemoryUtilization 70"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			cfg := opsConfig()
			cfg.AutoScaling = mem
			tc.arrange(e, &st, &cfg)
			m := e.mark()
			res, err := e.eng.UpdateAutoScaling(context.Background(), cfg, st)
			e.srv.ClearFaults()
			switch {
			case len(tc.errContains) == 0 && err != nil:
				t.Fatal(err)
			case len(tc.errContains) == 0:
				if !reflect.DeepEqual(res.AutoScaling, mem) {
					t.Errorf("auto scaling recorded %+v, want %+v", res.AutoScaling, mem)
				}
			case err == nil:
				t.Fatalf("no error, want one saying %q", tc.errContains)
			default:
				for _, s := range tc.errContains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %v, want it to say %q", err, s)
					}
				}
				if res != nil {
					t.Errorf("result %+v, want none", res)
				}
			}
			if st.Current == nil && len(e.callsSince(m)) > 0 {
				t.Errorf("calls %v without a production service", e.countsSince(m))
			}
			if got := e.scaling(faultProd); !reflect.DeepEqual(got, tc.scaling) {
				t.Errorf("auto scaling of %s %+v, want %+v", faultProd, got, tc.scaling)
			}
			e.checkForeignUntouched(m)
		})
	}
}

// foreignOnly is the history's cluster once the deployment is deleted: its foreign services.
func foreignOnly() map[string]liveService {
	m := historyServices()
	for rev := 1; rev <= 4; rev++ {
		delete(m, deploy.RevisionName("web", rev))
	}
	return m
}

// TestDelete covers deleting a deployment (DESIGN.md §10): each owned service loses its
// scalable target, goes to 0 and is deleted, and services that are not ours are never touched.
func TestDelete(t *testing.T) {
	t.Parallel()
	t.Run("every owned service is scaled to 0 and deleted, oldest first, and no foreign service is written", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.arrangeHistory()
		m := e.mark()
		if err := e.eng.Delete(context.Background(), opsConfig(), st); err != nil {
			t.Fatal(err)
		}
		counts := e.countsSince(m)
		if got := e.services(); !reflect.DeepEqual(got, foreignOnly()) {
			t.Errorf("ACTIVE services %+v, want only the foreign ones %+v", got, foreignOnly())
		}
		// Only production holds tasks, so it is the only one scaled; every target is removed
		// before any service is deleted. Delete describes the targets of every owned service in
		// one call and deregisters only the one that exists.
		want := []string{
			"application-autoscaling:DeregisterScalableTarget service/prod/web__4",
			"ecs:UpdateService web__4",
			"ecs:DeleteService web__1", "ecs:DeleteService web__2", "ecs:DeleteService web__3", "ecs:DeleteService web__4",
		}
		if got := e.writesSince(m); !slices.Equal(got, want) {
			t.Errorf("write calls\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		if got := e.scaling(faultProd); got != nil {
			t.Errorf("%s still has auto scaling: %+v", faultProd, got)
		}
		// State names production, so discovery describes the revisions around it instead of
		// listing the cluster.
		if n := counts["ecs:ListServices"]; n != 0 {
			t.Errorf("%d ListServices calls, want none", n)
		}
		e.checkForeignUntouched(m)
	})

	t.Run("a deployment without state is found by listing the cluster and deleted all the same", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.arrangeHistory()
		m := e.mark()
		if err := e.eng.Delete(context.Background(), opsConfig(), deploy.State{}); err != nil {
			t.Fatal(err)
		}
		if n := e.countsSince(m)["ecs:ListServices"]; n != 1 {
			t.Errorf("%d ListServices calls, want 1", n)
		}
		if got := e.services(); !reflect.DeepEqual(got, foreignOnly()) {
			t.Errorf("ACTIVE services %+v, want only the foreign ones", got)
		}
		e.checkForeignUntouched(m)
	})

	t.Run("services already deleted by hand leave nothing to do", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.arrangeHistory()
		for rev := 1; rev <= 4; rev++ {
			e.removeByHand(deploy.RevisionName("web", rev))
		}
		m := e.mark()
		if err := e.eng.Delete(context.Background(), opsConfig(), st); err != nil {
			t.Fatal(err)
		}
		if w := e.writesSince(m); len(w) != 0 {
			t.Errorf("write calls %q, want none", w)
		}
		e.checkForeignUntouched(m)
	})

	t.Run("a cluster that no longer exists counts as deleted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.arrangeHistory()
		cfg := opsConfig()
		cfg.Cluster = "staging"
		m := e.mark()
		if err := e.eng.Delete(context.Background(), cfg, st); err != nil {
			t.Fatal(err)
		}
		if got := e.countsSince(m); !reflect.DeepEqual(got, map[string]int{"ecs:DescribeClusters": 1}) {
			t.Errorf("calls %v, want one DescribeClusters", got)
		}
	})
}

// TestDeleteFailures covers a Delete that an API error stops, and the next Delete that
// finishes it.
func TestDeleteFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		operation string
		code      string
		skip      int
		left      []string // the owned services still ACTIVE after the failed Delete
	}{
		{"a failed DeregisterScalableTarget stops Delete before any service is scaled or deleted", "DeregisterScalableTarget", "AccessDeniedException", 0, []string{"web__1", "web__2", "web__3", "web__4"}},
		{"a failed UpdateService stops Delete before any service is deleted", "UpdateService", "ClientException", 0, []string{"web__1", "web__2", "web__3", "web__4"}},
		{"a failed DeleteService stops Delete and keeps the services after it", "DeleteService", "AccessDeniedException", 1, []string{"web__2", "web__3", "web__4"}},
		{"a failed DescribeClusters is an error, not a cluster that is gone", "DescribeClusters", "AccessDeniedException", 0, []string{"web__1", "web__2", "web__3", "web__4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			m := e.mark()
			e.fault(tc.operation, tc.code, tc.skip, 1)
			err := e.eng.Delete(context.Background(), opsConfig(), st)
			e.srv.ClearFaults()
			checkNamesCall(t, err, tc.operation, tc.code)
			var left []string
			for name, s := range e.services() {
				if s.Owner == "prod/web" {
					left = append(left, name)
				}
			}
			slices.Sort(left)
			if !slices.Equal(left, tc.left) {
				t.Errorf("owned services left %v, want %v", left, tc.left)
			}

			// Deleting again finishes the job.
			if err := e.eng.Delete(context.Background(), opsConfig(), st); err != nil {
				t.Fatalf("the second Delete: %v", err)
			}
			if got := e.services(); !reflect.DeepEqual(got, foreignOnly()) {
				t.Errorf("after the second Delete: ACTIVE services %+v, want only the foreign ones", got)
			}
			e.checkForeignUntouched(m)
		})
	}
}

// TestRead covers reading the recorded services (DESIGN.md §10): what is live of production and
// previous, each with its live desired count, or nil when it is gone or not ours.
func TestRead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		arrange func(e *env, st *deploy.State, cfg *deploy.Config)
		// current and previous are the names and desired counts Read reports ("" for nil).
		current, previous string
		currentCount      int
	}{
		{
			name:    "production and previous are reported with their live counts and recorded revisions",
			current: "web__4", currentCount: 8, previous: "web__3",
		},
		{
			name: "the count auto scaling chose is what Read reports",
			arrange: func(e *env, _ *deploy.State, _ *deploy.Config) {
				if _, err := e.srv.AutoScale("prod", faultProd, 6); err != nil {
					e.t.Fatal(err)
				}
			},
			current: "web__4", currentCount: 6, previous: "web__3",
		},
		{
			name:     "a production service deleted by hand reads as missing",
			arrange:  func(e *env, _ *deploy.State, _ *deploy.Config) { e.removeByHand(faultProd) },
			previous: "web__3",
		},
		{
			name:    "a previous service deleted by hand reads as missing",
			arrange: func(e *env, _ *deploy.State, _ *deploy.Config) { e.removeByHand("web__3") },
			current: "web__4", currentCount: 8,
		},
		{
			name: "recorded services that are not ours read as missing",
			arrange: func(_ *env, st *deploy.State, _ *deploy.Config) {
				st.Current = &deploy.ServiceRef{Name: "web__5", Revision: 5, DesiredCount: 1}
				st.Previous = &deploy.ServiceRef{Name: "web__6", Revision: 6, DesiredCount: 1}
			},
		},
		{
			name:    "a cluster that does not exist reads as nothing live",
			arrange: func(_ *env, _ *deploy.State, cfg *deploy.Config) { cfg.Cluster = "staging" },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.arrangeHistory()
			cfg := opsConfig()
			if tc.arrange != nil {
				tc.arrange(e, &st, &cfg)
			}
			m := e.mark()
			live, err := e.eng.Read(context.Background(), cfg, st)
			if err != nil {
				t.Fatal(err)
			}
			got := func(ref *deploy.ServiceRef) string {
				if ref == nil {
					return ""
				}
				return ref.Name
			}
			if got(live.Current) != tc.current || got(live.Previous) != tc.previous {
				t.Errorf("read current %q and previous %q, want %q and %q", got(live.Current), got(live.Previous), tc.current, tc.previous)
			}
			if c := live.Current; c != nil {
				want := *st.Current
				want.DesiredCount = tc.currentCount
				if !reflect.DeepEqual(c, &want) {
					t.Errorf("current %+v, want %+v", c, &want)
				}
			}
			if p := live.Previous; p != nil {
				// The previous service is at 0 live; state records the count it had.
				want := *st.Previous
				want.DesiredCount = 0
				if !reflect.DeepEqual(p, &want) {
					t.Errorf("previous %+v, want %+v", p, &want)
				}
			}
			// One DescribeServices covers every revision Read looks at, and Read writes nothing.
			if counts := e.countsSince(m); counts["ecs:DescribeServices"] > 1 || len(e.writesSince(m)) > 0 {
				t.Errorf("calls %v, want at most one DescribeServices and no write", counts)
			}
		})
	}

	t.Run("with no production service recorded Read reports nothing and makes no call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		m := e.mark()
		live, err := e.eng.Read(context.Background(), opsConfig(), deploy.State{})
		if err != nil || live == nil || live.Current != nil || live.Previous != nil {
			t.Errorf("Read = %+v, %v; want nothing live and no error", live, err)
		}
		if n := len(e.callsSince(m)); n != 0 {
			t.Errorf("%d calls, want none", n)
		}
	})

	t.Run("a failed DescribeServices is an error, not a deployment that is gone", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.arrangeHistory()
		e.fault("DescribeServices", "AccessDeniedException", 0, 1)
		live, err := e.eng.Read(context.Background(), opsConfig(), st)
		checkNamesCall(t, err, "DescribeServices", "AccessDeniedException")
		if live != nil {
			t.Errorf("live %+v, want none with the error", live)
		}
	})
}

// TestImport covers importing a deployment by its cluster, name and ID (DESIGN.md §10).
func TestImport(t *testing.T) {
	t.Parallel()
	t.Run("production is the highest owned revision holding tasks, with its auto scaling; foreign services are passed over", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.arrangeHistory()
		// A scheduled action added to production's auto scaling is imported with it.
		if _, err := e.aas.PutScheduledAction(context.Background(), &applicationautoscaling.PutScheduledActionInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/" + st.Current.Name),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, ScheduledActionName: aws.String("morning"),
			Schedule: aws.String("cron(0 8 1 1 ? 2099)"), Timezone: aws.String("Europe/Berlin"),
			ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: aws.Int32(4), MaxCapacity: aws.Int32(10)},
		}); err != nil {
			t.Fatal(err)
		}
		m := e.mark()
		imp, err := e.eng.Import(context.Background(), "prod", "web", "prod/web")
		if err != nil {
			t.Fatal(err)
		}
		if imp.Cluster != "prod" || !reflect.DeepEqual(imp.Current, st.Current) || imp.Previous != nil || imp.HighestRevision != 4 {
			t.Errorf("imported cluster %q current %+v previous %+v highest %d; want prod, %+v, none, 4",
				imp.Cluster, imp.Current, imp.Previous, imp.HighestRevision, st.Current)
		}
		if !reflect.DeepEqual(imp.AutoScaling, withSchedule()) {
			t.Errorf("auto scaling %+v, want %+v", imp.AutoScaling, withSchedule())
		}
		want := map[string]int{
			"ecs:DescribeClusters": 1, "ecs:ListServices": 1, "ecs:DescribeServices": 1,
			"application-autoscaling:DescribeScalableTargets": 1, "application-autoscaling:DescribeScalingPolicies": 1,
			"application-autoscaling:DescribeScheduledActions": 1,
		}
		if got := e.countsSince(m); !reflect.DeepEqual(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
	})

	t.Run("a cluster ARN imports the cluster by name, and a revision above production counts in the highest revision", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.arrangeHistory()
		// A failed revision: ours, at 0, above production.
		if _, err := e.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String("web__7"), TaskDefinition: aws.String(tdHealthy2), DesiredCount: aws.Int32(0),
			Tags: []types.Tag{ecsTag(deploy.OwnerTag, "prod/web"), ecsTag(deploy.RevisionTag, "7")},
		}); err != nil {
			t.Fatal(err)
		}
		imp, err := e.eng.Import(context.Background(), "arn:aws:ecs:eu-west-1:000000000000:cluster/prod", "web", "prod/web")
		if err != nil {
			t.Fatal(err)
		}
		if imp.Cluster != "prod" || imp.Current.Name != faultProd || imp.HighestRevision != 7 {
			t.Errorf("imported cluster %q current %s highest %d, want prod, %s, 7", imp.Cluster, imp.Current.Name, imp.HighestRevision, faultProd)
		}
	})

	t.Run("every setting of a target tracking policy survives the import", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := baseConfig(tdHealthy1, 3)
		in, out := 120, 30
		cfg.AutoScaling = &deploy.AutoScaling{Min: 1, Max: 6, TargetTracking: []deploy.TargetTracking{
			{Name: "mem70", PredefinedMetricType: "ECSServiceAverageMemoryUtilization", TargetValue: 70, ScaleInCooldown: &in, ScaleOutCooldown: &out, DisableScaleIn: true},
			{Name: "alb", PredefinedMetricType: "ALBRequestCountPerTarget", ResourceLabel: "app/web/1234/targetgroup/web/5678", TargetValue: 500},
		}}
		e.mustDeploy(cfg, deploy.State{})
		imp, err := e.eng.Import(context.Background(), "prod", "web", "prod/web")
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(imp.AutoScaling.TargetTracking, func(a, b deploy.TargetTracking) int { return strings.Compare(a.Name, b.Name) })
		slices.SortFunc(cfg.AutoScaling.TargetTracking, func(a, b deploy.TargetTracking) int { return strings.Compare(a.Name, b.Name) })
		if !reflect.DeepEqual(imp.AutoScaling, cfg.AutoScaling) {
			t.Errorf("imported auto scaling %+v, want %+v", imp.AutoScaling, cfg.AutoScaling)
		}
	})

	t.Run("a production without auto scaling imports without it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.mustDeploy(baseConfig(tdHealthy1, 3), deploy.State{})
		imp, err := e.eng.Import(context.Background(), "prod", "web", "prod/web")
		if err != nil {
			t.Fatal(err)
		}
		if imp.AutoScaling != nil || imp.Current.Name != "web__1" || imp.Current.DesiredCount != 3 {
			t.Errorf("imported current %+v auto scaling %+v, want web__1 at 3 without auto scaling", imp.Current, imp.AutoScaling)
		}
	})
}

// TestImportFailures covers imports that find nothing to import or cannot look.
func TestImportFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name              string
		arrange           func(e *env)
		cluster, id       string
		errContains       []string
		inputErrOnCluster bool
	}{
		{
			name:    "a deployment ID nobody carries finds nothing, even among services named like revisions",
			arrange: func(e *env) { e.arrangeHistory() },
			cluster: "prod", id: "staging/web",
			errContains: []string{"no service of cluster prod", `"staging/web"`},
		},
		{
			name: "a deployment whose services are all at 0 has no production to import",
			arrange: func(e *env) {
				e.arrangeHistory()
				if _, err := e.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String(faultProd), DesiredCount: aws.Int32(0)}); err != nil {
					e.t.Fatal(err)
				}
			},
			cluster: "prod", id: "prod/web",
			errContains: []string{"non-zero desired count"},
		},
		{
			name:    "a cluster that does not exist is an error on cluster",
			cluster: "staging", id: "prod/web",
			errContains: []string{`ECS cluster "staging"`}, inputErrOnCluster: true,
		},
		{
			name:    "a failed ListServices is reported with its error code",
			arrange: func(e *env) { e.arrangeHistory(); e.fault("ListServices", "AccessDeniedException", 0, 1) },
			cluster: "prod", id: "prod/web",
			errContains: []string{"ListServices", "AccessDeniedException"},
		},
		{
			name:    "a failed DescribeScalableTargets is reported with its error code",
			arrange: func(e *env) { e.arrangeHistory(); e.fault("DescribeScalableTargets", "AccessDeniedException", 0, 1) },
			cluster: "prod", id: "prod/web",
			errContains: []string{"DescribeScalableTargets", "AccessDeniedException"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.arrange != nil {
				tc.arrange(e)
			}
			m := e.mark()
			imp, err := e.eng.Import(context.Background(), tc.cluster, "web", tc.id)
			e.srv.ClearFaults()
			if err == nil {
				t.Fatalf("imported %+v, want an error", imp)
			}
			for _, s := range tc.errContains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %v, want it to say %q", err, s)
				}
			}
			var ie *deploy.InputError
			if isInput := errors.As(err, &ie) && ie.Field == "cluster"; isInput != tc.inputErrOnCluster {
				t.Errorf("error %v (%T): an *InputError on cluster is %v, want %v", err, err, isInput, tc.inputErrOnCluster)
			}
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("write calls %q, want none", w)
			}
		})
	}
}
