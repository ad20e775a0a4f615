package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// scalingSettings are a scalable target with its policies and scheduled actions, as captured
// from a service or built from configuration, ready to be put on a service.
type scalingSettings struct {
	Min, Max  int
	Suspended *aastypes.SuspendedState
	Policies  []aastypes.ScalingPolicy
	Scheduled []aastypes.ScheduledAction
}

func resourceID(cluster, service string) string { return "service/" + cluster + "/" + service }

// settingsFor turns the configured auto scaling into the settings of one revision's service: a
// customized metric's ServiceName dimension names that service.
func settingsFor(a *AutoScaling, service string) *scalingSettings {
	if a == nil {
		return nil
	}
	s := &scalingSettings{Min: a.Min, Max: a.Max}
	for _, tt := range a.TargetTracking {
		cfg := &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:    aws.Float64(tt.TargetValue),
			DisableScaleIn: aws.Bool(tt.DisableScaleIn),
		}
		if m := tt.CustomizedMetric; m != nil {
			spec := &aastypes.CustomizedMetricSpecification{
				Namespace: aws.String(m.Namespace), MetricName: aws.String(m.MetricName),
				Statistic: aastypes.MetricStatistic(m.Statistic),
			}
			if m.Unit != "" {
				spec.Unit = aws.String(m.Unit)
			}
			for _, k := range slices.Sorted(maps.Keys(m.Dimensions)) {
				v := m.Dimensions[k]
				if k == ServiceNameDimension {
					v = service
				}
				spec.Dimensions = append(spec.Dimensions, aastypes.MetricDimension{Name: aws.String(k), Value: aws.String(v)})
			}
			cfg.CustomizedMetricSpecification = spec
		} else {
			cfg.PredefinedMetricSpecification = &aastypes.PredefinedMetricSpecification{
				PredefinedMetricType: aastypes.MetricType(tt.PredefinedMetricType),
			}
			if tt.ResourceLabel != "" {
				cfg.PredefinedMetricSpecification.ResourceLabel = aws.String(tt.ResourceLabel)
			}
		}
		if tt.ScaleInCooldown != nil {
			cfg.ScaleInCooldown = aws.Int32(int32(*tt.ScaleInCooldown))
		}
		if tt.ScaleOutCooldown != nil {
			cfg.ScaleOutCooldown = aws.Int32(int32(*tt.ScaleOutCooldown))
		}
		s.Policies = append(s.Policies, aastypes.ScalingPolicy{
			PolicyName: aws.String(tt.Name), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: cfg,
		})
	}
	for _, sa := range a.ScheduledActions {
		act := aastypes.ScheduledAction{
			ScheduledActionName: aws.String(sa.Name), Schedule: aws.String(sa.Schedule),
			ScalableTargetAction: &aastypes.ScalableTargetAction{},
		}
		if sa.Timezone != "" {
			act.Timezone = aws.String(sa.Timezone)
		}
		if sa.Min != nil {
			act.ScalableTargetAction.MinCapacity = aws.Int32(int32(*sa.Min))
		}
		if sa.Max != nil {
			act.ScalableTargetAction.MaxCapacity = aws.Int32(int32(*sa.Max))
		}
		act.StartTime, act.EndTime = rfc3339(sa.StartTime), rfc3339(sa.EndTime)
		s.Scheduled = append(s.Scheduled, act)
	}
	return s
}

// rfc3339 parses a time the provider validated; nil for "".
func rfc3339(v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil
	}
	return &t
}

// describeScaling reads a service's scalable target, policies and scheduled actions; nil when
// there is no scalable target.
func (e *Engine) describeScaling(ctx context.Context, cluster, service string) (*scalingSettings, error) {
	found, err := e.findScalableTargets(ctx, cluster, service)
	if err != nil {
		return nil, err
	}
	tg, ok := found[service]
	if !ok {
		return nil, nil
	}
	s := &scalingSettings{Min: int(aws.ToInt32(tg.MinCapacity)), Max: int(aws.ToInt32(tg.MaxCapacity)), Suspended: tg.SuspendedState}
	if s.Policies, s.Scheduled, err = e.describeScalingItems(ctx, cluster, service); err != nil {
		return nil, err
	}
	return s, nil
}

