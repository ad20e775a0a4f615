package deploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// Apply carries out what a plan previewed (DESIGN.md §11). It finds what is live, decides the
// operation again with PreviewOperation, and refuses with a *StalePlanError, before any write,
// when a value the plan promised no longer holds; otherwise it carries out exactly what it
// decided, so that every promised value is what apply produces. planned is nil when there is no
// plan to hold to.
func (e *Engine) Apply(ctx context.Context, in PreviewInput, planned *Preview) (*Result, error) {
	action, err := decideAction(in)
	if err != nil {
		return nil, err
	}
	return e.operate(ctx, in, action, planned)
}

// operate finds what is live, previews action on it and carries out the preview.
func (e *Engine) operate(ctx context.Context, in PreviewInput, action Action, planned *Preview) (*Result, error) {
	st := in.State
	if action == ActionNone {
		return &Result{State: st, Action: ActionNone}, nil
	}
	if action != ActionCreate && action != ActionDeploy && st.Current == nil {
		return nil, fmt.Errorf("%s: no production service is recorded", action)
	}
	cluster, err := e.findCluster(ctx, in.Config.Cluster)
	if err != nil {
		return nil, err
	}
	var tdARN string
	if action == ActionCreate || action == ActionDeploy {
		if tdARN, err = e.resolveTaskDefinition(ctx, in.Config, st); err != nil {
			return nil, err
		}
	}
	r := e.newRun(in.Config, cluster)
	inv, err := e.discover(ctx, r.cfg, cluster, st)
	if err != nil {
		return nil, err
	}
	for _, s := range inv.owned {
		r.desired[s.Name], r.seen[s.Name] = s.Desired, s.svc
	}
	in.View = inv.view(r.cfg, st)
	if action == ActionRollback && in.View.Previous == nil && planned == nil {
		return nil, fmt.Errorf("post-production rollback to %s: %w", st.Previous.Name, ErrPreviousGone)
	}
	if action == ActionRollback && in.View.Previous == nil {
		// The rollback becomes a deployment, which needs the task definition.
		if tdARN, err = e.resolveTaskDefinition(ctx, in.Config, st); err != nil {
			return nil, err
		}
	}
	in.View.TaskDefinitionARN = tdARN
	pv, err := previewAction(in, action)
	if err != nil {
		return nil, err
	}
	if planned != nil {
		if err := planned.Check(pv); err != nil {
			return nil, err
		}
	}
	if pv.err != nil {
		return nil, pv.err
	}
	if err := checkProduction(pv, st, in.View); err != nil {
		return nil, err
	}
	r.res.State = st
	r.res.HighestRevision = in.View.HighestRevision
	for _, n := range pv.Notes {
		if n.Field != "desired_count" {
			r.warn(ctx, n.Detail)
		}
	}
	var res *Result
	switch pv.Action {
	case ActionCreate, ActionDeploy:
		res, err = r.deploy(ctx, inv, pv)
	case ActionRollback:
		r.res.HighestRevision = st.HighestRevision
		res, err = r.rollBack(ctx, pv)
	case ActionScale:
		res, err = r.scaleInPlace(ctx, in)
	default:
		res, err = r.updateScaling(ctx, pv)
	}
	if err == nil {
		res.Action = pv.Action
		res.View = viewAfter(res, inv, r.cfg)
	}
	return res, err
}

// viewAfter is what an operation leaves live, for plans made before the next refresh.
func viewAfter(res *Result, inv *inventory, cfg Config) *View {
	v := &View{HighestRevision: res.HighestRevision}
	if res.Current != nil {
		cur := *res.Current
		v.Production = &cur
		v.ServiceARNPrefix = ARNPrefix(res.Current.ARN)
	}
	if res.Previous != nil {
		prev := *res.Previous
		prev.DesiredCount = 0
		v.Previous = &prev
	}
	for n := v.HighestRevision + 1; ; n++ {
		if !inv.taken[RevisionName(cfg.Name, n)] {
			v.NextRevision = n
			break
		}
	}
	return v
}

// checkProduction refuses to change in place, or roll back from, a production service that is
// not there or not ours.
func checkProduction(pv *Preview, st State, v *View) error {
	if pv.Action == ActionCreate || pv.Action == ActionDeploy {
		return nil
	}
	if v.Production == nil || v.Production.Name != st.Current.Name {
		return fmt.Errorf("%s: the production service %s is missing, not ACTIVE or not this deployment's", pv.Action, st.Current.Name)
	}
	return nil
}

// scalingChanged says whether the configuration changes production's auto scaling.
func scalingChanged(in PreviewInput) bool {
	return in.Prior != nil && !reflect.DeepEqual(in.Config.AutoScaling, in.Prior.AutoScaling)
}

// ErrPreviousGone says that a post-production rollback has no previous service to go back to.
var ErrPreviousGone = errors.New("the previous service no longer exists")
