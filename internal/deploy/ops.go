package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ErrPreviousGone says that a post-production rollback has no previous service to go back to.
var ErrPreviousGone = errors.New("the previous service no longer exists")

// clusterName checks that the cluster exists and returns its name.
func (e *Engine) clusterName(ctx context.Context, ref string) (string, error) {
	cl, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{ref}})
	if err != nil {
		return "", fmt.Errorf("describing ECS cluster %s: %w", ref, err)
	}
	if len(cl.Clusters) == 0 || aws.ToString(cl.Clusters[0].Status) != "ACTIVE" {
		return "", &InputError{Field: "cluster", Message: fmt.Sprintf("ECS cluster %q does not exist or is not ACTIVE", ref)}
	}
	return aws.ToString(cl.Clusters[0].ClusterName), nil
}

// RollBackToPrevious is the post-production rollback of SPEC §2.6: the previous service goes
// back up to its recorded count, the current one to 0, auto scaling moves across, and the two
// swap places in state. It returns ErrPreviousGone (wrapped) when the previous service is not
// there to go back to; the caller then deploys a new revision instead.
func (e *Engine) RollBackToPrevious(ctx context.Context, cfg Config, st State) (*Result, error) {
	if st.Current == nil || st.Previous == nil {
		return nil, fmt.Errorf("post-production rollback: %w", ErrPreviousGone)
	}
	started := e.clock().Now()
	cluster, err := e.clusterName(ctx, cfg.Cluster)
	if err != nil {
		return nil, err
	}
	r := e.newRun(cfg, cluster)
	cur, prev := st.Current.Name, st.Previous.Name
	found, err := e.describeServices(ctx, cluster, []string{cur, prev})
	if err != nil {
		return nil, err
	}
	p, ok := found[prev]
	if !ok || aws.ToString(p.Status) != "ACTIVE" || !owns(p, cfg.DeploymentID) {
		return nil, fmt.Errorf("post-production rollback to %s: %w", prev, ErrPreviousGone)
	}
	c, ok := found[cur]
	if !ok || aws.ToString(c.Status) != "ACTIVE" || !owns(c, cfg.DeploymentID) {
		return nil, fmt.Errorf("post-production rollback: the production service %s is not there", cur)
	}
	for name, svc := range found {
		r.desired[name] = int(svc.DesiredCount)
		r.seen[name] = svc
	}
	curCount := max(int(c.DesiredCount), st.Current.DesiredCount)
	target := st.Previous.DesiredCount
	r.res.State = st

	captured, err := e.takeScaling(ctx, cluster, cur)
	if err != nil {
		return nil, err
	}
	moving := settingsFromConfig(cfg.AutoScaling)
	if moving == nil {
		moving = captured
	}
	ro := &rollout{run: r, newSvc: prev, oldSvc: cur, rev: st.Previous.Revision, p: curCount, target: target,
		phases: []PhaseCounts{{New: target, Old: 0}}, restore: captured, started: started}
	ro.step(ctx, fmt.Sprintf("post-production rollback: %s back to %d tasks, then %s to 0", prev, target, cur), map[string]any{"service": prev, "count": target})
	if err := ro.runPhase(ctx, 1, ro.phases[0], Threshold(cfg.FailedTaskThreshold, target)); err != nil {
		return ro.fail(ctx, err)
	}
	if moving != nil {
		if err := e.putScaling(ctx, cluster, prev, moving); err != nil {
			return ro.fail(ctx, &stageError{phase: 1, stage: "moving auto scaling to " + prev, err: apiFailure(ctx, err)})
		}
	}
	r.res.Current = &ServiceRef{Name: prev, ARN: aws.ToString(p.ServiceArn), Revision: st.Previous.Revision, TaskDefinition: aws.ToString(p.TaskDefinition), DesiredCount: target}
	r.res.Previous = &ServiceRef{Name: cur, ARN: aws.ToString(c.ServiceArn), Revision: st.Current.Revision, TaskDefinition: aws.ToString(c.TaskDefinition), DesiredCount: curCount}
	r.res.AutoScaling = cfg.AutoScaling
	r.res.Rollout = &Rollout{Revision: st.Previous.Revision, Status: RolloutSucceeded, Reason: "post-production rollback", StartedAt: started, FinishedAt: e.clock().Now()}
	r.step(ctx, fmt.Sprintf("rolled back to revision %d: %s at %d tasks; %s kept at 0 as previous", st.Previous.Revision, prev, target, cur), map[string]any{"service": prev})
	return r.res, nil
}