// describeScalingItems reads a service's scaling policies and scheduled actions.
func (e *Engine) describeScalingItems(ctx context.Context, cluster, service string) ([]aastypes.ScalingPolicy, []aastypes.ScheduledAction, error) {
	id := resourceID(cluster, service)
	var policies []aastypes.ScalingPolicy
	p := applicationautoscaling.NewDescribeScalingPoliciesPaginator(e.AutoScaling, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("describing the scaling policies of %s: %w", service, err)
		}
		policies = append(policies, page.ScalingPolicies...)
	}
	var scheduled []aastypes.ScheduledAction
	sp := applicationautoscaling.NewDescribeScheduledActionsPaginator(e.AutoScaling, &applicationautoscaling.DescribeScheduledActionsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("describing the scheduled actions of %s: %w", service, err)
		}
		scheduled = append(scheduled, page.ScheduledActions...)
	}
	return policies, scheduled, nil
}

// scalingView names the policies and scheduled actions of settings; empty for none.
func scalingView(s *scalingSettings) *ScalingView {
	v := &ScalingView{}
	if s == nil {
		return v
	}
	v.add(s.Policies, s.Scheduled)
	return v
}

func (v *ScalingView) add(policies []aastypes.ScalingPolicy, scheduled []aastypes.ScheduledAction) {
	for _, p := range policies {
		v.Policies = append(v.Policies, ScalingPolicyRef{Name: aws.ToString(p.PolicyName), Type: string(p.PolicyType)})
	}
	for _, a := range scheduled {
		v.ScheduledActions = append(v.ScheduledActions, aws.ToString(a.ScheduledActionName))
	}
}

// putScaling registers settings on a service: the scalable target, then each policy and each
// scheduled action.
func (e *Engine) putScaling(ctx context.Context, cluster, service string, s *scalingSettings) error {
	if s == nil {
		return nil
	}
	id := resourceID(cluster, service)
	if _, err := e.AutoScaling.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity:       aws.Int32(int32(s.Min)), MaxCapacity: aws.Int32(int32(s.Max)),
		SuspendedState: s.Suspended,
	}); err != nil {
		return fmt.Errorf("registering the scalable target of %s (%d–%d): %w", service, s.Min, s.Max, err)
	}
	for _, p := range s.Policies {
		if _, err := e.AutoScaling.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			PolicyName:        p.PolicyName, PolicyType: p.PolicyType,
			TargetTrackingScalingPolicyConfiguration: p.TargetTrackingScalingPolicyConfiguration,
			StepScalingPolicyConfiguration:           p.StepScalingPolicyConfiguration,
			PredictiveScalingPolicyConfiguration:     p.PredictiveScalingPolicyConfiguration,
		}); err != nil {
			return fmt.Errorf("putting scaling policy %s on %s: %w", aws.ToString(p.PolicyName), service, err)
		}
	}
	for _, a := range s.Scheduled {
		if err := e.putScheduledAction(ctx, id, a); err != nil {
			return fmt.Errorf("putting scheduled action %s on %s: %w", aws.ToString(a.ScheduledActionName), service, err)
		}
	}
	return nil
}

func (e *Engine) putScheduledAction(ctx context.Context, id string, a aastypes.ScheduledAction) error {
	_, err := e.AutoScaling.PutScheduledAction(ctx, &applicationautoscaling.PutScheduledActionInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension:   aastypes.ScalableDimensionECSServiceDesiredCount,
		ScheduledActionName: a.ScheduledActionName, Schedule: a.Schedule, Timezone: a.Timezone,
		StartTime: a.StartTime, EndTime: a.EndTime, ScalableTargetAction: a.ScalableTargetAction,
	})
	return err
}

