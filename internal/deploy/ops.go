package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// RollBackToPrevious is the post-production rollback (DESIGN.md §9): the previous service goes
// back up to its recorded count, the current one to 0, auto scaling moves across, and the two
// swap places in state. It returns ErrPreviousGone (wrapped) when the previous service is not
// there to go back to.
func (e *Engine) RollBackToPrevious(ctx context.Context, cfg Config, st State) (*Result, error) {
	if st.Current == nil || st.Previous == nil {
		return nil, fmt.Errorf("post-production rollback: %w", ErrPreviousGone)
	}
	return e.operate(ctx, PreviewInput{Config: cfg, State: st}, ActionRollback, nil)
}

// rollBack carries out a post-production rollback as one phase from the current service (the
// rollout's old side) to the previous one (its new side), with the same failure watch and
// rollback as any phase.
func (r *run) rollBack(ctx context.Context, inv *inventory, pv *Preview) (*Result, error) {
	st, d := r.res.State, pv.plan
	cur, prev := st.Current.Name, st.Previous.Name
	var captured *scalingSettings
	if live := inv.byName(cur); live != nil {
		var err error
		if captured, err = r.suspendScaling(ctx, live, inv.prodScaling); err != nil {
			return nil, err
		}
	}
	// The configuration says what auto scaling the rolled-back-to service gets, as a deployment's
	// finish does: none when the block is absent.
	ro := &phaseRun{run: r, toSvc: prev, fromSvc: cur, fromARN: st.Current.ARN, rev: st.Previous.Revision, p: d.p, target: d.desired,
		phases: d.phases, started: r.started, sorted: map[string]bool{}}
	ro.setRestore(captured)
	ro.step(ctx, fmt.Sprintf("post-production rollback: %s back to %d tasks, then %s to 0", prev, d.desired, cur), map[string]any{"service": prev, "count": d.desired})
	if err := ro.runPhase(ctx, 1, ro.phases[0], Threshold(r.cfg.FailedTaskThreshold, d.desired)); err != nil {
		return ro.fail(ctx, err)
	}
	if err := ro.handOverScaling(ctx); err != nil {
		return ro.fail(ctx, &stageError{phase: 1, stage: "moving auto scaling to " + prev, err: apiFailure(ctx, err)})
	}
	r.res.Current = &ServiceRef{Name: prev, ARN: st.Previous.ARN, Revision: st.Previous.Revision, TaskDefinition: d.prev.TaskDefinition, DesiredCount: d.desired}
	r.res.Previous = &ServiceRef{Name: cur, ARN: st.Current.ARN, Revision: st.Current.Revision, TaskDefinition: d.prod.TaskDefinition, DesiredCount: d.p}
	r.res.AutoScaling = r.cfg.AutoScaling
	r.res.Phases = d.phases
	r.res.Rollout = &Rollout{Revision: st.Previous.Revision, Status: RolloutSucceeded, Reason: "post-production rollback", StartedAt: r.started, FinishedAt: r.e.clock().Now()}
	r.step(ctx, fmt.Sprintf("rolled back to revision %d: %s at %d tasks; %s kept at 0 as previous", st.Previous.Revision, prev, d.desired, cur), map[string]any{"service": prev})
	return r.res, nil
}

// Scale changes the production service's desired count in place (DESIGN.md §6) and waits for
// it. With auto scaling configured the count is clamped to its range.
func (e *Engine) Scale(ctx context.Context, cfg Config, st State, n int) (*Result, error) {
	cfg.DesiredCount = &n
	return e.operate(ctx, PreviewInput{Config: cfg, State: st}, ActionScale, nil)
}

// scaleInPlace sets production's count, after its auto scaling when that changes too, so that
// the count set last is the count recorded.
func (r *run) scaleInPlace(ctx context.Context, in PreviewInput) (*Result, error) {
	name := r.res.Current.Name
	n := ClampToScaling(r.cfg.AutoScaling, *r.cfg.DesiredCount)
	if scalingChanged(in) || in.View.LeftSuspended != "" {
		if err := r.setScaling(ctx, name); err != nil {
			return nil, err
		}
		r.res.AutoScaling = r.cfg.AutoScaling
	}
	r.step(ctx, fmt.Sprintf("scaling %s to %d tasks", name, n), map[string]any{"service": name, "count": n})
	if err := r.scale(ctx, name, n); err != nil {
		return nil, err
	}
	if err := r.waitFor(ctx, waitStart, []goal{{name: name, count: n}}, nil); err != nil {
		return nil, fmt.Errorf("waiting for %s to reach %d running tasks: %w", name, n, err)
	}
	cur := *r.res.Current
	cur.DesiredCount = n
	cur.TaskDefinition = in.View.Production.TaskDefinition // what it runs, as the preview holds
	r.res.Current = &cur
	return r.res, nil
}

