package deploy_test

import (
	"context"
	"errors"
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

// putStepPolicy creates a step scaling policy on a service, as someone outside Terraform would.
func (e *env) putStepPolicy(service, name string) {
	e.t.Helper()
	if _, err := e.aas.PutScalingPolicy(context.Background(), &applicationautoscaling.PutScalingPolicyInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/" + service),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: aws.String(name),
		PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{
			AdjustmentType:  aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(2)}},
		},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// TestHandOver covers what a rollout does with auto scaling the configuration does not
// describe, with a suspension production already had, and with customized metrics (DESIGN.md
// §5.6).
func TestHandOver(t *testing.T) {
	t.Parallel()
	withScaling := func(td string) deploy.Config {
		cfg := baseConfig(td, 4)
		cfg.AutoScaling = withSchedule()
		return cfg
	}

	t.Run("a step scaling policy created outside Terraform stops the rollout before any write", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		e.putStepPolicy("web__1", "burst-out")
		before := e.scaling("web__1")
		m := e.mark()
		_, err := e.eng.Deploy(context.Background(), withScaling(tdHealthy2), st)
		var ie *deploy.InputError
		if !errors.As(err, &ie) || ie.Field != "auto_scaling" || !strings.Contains(err.Error(), "step scaling policy burst-out") || !strings.Contains(err.Error(), "discard_unmanaged") {
			t.Fatalf("error %v (%T), want an input error on auto_scaling naming step scaling policy burst-out and discard_unmanaged", err, err)
		}
		if w := e.writesSince(m); len(w) != 0 {
			t.Errorf("the refused rollout wrote %q", w)
		}
		if got := e.scaling("web__1"); !reflect.DeepEqual(got, before) {
			t.Errorf("web__1's auto scaling %+v, want it untouched: %+v", got, before)
		}
	})

	t.Run("with discard_unmanaged the rollout proceeds, warns, and the step policy goes with the old target", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		e.putStepPolicy("web__1", "burst-out")
		cfg := withScaling(tdHealthy2)
		cfg.DiscardUnmanagedScaling = true
		res, err := e.eng.Deploy(context.Background(), cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "step scaling policy burst-out") }) {
			t.Errorf("warnings %q, want one naming step scaling policy burst-out", res.Warnings)
		}
		if got := e.scaling("web__2"); got == nil || !reflect.DeepEqual(*got, scheduledView) {
			t.Errorf("web__2's auto scaling %+v, want the configured %+v only", got, scheduledView)
		}
		if got := e.scaling("web__1"); got != nil {
			t.Errorf("web__1 kept auto scaling %+v", got)
		}
	})

	t.Run("policies and scheduled actions state recorded are managed: renaming one in the configuration is no refusal", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		cfg := withScaling(tdHealthy2)
		cfg.AutoScaling.TargetTracking[0].Name = "cpu-target"
		cfg.AutoScaling.ScheduledActions[0].Name = "mornings"
		if _, err := e.eng.Deploy(context.Background(), cfg, st); err != nil {
			t.Fatal(err)
		}
		got := e.scaling("web__2")
		if got == nil || !reflect.DeepEqual(got.Policies, []string{"cpu-target ECSServiceAverageCPUUtilization 60"}) || !reflect.DeepEqual(got.Scheduled, []string{"mornings cron(0 8 1 1 ? 2099) 4–10"}) {
			t.Errorf("web__2's auto scaling %+v, want the renamed policy and scheduled action only", got)
		}
	})

	t.Run("a suspension production had before the rollout is carried to the new revision, and kept through a rollback", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		// Someone suspended scheduled scaling during an incident.
		if _, err := e.aas.RegisterScalableTarget(context.Background(), &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			SuspendedState:    &aastypes.SuspendedState{ScheduledScalingSuspended: aws.Bool(true)},
		}); err != nil {
			t.Fatal(err)
		}
		want := scheduledView
		want.Suspended = "scheduled"

		_, err := e.eng.Deploy(context.Background(), withScaling(tdCrash), st)
		if re := rolloutError(t, err); !re.RolledBack {
			t.Fatalf("not rolled back: %v", err)
		}
		if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("web__1's auto scaling after the rollback %+v, want %+v", got, want)
		}
		res, err := e.eng.Deploy(context.Background(), withScaling(tdHealthy2), st)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.scaling(res.Current.Name); got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s's auto scaling %+v, want %+v", res.Current.Name, got, want)
		}
	})

	t.Run("the suspension a killed run left is lifted by the next one, from the tag that recorded it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		// A run killed right after suspending web__1: the tag says dynamic scale-out was
		// suspended before it; the target is fully suspended now.
		if _, err := e.ecs.TagResource(context.Background(), &ecs.TagResourceInput{ResourceArn: aws.String(serviceARN("web__1")), Tags: []types.Tag{ecsTag(deploy.SuspendedTag, "in=false,out=true,scheduled=false")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.aas.RegisterScalableTarget(context.Background(), &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			SuspendedState: &aastypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(true), DynamicScalingOutSuspended: aws.Bool(true),
				ScheduledScalingSuspended: aws.Bool(true)},
		}); err != nil {
			t.Fatal(err)
		}
		m := e.mark()
		res, err := e.eng.Deploy(context.Background(), withScaling(tdHealthy2), st)
		if err != nil {
			t.Fatal(err)
		}
		want := scheduledView
		want.Suspended = "out"
		if got := e.scaling(res.Current.Name); got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s's auto scaling %+v, want %+v", res.Current.Name, got, want)
		}
		if n := e.countsSince(m)["ecs:TagResource"]; n != 0 {
			t.Errorf("%d TagResource calls: the tag the killed run left must be read, not written again", n)
		}
		if v, ok := e.tags("web__1")[deploy.SuspendedTag]; ok {
			t.Errorf("web__1 still carries %s = %q", deploy.SuspendedTag, v)
		}
	})

	t.Run("production a person scaled above its auto scaling maximum keeps that count through a rolled-back rollout: suspending and resuming its target name no range", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := func(td string) deploy.Config {
			c := baseConfig(td, 2)
			c.AutoScaling = &deploy.AutoScaling{Min: 1, Max: 2, TargetTracking: cpu60().TargetTracking}
			return c
		}
		st := e.mustDeploy(cfg(tdHealthy1), deploy.State{})
		if _, err := e.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(3)}); err != nil {
			t.Fatal(err)
		}
		e.await(startDelay, "web__1 running 3 tasks", func() bool { return e.live("web__1")["web__1"] == [2]int{3, 3} })
		m := e.mark()
		_, err := e.eng.Deploy(context.Background(), cfg(tdCrash), st)
		if re := rolloutError(t, err); !re.RolledBack || re.Production != "web__1 at 3 tasks" {
			t.Fatalf("rolled back %v, production %q; want a rollback to web__1 at 3 tasks", re.RolledBack, re.Production)
		}
		// Application Auto Scaling would move the count into 1–2 after an update that names the
		// range; the engine's name none, so nothing does.
		e.clock.Advance(10 * time.Second)
		if got := e.live("web__1")["web__1"]; got != [2]int{3, 3} {
			t.Errorf("web__1 at %v after the rollback, want the 3 tasks it had", got)
		}
		e.checkCapacity(m, 3, "web__1", "web__3")
		if got := e.scaling("web__1"); got == nil || got.Min != 1 || got.Max != 2 || got.Suspended != "" {
			t.Errorf("web__1's auto scaling after the rollback %+v, want 1–2, resumed", got)
		}
	})

	t.Run("a target deregistered outside during a rollout that rolls back is registered again with the range it had", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		st := e.mustDeploy(withScaling(tdHealthy1), deploy.State{})
		gone := false
		e.holdResponse(func(c ecslocal.Call) bool {
			if c.Action() == "ecs:CreateService" && !gone {
				gone = true
				if _, err := e.aas.DeregisterScalableTarget(context.Background(), &applicationautoscaling.DeregisterScalableTargetInput{
					ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
					ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
				}); err != nil {
					t.Error(err)
				}
			}
			return false
		})
		_, err := e.eng.Deploy(context.Background(), withScaling(tdCrash), st)
		if re := rolloutError(t, err); !re.RolledBack || !slices.Contains(re.RollbackSteps, "auto scaling (2–10) of web__1 resumed") {
			t.Fatalf("rolled back %v, steps %q; want a rollback that resumes web__1's auto scaling", re.RolledBack, re.RollbackSteps)
		}
		if !gone {
			t.Fatal("the target was never deregistered")
		}
		if got := e.scaling("web__1"); got == nil || got.Min != 2 || got.Max != 10 || got.Suspended != "" {
			t.Errorf("web__1's auto scaling after the rollback %+v, want 2–10 registered again, not suspended", got)
		}
	})

	t.Run("a customized metric's ServiceName dimension names each revision's service", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		cfg := func(td string) deploy.Config {
			c := baseConfig(td, 4)
			c.AutoScaling = &deploy.AutoScaling{Min: 2, Max: 10, TargetTracking: []deploy.TargetTracking{{
				Name: "rps", TargetValue: 100,
				CustomizedMetric: &deploy.CustomizedMetric{Namespace: "Web", MetricName: "RequestsPerTask", Statistic: "Average",
					Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "web"}},
			}}}
			return c
		}
		st := e.mustDeploy(cfg(tdHealthy1), deploy.State{})
		if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(got.Policies, []string{"rps Web/RequestsPerTask ClusterName=prod ServiceName=web__1 100"}) {
			t.Errorf("web__1's policies %+v", got)
		}
		st = e.mustDeploy(cfg(tdHealthy2), st)
		if got := e.scaling("web__2"); got == nil || !reflect.DeepEqual(got.Policies, []string{"rps Web/RequestsPerTask ClusterName=prod ServiceName=web__2 100"}) {
			t.Errorf("web__2's policies %+v", got)
		}
		if !reflect.DeepEqual(st.AutoScaling, cfg(tdHealthy2).AutoScaling) {
			t.Errorf("state records %+v, want the configuration's", st.AutoScaling)
		}
	})
}

