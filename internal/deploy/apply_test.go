package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// plan previews cfg over what was applied with prior, from what Read finds live, as a plan after
// a refresh does.
func (e *env) plan(cfg, prior deploy.Config, st deploy.State) (deploy.PreviewInput, *deploy.Preview) {
	e.t.Helper()
	live, err := e.eng.Read(context.Background(), cfg, st)
	if err != nil {
		e.t.Fatal(err)
	}
	in := deploy.PreviewInput{Config: cfg, Prior: &prior, State: st, View: live.View}
	pv, err := deploy.PreviewOperation(in)
	if err != nil {
		e.t.Fatal(err)
	}
	return in, pv
}

// TestApply covers apply against a plan (DESIGN.md §11): it carries out what the plan
// previewed, or refuses before any write when a promised value no longer holds.
func TestApply(t *testing.T) {
	t.Parallel()
	t.Run("apply produces every value the plan promised", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := baseConfig(tdHealthy1, 4)
		st := e.mustDeploy(prior, deploy.State{})
		cfg := baseConfig(tdHealthy2, 4)
		in, planned := e.plan(cfg, prior, st)
		if planned.Action != deploy.ActionDeploy || !planned.Current.Name.Certain || !planned.Current.ARN.Certain || !planned.Current.DesiredCount.Certain {
			t.Fatalf("planned %s, current %+v; want a deployment with a certain name, ARN and count", planned.Action, planned.Current)
		}
		res, err := e.eng.Apply(context.Background(), in, planned)
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != deploy.ActionDeploy || res.Current.Name != planned.Current.Name.Value || res.Current.ARN != planned.Current.ARN.Value ||
			res.Current.DesiredCount != planned.Current.DesiredCount.Value || res.HighestRevision != planned.HighestRevision.Value {
			t.Errorf("applied %s %+v (highest %d), planned %s %+v", res.Action, res.Current, res.HighestRevision, planned.Action, planned.Current)
		}
		var phases []deploy.PhaseCounts
		for _, p := range planned.Phases {
			phases = append(phases, deploy.PhaseCounts{New: p.New.Value, Old: p.Old.Value})
		}
		if !slices.Equal(res.Phases, phases) {
			t.Errorf("applied phases %v, planned %v", res.Phases, phases)
		}
	})

	t.Run("a production count changed by hand after the plan makes apply refuse before any write", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := baseConfig(tdHealthy1, 4)
		st := e.mustDeploy(prior, deploy.State{})
		in, planned := e.plan(baseConfig(tdHealthy2, 4), prior, st)
		if _, err := e.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), DesiredCount: aws.Int32(6)}); err != nil {
			t.Fatal(err)
		}
		m := e.mark()
		res, err := e.eng.Apply(context.Background(), in, planned)
		var stale *deploy.StalePlanError
		if !errors.As(err, &stale) || res != nil {
			t.Fatalf("Apply = %+v, %v; want a *StalePlanError", res, err)
		}
		if !strings.Contains(err.Error(), "previous.desired_count: the plan has 4, apply finds 6") {
			t.Errorf("the error does not name the changed count:\n%v", err)
		}
		if w := e.writesSince(m); len(w) != 0 {
			t.Errorf("write calls %q, want none", w)
		}
	})

	t.Run("a configuration that changes nothing is applied without a call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := baseConfig(tdHealthy1, 4)
		st := e.mustDeploy(prior, deploy.State{})
		m := e.mark()
		res, err := e.eng.Apply(context.Background(), deploy.PreviewInput{Config: prior, Prior: &prior, State: st}, nil)
		if err != nil || res.Action != deploy.ActionNone || res.Current != st.Current {
			t.Errorf("Apply = %+v, %v; want nothing done and state as it was", res, err)
		}
		if n := len(e.callsSince(m)); n != 0 {
			t.Errorf("%d calls, want none", n)
		}
	})

	t.Run("a phase that would shrink the new revision is ignored, with a warning in the plan and in the result", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		prior := baseConfig(tdHealthy1, 4)
		st := e.mustDeploy(prior, deploy.State{})
		cfg := baseConfig(tdHealthy2, 4)
		cfg.Phases = []deploy.Phase{{Percent: 50}, {Percent: 25}, {Percent: 100}}
		in, planned := e.plan(cfg, prior, st)
		const warning = "phase 2 asks for 1 tasks, fewer than an earlier phase's 2; phases only grow the new revision, so it keeps 2 tasks"
		if !slices.ContainsFunc(planned.Notes, func(n deploy.Note) bool {
			return n.Field == "phase" && n.Index == 1 && strings.HasPrefix(n.Detail, warning)
		}) {
			t.Errorf("plan notes %+v, want the ignored phase 2", planned.Notes)
		}
		m := e.mark()
		res, err := e.eng.Apply(context.Background(), in, planned)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, warning) }) {
			t.Errorf("warnings %q, want the ignored phase 2", res.Warnings)
		}
		if got, want := e.desiredChanges(m, "web__2"), []int{0, 2, 4}; !slices.Equal(got, want) {
			t.Errorf("web__2 desired counts %v, want %v", got, want)
		}
		e.checkCapacity(m, 4, "web__1", "web__2")
	})
}