// UpdateAutoScaling makes the production service's auto scaling match the configuration: it
// registers the target, puts each policy and deletes policies no longer configured, or
// deregisters the target when auto scaling was removed.
func (e *Engine) UpdateAutoScaling(ctx context.Context, cfg Config, st State) (*Result, error) {
	return e.operate(ctx, PreviewInput{Config: cfg, State: st}, ActionUpdateInPlace, nil)
}

// updateScaling changes production's auto scaling in place. The count recorded afterwards is
// the one the configuration sets when auto scaling is removed with desired_count set, and
// otherwise the live one, which auto scaling decides.
func (r *run) updateScaling(ctx context.Context, pv *Preview) (*Result, error) {
	name := r.res.Current.Name
	if err := r.setScaling(ctx, name); err != nil {
		return nil, err
	}
	r.res.AutoScaling = r.cfg.AutoScaling
	cur := *r.res.Current
	cur.TaskDefinition = pv.plan.prod.TaskDefinition // what it runs, as the preview holds
	if n := pv.plan.desired; n >= 0 {
		r.step(ctx, fmt.Sprintf("scaling %s to the configured %d tasks", name, n), map[string]any{"service": name, "count": n})
		if err := r.scale(ctx, name, n); err != nil {
			return nil, err
		}
		if err := r.waitFor(ctx, waitStart, []goal{{name: name, count: n}}, nil); err != nil {
			return nil, fmt.Errorf("waiting for %s to reach %d running tasks: %w", name, n, err)
		}
		cur.DesiredCount = n
	} else {
		svc, err := r.e.findOwnedService(ctx, r.cluster, name, r.cfg.DeploymentID)
		if err != nil {
			return nil, err
		}
		// Registering a range that excludes the live count starts a scaling activity that moves
		// the count into it, some time after the call: the count recorded is where it goes.
		cur.DesiredCount = ClampToScaling(r.cfg.AutoScaling, int(svc.DesiredCount))
	}
	r.res.Current = &cur
	return r.res, nil
}

// setScaling makes a service's auto scaling what the configuration says.
func (r *run) setScaling(ctx context.Context, name string) (err error) {
	e, cluster := r.e, r.cluster
	// A suspension an interrupted run left is lifted: to the state its tag records, and the
	// tag comes off once that is done.
	left, suspended := tagValue(r.seen[name].Tags, SuspendedTag)
	defer func() {
		if suspended && err == nil {
			r.untagSuspension(ctx, name, aws.ToString(r.seen[name].ServiceArn))
		}
	}()
	if r.cfg.AutoScaling == nil {
		if err := e.removeScaling(ctx, cluster, name); err != nil {
			return err
		}
		r.step(ctx, "removed auto scaling from "+name, map[string]any{"service": name})
		return nil
	}
	want := settingsFor(r.cfg.AutoScaling, name)
	if suspended {
		prior, ok := parseSuspension(left)
		if !ok {
			prior = &aastypes.SuspendedState{}
		}
		want.Suspended = resumed(prior)
	}
	if err := e.putScaling(ctx, cluster, name, want); err != nil {
		return err
	}
	// What the auto scaling last applied described and the configuration no longer does is
	// deleted; what neither describes (added outside Terraform) is left alone.
	if old := r.res.AutoScaling; old != nil {
		id := aws.String(resourceID(cluster, name))
		for _, tt := range old.TargetTracking {
			if slices.ContainsFunc(want.Policies, func(w aastypes.ScalingPolicy) bool { return aws.ToString(w.PolicyName) == tt.Name }) {
				continue
			}
			if _, err := e.AutoScaling.DeleteScalingPolicy(ctx, &applicationautoscaling.DeleteScalingPolicyInput{
				ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id,
				ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: aws.String(tt.Name),
			}); err != nil && !isObjectNotFound(err) {
				return fmt.Errorf("deleting scaling policy %s of %s: %w", tt.Name, name, err)
			}
		}
		for _, sa := range old.ScheduledActions {
			if slices.ContainsFunc(want.Scheduled, func(w aastypes.ScheduledAction) bool { return aws.ToString(w.ScheduledActionName) == sa.Name }) {
				continue
			}
			if _, err := e.AutoScaling.DeleteScheduledAction(ctx, &applicationautoscaling.DeleteScheduledActionInput{
				ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id,
				ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, ScheduledActionName: aws.String(sa.Name),
			}); err != nil && !isObjectNotFound(err) {
				return fmt.Errorf("deleting scheduled action %s of %s: %w", sa.Name, name, err)
			}
		}
	}
	r.step(ctx, fmt.Sprintf("auto scaling of %s set to %d–%d", name, want.Min, want.Max), map[string]any{"service": name})
	return nil
}