// removeScaling deregisters the scalable targets of services that have one, which deletes
// their policies and scheduled actions with them. It describes them first, in one
// DescribeScalableTargets call per fifty services, and deregisters only what exists: that saves
// writes, and does not depend on which error an endpoint returns for a missing target (some
// return ValidationException rather than ObjectNotFoundException).
func (e *Engine) removeScaling(ctx context.Context, cluster string, services ...string) error {
	found, err := e.findScalableTargets(ctx, cluster, services...)
	if err != nil {
		return err
	}
	for _, s := range services {
		t, ok := found[s]
		if !ok {
			continue
		}
		if _, err := e.AutoScaling.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: t.ResourceId,
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		}); err != nil && !isObjectNotFound(err) {
			return fmt.Errorf("deregistering the scalable target %s: %w", aws.ToString(t.ResourceId), err)
		}
	}
	return nil
}

// deregisterScaling deregisters the scalable target of a service known to have one (a target
// gone meanwhile counts as deregistered), which deletes its policies and scheduled actions.
func (e *Engine) deregisterScaling(ctx context.Context, cluster, service string) error {
	if _, err := e.AutoScaling.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resourceID(cluster, service)),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	}); err != nil && !isObjectNotFound(err) {
		return fmt.Errorf("deregistering the scalable target of %s: %w", service, err)
	}
	return nil
}

func isObjectNotFound(err error) bool {
	var nf *aastypes.ObjectNotFoundException
	return errors.As(err, &nf)
}

// SuspendedTag is the ECS service tag a rollout sets on production while it holds the
// service's auto scaling suspended. Its value is the suspension the scalable target had before
// (suspensionValue), so that a run killed mid-rollout leaves what to restore, and the next run
// lifts the suspension it left (DESIGN.md §8.2).
const SuspendedTag = "phased-deployment:scaling-suspended"

// suspendAll suspends dynamic scale-in, dynamic scale-out and scheduled scaling.
func suspendAll() *aastypes.SuspendedState {
	return &aastypes.SuspendedState{
		DynamicScalingInSuspended: aws.Bool(true), DynamicScalingOutSuspended: aws.Bool(true),
		ScheduledScalingSuspended: aws.Bool(true),
	}
}

// resumed is a suspension state with every member given: nil members are false.
func resumed(s *aastypes.SuspendedState) *aastypes.SuspendedState {
	if s == nil {
		s = &aastypes.SuspendedState{}
	}
	return &aastypes.SuspendedState{
		DynamicScalingInSuspended:  aws.Bool(aws.ToBool(s.DynamicScalingInSuspended)),
		DynamicScalingOutSuspended: aws.Bool(aws.ToBool(s.DynamicScalingOutSuspended)),
		ScheduledScalingSuspended:  aws.Bool(aws.ToBool(s.ScheduledScalingSuspended)),
	}
}

func fullySuspended(s *aastypes.SuspendedState) bool {
	return s != nil && aws.ToBool(s.DynamicScalingInSuspended) && aws.ToBool(s.DynamicScalingOutSuspended) && aws.ToBool(s.ScheduledScalingSuspended)
}

// suspensionValue writes a suspension state as the SuspendedTag value, e.g.
// "in=false,out=false,scheduled=true".
func suspensionValue(s *aastypes.SuspendedState) string {
	s = resumed(s)
	return fmt.Sprintf("in=%t,out=%t,scheduled=%t", *s.DynamicScalingInSuspended, *s.DynamicScalingOutSuspended, *s.ScheduledScalingSuspended)
}

// parseSuspension reads a SuspendedTag value.
func parseSuspension(v string) (*aastypes.SuspendedState, bool) {
	s := &aastypes.SuspendedState{}
	fields := map[string]**bool{"in": &s.DynamicScalingInSuspended, "out": &s.DynamicScalingOutSuspended, "scheduled": &s.ScheduledScalingSuspended}
	parts := strings.Split(v, ",")
	if len(parts) != len(fields) {
		return nil, false
	}
	for _, part := range parts {
		k, val, _ := strings.Cut(part, "=")
		f, ok := fields[k]
		if !ok || *f != nil {
			return nil, false
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return nil, false
		}
		*f = aws.Bool(b)
	}
	return s, true
}

