package deploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
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

// operate finds what is live, decides the operation on it, and carries out what it decided.
func (e *Engine) operate(ctx context.Context, in PreviewInput, action Action, planned *Preview) (*Result, error) {
	if action == ActionNone {
		return &Result{State: in.State, Action: ActionNone}, nil
	}
	r, inv, err := e.observe(ctx, &in, action, planned == nil)
	if err != nil {
		return nil, err
	}
	pv, err := decide(in, action, planned)
	if err != nil {
		return nil, err
	}
	return r.carryOut(ctx, in, inv, pv)
}

// observe checks the cluster (and the task definition a deployment runs), discovers the
// deployment's services, and sets in.View to what it found. Nothing is written.
func (e *Engine) observe(ctx context.Context, in *PreviewInput, action Action, direct bool) (*run, *inventory, error) {
	st := in.State
	rollout := action == ActionCreate || action == ActionDeploy || action == ActionAdopt
	if !rollout && st.Current == nil {
		return nil, nil, fmt.Errorf("%s: no production service is recorded", action)
	}
	cluster, err := e.findClusterPatiently(ctx, in.Config.Cluster)
	if err != nil {
		return nil, nil, err
	}
	// Revisions are created from the configured template, or the one copied from an adopted
	// service (Template); decisions compare configurations, so in.Config keeps its own.
	cfg := in.Config
	cfg.Service = Template(in.Config, st)
	var td *types.TaskDefinition
	if rollout {
		// An adoption checks its load balancers once it knows the adopted service's.
		if td, err = e.preflightRollout(ctx, in.Config, cfg.Service, st, action != ActionAdopt); err != nil {
			return nil, nil, err
		}
	}
	r := e.newRun(cfg, cluster)
	inv, err := e.discover(ctx, r.cfg, cluster, st, rollout || action == ActionRollback)
	if err != nil {
		return nil, nil, err
	}
	r.take(inv.owned...)
	in.View = inv.view(r.cfg, st)
	if action == ActionAdopt {
		if err := r.takeAdopted(ctx, in, inv, td); err != nil {
			return nil, nil, err
		}
	}
	// A rollout moves production's auto scaling: what it holds is read before anything is
	// written, so that apply refuses to drop what the configuration does not describe.
	if action != ActionScale && action != ActionUpdateInPlace && action != ActionAdopt && in.View.Production != nil {
		if inv.prodScaling, err = e.describeScaling(ctx, cluster, in.View.Production.Name); err != nil {
			return nil, nil, err
		}
		in.View.ProductionScaling = scalingView(inv.prodScaling)
	}
	if action == ActionRollback && in.View.Previous == nil {
		if direct {
			return nil, nil, fmt.Errorf("post-production rollback to %s: %w", st.Previous.Name, ErrPreviousGone)
		}
		// The rollback becomes a deployment, checked as one.
		if td, err = e.preflightRollout(ctx, in.Config, in.Config.Service, st, true); err != nil {
			return nil, nil, err
		}
	}
	if td != nil {
		in.View.TaskDefinitionARN = aws.ToString(td.TaskDefinitionArn)
		r.wt.taskDefs[in.View.TaskDefinitionARN] = td
	}
	return r, inv, nil
}

// preflightRollout checks, before anything is written, what a deployment runs: the task
// definition, the target groups of the service template (unless lbs is false) and the analysis
// gates' alarms. It returns the task definition.
func (e *Engine) preflightRollout(ctx context.Context, cfg Config, tmpl ServiceTemplate, st State, lbs bool) (*types.TaskDefinition, error) {
	td, err := e.resolveTaskDefinition(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	if lbs {
		if err := e.checkLoadBalancers(ctx, tmpl.LoadBalancers, td); err != nil {
			return nil, err
		}
	}
	if err := e.checkAnalysisPreflight(ctx, cfg.Analysis); err != nil {
		return nil, err
	}
	return td, nil
}

// take records what discovery saw of services: their desired counts, their last view, and
// whether a killed run left its suspension tag on them.
func (r *run) take(services ...*liveService) {
	for _, s := range services {
		r.desired[s.Name], r.seen[s.Name] = s.Desired, s.svc
		if _, ok := tagValue(s.svc.Tags, SuspendedTag); ok {
			r.tagged[s.Name] = true
		}
	}
}

// takeAdopted finds the running service an adoption takes over (in.View.Adopted), creates the
// revisions from its template, and checks that template's target groups.
func (r *run) takeAdopted(ctx context.Context, in *PreviewInput, inv *inventory, td *types.TaskDefinition) error {
	prod, err := r.e.adopt(ctx, in, r.cluster, inv, aws.ToString(td.Family))
	if err != nil {
		return err
	}
	r.cfg.Service = in.View.Adopted.Template
	if len(in.View.Adopted.Copied) > 0 {
		t := in.View.Adopted.Template
		r.adoptedTemplate = &t
	}
	if err := r.e.checkLoadBalancers(ctx, r.cfg.Service.LoadBalancers, td); err != nil {
		return err
	}
	r.take(prod)
	return nil
}

// decide previews the operation on what was found, and refuses it when it breaks a promise of
// the plan, has bad input, or would change a production service that is not there.
func decide(in PreviewInput, action Action, planned *Preview) (*Preview, error) {
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
	return pv, checkProduction(pv, in.State, in.View)
}

// carryOut runs what the preview decided, and records what it leaves live for later plans.
func (r *run) carryOut(ctx context.Context, in PreviewInput, inv *inventory, pv *Preview) (*Result, error) {
	r.res.State = in.State
	r.res.HighestRevision = in.View.HighestRevision
	for _, n := range pv.Notes {
		if n.AtApply {
			r.warn(ctx, n.Detail)
		}
	}
	var res *Result
	var err error
	switch pv.Action {
	case ActionCreate, ActionDeploy, ActionAdopt:
		res, err = r.deploy(ctx, inv, pv)
	case ActionRollback:
		r.res.HighestRevision = in.State.HighestRevision
		res, err = r.rollBack(ctx, inv, pv)
	case ActionScale:
		res, err = r.scaleInPlace(ctx, in)
	default:
		res, err = r.updateScaling(ctx, pv)
	}
	if res != nil {
		// Also after a rolled-back update: the failed revision holds its name now.
		res.Action = pv.Action
		res.View = viewAfter(res, inv, r.cfg)
	}
	return res, err
}

// checkProduction refuses to change in place, or roll back from, a production service that is
// not there or not ours.
func checkProduction(pv *Preview, st State, v *View) error {
	if pv.Action == ActionCreate || pv.Action == ActionDeploy || pv.Action == ActionAdopt {
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
	v.NextRevision = inv.nextFree(cfg.Name, v.HighestRevision)
	return v
}