// Delete removes every service of the deployment (DESIGN.md §10): scalable targets are
// deregistered, each owned service is scaled to 0 and deleted, and Delete waits until none is
// ACTIVE. Services that are not ours are never touched.
func (e *Engine) Delete(ctx context.Context, cfg Config, st State) error {
	cluster, err := e.findCluster(ctx, cfg.Cluster)
	if IsNotFound(err) {
		return nil // the cluster is gone, and with it every service
	}
	if err != nil {
		return err
	}
	r := e.newRun(cfg, cluster)
	inv, err := e.discover(ctx, r.cfg, cluster, st, false)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(inv.owned))
	for _, s := range inv.owned {
		names = append(names, s.Name)
		r.desired[s.Name] = s.Desired
	}
	if err := e.removeScaling(ctx, cluster, names...); err != nil {
		return err
	}
	for _, name := range names {
		if err := r.scale(ctx, name, 0); err != nil {
			return err
		}
	}
	for _, name := range names {
		if _, err := e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(name)}); err != nil {
			var nf *types.ServiceNotFoundException
			if !errors.As(err, &nf) {
				return fmt.Errorf("deleting ECS service %s: %w", name, err)
			}
		}
		r.step(ctx, "deleted "+name, map[string]any{"service": name})
	}
	return r.awaitInactive(ctx, names)
}

// awaitInactive waits until each service is INACTIVE or gone. A deleted service stays DRAINING
// until its tasks have stopped, the load balancer's deregistration delay included, and its name
// cannot be created again until then (CreateService refuses an ACTIVE or DRAINING name): a
// destroy that returned earlier would make the create that follows it fail. The wait is bounded
// by the operation's context, the delete timeout; polls back off to Poll.Max.
func (r *run) awaitInactive(ctx context.Context, names []string) error {
	clock := r.e.clock()
	start := clock.Now()
	for len(names) > 0 {
		found, err := r.e.findServices(ctx, r.cluster, names)
		if err != nil {
			return err
		}
		names = slices.DeleteFunc(names, func(n string) bool {
			svc, ok := found[n]
			return !ok || aws.ToString(svc.Status) == "INACTIVE"
		})
		if len(names) == 0 {
			return nil
		}
		sleep := min(r.wt.poll.Max, max(r.wt.poll.Initial, clock.Now().Sub(start)/8))
		if err := clock.Sleep(ctx, sleep); err != nil {
			return fmt.Errorf("waiting for %s to finish draining: %w", strings.Join(names, ", "), err)
		}
	}
	return nil
}

// Live is what Read saw of the recorded services.
type Live struct {
	Current  *ServiceRef // nil when the production service is missing, not ACTIVE or not ours
	Previous *ServiceRef // nil when the previous service is missing, not ACTIVE or not ours
	// View is what a plan previews from until the next refresh.
	View *View
}

// Read describes the recorded services and the revisions around them, usually in one
// DescribeServices call: the same discovery apply makes, so that a plan previews from what
// apply will find unless something changes in between.
func (e *Engine) Read(ctx context.Context, cfg Config, st State) (*Live, error) {
	if st.Current == nil {
		return &Live{}, nil
	}
	inv, err := e.probe(ctx, cfg, LastSegment(cfg.Cluster), st)
	if err != nil {
		var nf *types.ClusterNotFoundException
		if errors.As(err, &nf) {
			return &Live{}, nil
		}
		return nil, err
	}
	live := &Live{View: inv.view(cfg, st)}
	if prod := live.View.Production; prod != nil {
		// What production's auto scaling holds, for a plan to warn about what a rollout would
		// drop. A failed read only costs the warning: apply reads it again and refuses.
		policies, scheduled, err := e.describeScalingItems(ctx, LastSegment(cfg.Cluster), prod.Name)
		if err != nil {
			e.log().Warn(ctx, "could not read the production service's auto scaling; the plan cannot warn about policies a rollout would drop", map[string]any{"error": err.Error()})
		} else {
			live.View.ProductionScaling = &ScalingView{}
			live.View.ProductionScaling.add(policies, scheduled)
		}
	}
	if cur := inv.byName(st.Current.Name); cur != nil {
		live.Current = cur.ref()
		live.Current.Revision = st.Current.Revision
	}
	if st.Previous != nil && st.Previous.Name != st.Current.Name {
		if prev := inv.byName(st.Previous.Name); prev != nil {
			live.Previous = prev.ref()
			live.Previous.Revision = st.Previous.Revision
		}
	}
	return live, nil
}

