package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// scalingSettings are a scalable target and its policies, as captured from a service or built
// from configuration, ready to be put on a service.
type scalingSettings struct {
	Min, Max  int
	Suspended *aastypes.SuspendedState
	Policies  []aastypes.ScalingPolicy
}

func resourceID(cluster, service string) string { return "service/" + cluster + "/" + service }

// settingsFromConfig turns the configured auto scaling into settings.
func settingsFromConfig(a *AutoScaling) *scalingSettings {
	if a == nil {
		return nil
	}
	s := &scalingSettings{Min: a.Min, Max: a.Max}
	for _, tt := range a.TargetTracking {
		cfg := &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(tt.TargetValue),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{
				PredefinedMetricType: aastypes.MetricType(tt.PredefinedMetricType),
			},
			DisableScaleIn: aws.Bool(tt.DisableScaleIn),
		}
		if tt.ResourceLabel != "" {
			cfg.PredefinedMetricSpecification.ResourceLabel = aws.String(tt.ResourceLabel)
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
	return s
}

// takeScaling captures a service's scalable target and policies, then deregisters the target
// so that auto scaling cannot fight a rollout. It returns nil when the service has none.
func (e *Engine) takeScaling(ctx context.Context, cluster, service string) (*scalingSettings, error) {
	s, err := e.describeScaling(ctx, cluster, service)
	if err != nil || s == nil {
		return s, err
	}
	id := resourceID(cluster, service)
	if _, err := e.AutoScaling.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	}); err != nil && !isObjectNotFound(err) {
		return nil, fmt.Errorf("deregistering the scalable target of %s: %w", service, err)
	}
	return s, nil
}

// describeScaling reads a service's scalable target and policies; nil when there is none.
func (e *Engine) describeScaling(ctx context.Context, cluster, service string) (*scalingSettings, error) {
	id := resourceID(cluster, service)
	out, err := e.AutoScaling.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{id},
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	if err != nil {
		return nil, fmt.Errorf("describing the scalable target of %s: %w", service, err)
	}
	if len(out.ScalableTargets) == 0 {
		return nil, nil
	}
	tg := out.ScalableTargets[0]
	s := &scalingSettings{Min: int(aws.ToInt32(tg.MinCapacity)), Max: int(aws.ToInt32(tg.MaxCapacity)), Suspended: tg.SuspendedState}
	p := applicationautoscaling.NewDescribeScalingPoliciesPaginator(e.AutoScaling, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing the scaling policies of %s: %w", service, err)
		}
		s.Policies = append(s.Policies, page.ScalingPolicies...)
	}
	return s, nil
}

// putScaling registers settings on a service: the scalable target, then each policy.
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
		}); err != nil {
			return fmt.Errorf("putting scaling policy %s on %s: %w", aws.ToString(p.PolicyName), service, err)
		}
	}
	return nil
}

// removeScaling deregisters the scalable targets of services that have one. It describes them
// first, in one DescribeScalableTargets call per fifty services, and deregisters only what
// exists: that saves writes, and does not depend on which error an endpoint returns for a
// missing target (some return ValidationException rather than ObjectNotFoundException).
func (e *Engine) removeScaling(ctx context.Context, cluster string, services ...string) error {
	ids := make([]string, 0, len(services))
	for _, s := range services {
		ids = append(ids, resourceID(cluster, s))
	}
	for batch := range slices.Chunk(ids, 50) {
		out, err := e.AutoScaling.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: batch,
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		})
		if err != nil {
			return fmt.Errorf("describing the scalable targets of %s: %w", strings.Join(batch, ", "), err)
		}
		for _, t := range out.ScalableTargets {
			if _, err := e.AutoScaling.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
				ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: t.ResourceId,
				ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			}); err != nil && !isObjectNotFound(err) {
				return fmt.Errorf("deregistering the scalable target %s: %w", aws.ToString(t.ResourceId), err)
			}
		}
	}
	return nil
}

func isObjectNotFound(err error) bool {
	var nf *aastypes.ObjectNotFoundException
	return errors.As(err, &nf)
}