// suspendScaling holds production's auto scaling still for a rollout (DESIGN.md §8.2): its
// scalable target stays registered with its policies and scheduled actions, and dynamic and
// scheduled scaling are suspended. The suspension it had before is first recorded in the
// SuspendedTag on the service; a tag a killed run left says what that was, since the target is
// suspended by that run now. It returns the captured settings, with Suspended the state to
// restore, or nil when production has no scalable target.
func (r *run) suspendScaling(ctx context.Context, svc *liveService, s *scalingSettings) (*scalingSettings, error) {
	if s == nil {
		return nil, nil
	}
	prior := s.Suspended
	if v, ok := tagValue(svc.svc.Tags, SuspendedTag); ok {
		if p, ok := parseSuspension(v); ok {
			prior = p
		}
	} else {
		if _, err := r.e.ECS.TagResource(ctx, &ecs.TagResourceInput{
			ResourceArn: aws.String(svc.ARN), Tags: []types.Tag{{Key: aws.String(SuspendedTag), Value: aws.String(suspensionValue(prior))}},
		}); err != nil {
			return nil, fmt.Errorf("recording the auto scaling suspension of %s in tag %s: %w", svc.Name, SuspendedTag, err)
		}
	}
	r.tagged[svc.Name] = true
	if !fullySuspended(s.Suspended) {
		if _, err := r.e.AutoScaling.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resourceID(r.cluster, svc.Name)),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, SuspendedState: suspendAll(),
		}); err != nil {
			// Nothing is suspended: the tag is taken off again, so production is as it was.
			r.untagSuspension(context.WithoutCancel(ctx), svc.Name, svc.ARN)
			return nil, fmt.Errorf("suspending the auto scaling of %s: %w", svc.Name, err)
		}
	}
	captured := *s
	captured.Suspended = resumed(prior)
	r.step(ctx, fmt.Sprintf("suspended auto scaling (%d–%d) of %s for the rollout; its %d policies and %d scheduled actions stay",
		s.Min, s.Max, svc.Name, len(s.Policies), len(s.Scheduled)), map[string]any{"service": svc.Name})
	return &captured, nil
}

// liftSuspension gives a service's scalable target back the suspension it had before the
// rollout, then removes the SuspendedTag. Only the suspended state is sent: the range was never
// changed, and an update that names a range makes Application Auto Scaling move the count into
// it, which would undo a count a person set outside it, that the rollout kept and a rollback
// restored. A target that is gone (the update is refused: a new target needs its range) is
// registered again with the captured range.
func (r *run) liftSuspension(ctx context.Context, name, arn string, captured *scalingSettings) error {
	if captured != nil {
		in := &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(resourceID(r.cluster, name)),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			SuspendedState:    resumed(captured.Suspended),
		}
		_, err := r.e.AutoScaling.RegisterScalableTarget(ctx, in)
		var ve *aastypes.ValidationException
		if errors.As(err, &ve) {
			in.MinCapacity, in.MaxCapacity = aws.Int32(int32(captured.Min)), aws.Int32(int32(captured.Max))
			_, err = r.e.AutoScaling.RegisterScalableTarget(ctx, in)
		}
		if err != nil {
			return fmt.Errorf("resuming the auto scaling of %s: %w", name, err)
		}
	}
	r.untagSuspension(ctx, name, arn)
	return nil
}

// untagSuspension removes the SuspendedTag from a service that carries it. A failure is a
// warning: a tag left behind holds the suspension state the service's target has again, which
// is what the next rollout would restore anyway.
func (r *run) untagSuspension(ctx context.Context, name, arn string) {
	if !r.tagged[name] {
		return
	}
	if _, err := r.e.ECS.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{SuspendedTag}}); err != nil {
		r.warn(ctx, fmt.Sprintf("could not remove tag %s from %s; the next rollout reads it as the auto scaling suspension to restore, which it still is: %v", SuspendedTag, name, err))
		return
	}
	delete(r.tagged, name)
}