// TestHandOver_leftSuspensionIsLifted: a rollout killed right after it suspended production's
// auto scaling, and then the configuration put back as it was: the next apply, which would
// otherwise do nothing, lifts the suspension and removes the tag (DESIGN.md §5.6.1).
func TestHandOver_leftSuspensionIsLifted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := baseConfig(tdHealthy1, 4)
	cfg.AutoScaling = withSchedule()
	st := e.mustDeploy(cfg, deploy.State{})
	next := cfg
	next.TaskDefinition = tdHealthy2
	_, _ = e.eng.Deploy(e.killAfterWrites(2), next, st)
	e.revive()
	suspended := scheduledView
	suspended.Suspended = "in out scheduled"
	if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(*got, suspended) {
		t.Fatalf("after the kill web__1's auto scaling is %+v, want %+v", got, suspended)
	}

	// The refresh sees the tag; the plan is an update in place that says so.
	live, err := e.eng.Read(context.Background(), cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	in := deploy.PreviewInput{Config: cfg, Prior: &cfg, State: st, View: live.View}
	pv, err := deploy.PreviewOperation(in)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Action != deploy.ActionUpdateInPlace || !slices.ContainsFunc(pv.Notes, func(n deploy.Note) bool { return n.Summary == "Auto Scaling Suspension Lifted" }) {
		t.Errorf("action %s, notes %+v; want an update in place noting the suspension lifted", pv.Action, pv.Notes)
	}
	res, err := e.eng.Apply(context.Background(), in, pv)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.scaling("web__1"); got == nil || !reflect.DeepEqual(*got, scheduledView) {
		t.Errorf("web__1's auto scaling %+v, want %+v, not suspended", got, scheduledView)
	}
	if v, ok := e.tags("web__1")[deploy.SuspendedTag]; ok {
		t.Errorf("web__1 still carries %s = %q", deploy.SuspendedTag, v)
	}
	if res.Current.Name != "web__1" {
		t.Errorf("production %s, want web__1", res.Current.Name)
	}
	live, err = e.eng.Read(context.Background(), cfg, res.State)
	if err != nil {
		t.Fatal(err)
	}
	if pv, err := deploy.PreviewOperation(deploy.PreviewInput{Config: cfg, Prior: &cfg, State: res.State, View: live.View}); err != nil || pv.Action != deploy.ActionNone {
		t.Errorf("the plan after: %v, %v; want nothing to do", pv, err)
	}
}