// Scale changes the production service's desired count in place (SPEC §2.3) and waits for it.
// With auto scaling configured the count is clamped to its range.
func (e *Engine) Scale(ctx context.Context, cfg Config, st State, n int) (*Result, error) {
	if st.Current == nil {
		return nil, errors.New("scaling: no production service is recorded")
	}
	cluster, err := e.clusterName(ctx, cfg.Cluster)
	if err != nil {
		return nil, err
	}
	if a := cfg.AutoScaling; a != nil {
		n = min(max(n, a.Min), a.Max)
	}
	r := e.newRun(cfg, cluster)
	r.res.State = st
	if err := r.ownedOrFail(ctx, st.Current.Name); err != nil {
		return nil, err
	}
	r.step(ctx, fmt.Sprintf("scaling %s to %d tasks", st.Current.Name, n), map[string]any{"service": st.Current.Name, "count": n})
	if err := r.scale(ctx, st.Current.Name, n); err != nil {
		return nil, err
	}
	if err := r.waitFor(ctx, "start", []goal{{name: st.Current.Name, count: n}}, nil); err != nil {
		return nil, fmt.Errorf("waiting for %s to reach %d running tasks: %w", st.Current.Name, n, err)
	}
	cur := *st.Current
	cur.DesiredCount = n
	r.res.Current = &cur
	return r.res, nil
}

// ownedOrFail refuses to touch a service that does not carry our ownership tag.
func (r *run) ownedOrFail(ctx context.Context, name string) error {
	found, err := r.e.describeServices(ctx, r.cluster, []string{name})
	if err != nil {
		return err
	}
	svc, ok := found[name]
	if !ok || aws.ToString(svc.Status) != "ACTIVE" {
		return fmt.Errorf("ECS service %s is not there (missing or not ACTIVE)", name)
	}
	if !owns(svc, r.cfg.DeploymentID) {
		return fmt.Errorf("ECS service %s does not carry the tag %s = %q; it is not this deployment's and is left alone", name, OwnerTag, r.cfg.DeploymentID)
	}
	r.desired[name] = int(svc.DesiredCount)
	r.seen[name] = svc
	return nil
}

// UpdateAutoScaling makes the production service's auto scaling match the configuration: it
// registers the target, puts each policy and deletes policies no longer configured, or
// deregisters the target when auto scaling was removed.
func (e *Engine) UpdateAutoScaling(ctx context.Context, cfg Config, st State) (*Result, error) {
	if st.Current == nil {
		return nil, errors.New("updating auto scaling: no production service is recorded")
	}
	cluster, err := e.clusterName(ctx, cfg.Cluster)
	if err != nil {
		return nil, err
	}
	r := e.newRun(cfg, cluster)
	r.res.State = st
	name := st.Current.Name
	if err := r.ownedOrFail(ctx, name); err != nil {
		return nil, err
	}
	if cfg.AutoScaling == nil {
		if err := e.removeScaling(ctx, cluster, name); err != nil {
			return nil, err
		}
		r.step(ctx, "removed auto scaling from "+name, map[string]any{"service": name})
		r.res.AutoScaling = nil
		return r.res, nil
	}
	live, err := e.describeScaling(ctx, cluster, name)
	if err != nil {
		return nil, err
	}
	want := settingsFromConfig(cfg.AutoScaling)
	if err := e.putScaling(ctx, cluster, name, want); err != nil {
		return nil, err
	}
	if live != nil {
		for _, p := range live.Policies {
			if slices.ContainsFunc(want.Policies, func(w aastypes.ScalingPolicy) bool { return aws.ToString(w.PolicyName) == aws.ToString(p.PolicyName) }) {
				continue
			}
			if _, err := e.AutoScaling.DeleteScalingPolicy(ctx, &applicationautoscaling.DeleteScalingPolicyInput{
				ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resourceID(cluster, name)),
				ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: p.PolicyName,
			}); err != nil && !isObjectNotFound(err) {
				return nil, fmt.Errorf("deleting scaling policy %s of %s: %w", aws.ToString(p.PolicyName), name, err)
			}
		}
	}
	r.step(ctx, fmt.Sprintf("auto scaling of %s set to %d–%d", name, want.Min, want.Max), map[string]any{"service": name})
	r.res.AutoScaling = cfg.AutoScaling
	// Registration may have moved the count into the new range.
	found, err := e.describeServices(ctx, cluster, []string{name})
	if err == nil {
		if svc, ok := found[name]; ok {
			cur := *st.Current
			cur.DesiredCount = int(svc.DesiredCount)
			r.res.Current = &cur
		}
	}
	return r.res, nil
}