// Imported is what Import found of a deployment.
type Imported struct {
	State
	Cluster string
}

// Import discovers a deployment's services by listing the cluster (DESIGN.md §10): production is
// the highest revision with a non-zero count; the previous service cannot be known and is left
// empty.
func (e *Engine) Import(ctx context.Context, cluster, name, deploymentID string) (*Imported, error) {
	clusterName, err := e.findCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	cfg := Config{Cluster: clusterName, Name: name, DeploymentID: deploymentID}
	inv, err := e.list(ctx, cfg, clusterName)
	if err != nil {
		return nil, err
	}
	prod := pickProduction(inv, State{})
	if prod == nil {
		return nil, fmt.Errorf("no service of cluster %s is named %s__N with tag %s = %q and a non-zero desired count", clusterName, name, OwnerTag, deploymentID)
	}
	imp := &Imported{Cluster: clusterName}
	imp.Current = prod.ref()
	imp.HighestRevision = inv.highest
	s, err := e.describeScaling(ctx, clusterName, prod.Name)
	if err != nil {
		return nil, err
	}
	imp.AutoScaling = s.toConfig()
	return imp, nil
}

// toConfig turns captured target tracking settings back into configuration form.
func (s *scalingSettings) toConfig() *AutoScaling {
	if s == nil {
		return nil
	}
	a := &AutoScaling{Min: s.Min, Max: s.Max}
	for _, p := range s.Policies {
		tt := p.TargetTrackingScalingPolicyConfiguration
		if tt == nil || (tt.PredefinedMetricSpecification == nil && (tt.CustomizedMetricSpecification == nil || tt.CustomizedMetricSpecification.MetricName == nil)) {
			continue
		}
		t := TargetTracking{
			Name: aws.ToString(p.PolicyName), TargetValue: aws.ToFloat64(tt.TargetValue),
			DisableScaleIn: aws.ToBool(tt.DisableScaleIn),
		}
		if pm := tt.PredefinedMetricSpecification; pm != nil {
			t.PredefinedMetricType, t.ResourceLabel = string(pm.PredefinedMetricType), aws.ToString(pm.ResourceLabel)
		} else {
			cm := tt.CustomizedMetricSpecification
			t.CustomizedMetric = &CustomizedMetric{
				Namespace: aws.ToString(cm.Namespace), MetricName: aws.ToString(cm.MetricName),
				Statistic: string(cm.Statistic), Unit: aws.ToString(cm.Unit),
			}
			for _, d := range cm.Dimensions {
				if t.CustomizedMetric.Dimensions == nil {
					t.CustomizedMetric.Dimensions = map[string]string{}
				}
				t.CustomizedMetric.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
		}
		if tt.ScaleInCooldown != nil {
			v := int(*tt.ScaleInCooldown)
			t.ScaleInCooldown = &v
		}
		if tt.ScaleOutCooldown != nil {
			v := int(*tt.ScaleOutCooldown)
			t.ScaleOutCooldown = &v
		}
		a.TargetTracking = append(a.TargetTracking, t)
	}
	for _, sa := range s.Scheduled {
		c := ScheduledAction{Name: aws.ToString(sa.ScheduledActionName), Schedule: aws.ToString(sa.Schedule), Timezone: aws.ToString(sa.Timezone)}
		if c.Timezone == "UTC" {
			c.Timezone = ""
		}
		if act := sa.ScalableTargetAction; act != nil {
			if act.MinCapacity != nil {
				c.Min = aws.Int(int(*act.MinCapacity))
			}
			if act.MaxCapacity != nil {
				c.Max = aws.Int(int(*act.MaxCapacity))
			}
		}
		if sa.StartTime != nil {
			c.StartTime = sa.StartTime.UTC().Format(time.RFC3339)
		}
		if sa.EndTime != nil {
			c.EndTime = sa.EndTime.UTC().Format(time.RFC3339)
		}
		a.ScheduledActions = append(a.ScheduledActions, c)
	}
	return a
}