// Delete removes every service of the deployment (SPEC §2.7): scalable targets are
// deregistered, each owned service is scaled to 0 and deleted, and Delete waits until none is
// ACTIVE. Services that are not ours are never touched.
func (e *Engine) Delete(ctx context.Context, cfg Config, st State) error {
	cluster, err := e.clusterName(ctx, cfg.Cluster)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil // the cluster is gone, and with it every service
		}
		return err
	}
	r := e.newRun(cfg, cluster)
	inv, err := e.discover(ctx, r.cfg, cluster, st)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(inv.owned))
	for _, s := range inv.owned {
		names = append(names, s.Name)
		r.desired[s.Name] = s.Desired
		if err := e.removeScaling(ctx, cluster, s.Name); err != nil {
			return err
		}
		if err := r.scale(ctx, s.Name, 0); err != nil {
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
	// Wait until none of them is ACTIVE any more.
	for len(names) > 0 {
		found, err := e.describeServices(ctx, cluster, names)
		if err != nil {
			return err
		}
		names = slices.DeleteFunc(names, func(n string) bool {
			svc, ok := found[n]
			return !ok || aws.ToString(svc.Status) != "ACTIVE"
		})
		if len(names) == 0 {
			break
		}
		if err := e.clock().Sleep(ctx, r.wt.poll.Initial); err != nil {
			return fmt.Errorf("waiting for services to be deleted: %w", err)
		}
	}
	return nil
}

// Live is what Read saw of the recorded services.
type Live struct {
	Current  *ServiceRef // nil when the production service is missing or not ACTIVE
	Previous *ServiceRef // nil when the previous service is missing or not ACTIVE
}

// Read describes the recorded production and previous services in one DescribeServices call.
func (e *Engine) Read(ctx context.Context, cluster string, st State) (*Live, error) {
	if st.Current == nil {
		return &Live{}, nil
	}
	names := []string{st.Current.Name}
	if st.Previous != nil && st.Previous.Name != st.Current.Name {
		names = append(names, st.Previous.Name)
	}
	out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names})
	if err != nil {
		var nf *types.ClusterNotFoundException
		if errors.As(err, &nf) {
			return &Live{}, nil
		}
		return nil, fmt.Errorf("describing ECS services %v: %w", names, err)
	}
	live := &Live{}
	for _, svc := range out.Services {
		if aws.ToString(svc.Status) != "ACTIVE" {
			continue
		}
		ref := &ServiceRef{Name: aws.ToString(svc.ServiceName), ARN: aws.ToString(svc.ServiceArn), TaskDefinition: aws.ToString(svc.TaskDefinition), DesiredCount: int(svc.DesiredCount)}
		switch ref.Name {
		case st.Current.Name:
			ref.Revision = st.Current.Revision
			live.Current = ref
		case names[len(names)-1]:
			ref.Revision = st.Previous.Revision
			live.Previous = ref
		}
	}
	return live, nil
}

// Imported is what Import found of a deployment.
type Imported struct {
	State
	Cluster string
}

// Import discovers a deployment's services by listing the cluster (SPEC §2.7): production is
// the highest revision with a non-zero count; the previous service cannot be known and is left
// empty.
func (e *Engine) Import(ctx context.Context, cluster, name, deploymentID string) (*Imported, error) {
	clusterName, err := e.clusterName(ctx, cluster)
	if err != nil {
		return nil, err
	}
	cfg := Config{Cluster: clusterName, Name: name, DeploymentID: deploymentID}
	inv, err := e.list(ctx, cfg, clusterName)
	if err != nil {
		return nil, err
	}
	prod, _ := pickProduction(inv, State{})
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
		if tt == nil || tt.PredefinedMetricSpecification == nil {
			continue
		}
		t := TargetTracking{
			Name: aws.ToString(p.PolicyName), TargetValue: aws.ToFloat64(tt.TargetValue),
			PredefinedMetricType: string(tt.PredefinedMetricSpecification.PredefinedMetricType),
			ResourceLabel:        aws.ToString(tt.PredefinedMetricSpecification.ResourceLabel),
			DisableScaleIn:       aws.ToBool(tt.DisableScaleIn),
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
	return a
}
