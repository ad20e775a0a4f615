package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// defaultSteadyStateTimeout is the engine's default as the schema writes it: "10m".
var defaultSteadyStateTimeout = durationText(deploy.DefaultSteadyStateTimeout)

// defaultDeploymentID is "<cluster name>/<name>".
func defaultDeploymentID(cluster, name string) string {
	return deploy.LastSegment(cluster) + "/" + name
}

func intPtr(v types.Int64) *int {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int(v.ValueInt64())
	return &n
}

func listOf[T any](ctx context.Context, l types.List, diags *diag.Diagnostics) []T {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []T
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

func objectOf[T any](ctx context.Context, o types.Object, diags *diag.Diagnostics) *T {
	if o.IsNull() || o.IsUnknown() {
		return nil
	}
	var out T
	diags.Append(o.As(ctx, &out, basetypes.ObjectAsOptions{})...)
	return &out
}

func stringsOf(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	return listOf[string](ctx, l, diags)
}

// template converts the service block into the engine's service template.
func template(ctx context.Context, o types.Object, diags *diag.Diagnostics) deploy.ServiceTemplate {
	var t deploy.ServiceTemplate
	m := objectOf[serviceModel](ctx, o, diags)
	if m == nil {
		return t
	}
	t.LaunchType = m.LaunchType.ValueString()
	t.PlatformVersion = m.PlatformVersion.ValueString()
	t.HealthCheckGracePeriodSeconds = intPtr(m.HealthCheckGracePeriodSeconds)
	t.EnableExecuteCommand = m.EnableExecuteCommand.ValueBool()
	t.PropagateTags = m.PropagateTags.ValueString()
	t.AvailabilityZoneRebalancing = m.AvailabilityZoneRebalancing.ValueString()
	for _, cp := range listOf[capacityProviderModel](ctx, m.CapacityProviderStrategy, diags) {
		t.CapacityProviderStrategy = append(t.CapacityProviderStrategy, deploy.CapacityProvider{
			CapacityProvider: cp.CapacityProvider.ValueString(), Weight: int(cp.Weight.ValueInt64()), Base: int(cp.Base.ValueInt64()),
		})
	}
	if n := objectOf[networkModel](ctx, m.NetworkConfiguration, diags); n != nil {
		t.Network = &deploy.NetworkConfig{
			Subnets: stringsOf(ctx, n.Subnets, diags), SecurityGroups: stringsOf(ctx, n.SecurityGroups, diags),
			AssignPublicIP: n.AssignPublicIP.ValueBool(),
		}
	}
	for _, lb := range listOf[loadBalancerModel](ctx, m.LoadBalancers, diags) {
		t.LoadBalancers = append(t.LoadBalancers, deploy.LoadBalancer{
			TargetGroupARN: lb.TargetGroupARN.ValueString(), ContainerName: lb.ContainerName.ValueString(),
			ContainerPort: int(lb.ContainerPort.ValueInt64()),
		})
	}
	for _, sr := range listOf[serviceRegistryModel](ctx, m.ServiceRegistries, diags) {
		t.ServiceRegistries = append(t.ServiceRegistries, sr.RegistryARN.ValueString())
	}
	t.Tags = stringMap(ctx, m.Tags, diags)
	return t
}

// phases converts the phase blocks.
func phases(ctx context.Context, l types.List, diags *diag.Diagnostics) []deploy.Phase {
	var out []deploy.Phase
	for i, p := range listOf[phaseModel](ctx, l, diags) {
		ph := deploy.Phase{Percent: int(p.Percent.ValueInt64()), Count: int(p.Count.ValueInt64())}
		ph.BakeTime = parseDuration(path.Root("phase").AtListIndex(i).AtName("bake_time"), p.BakeTime, 0, diags)
		out = append(out, ph)
	}
	return out
}

// parseDuration reads a duration argument; null or unknown gives def. The schema validates the
// form, so an error here is reported, not expected.
func parseDuration(p path.Path, v types.String, def time.Duration, diags *diag.Diagnostics) time.Duration {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return def
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		diags.AddAttributeError(p, "Invalid Duration", fmt.Sprintf("%s: %q is not a duration such as \"90s\" or \"10m\": %v.", p, v.ValueString(), err))
		return def
	}
	return d
}

// autoScaling converts the auto_scaling block; nil when it is absent.
func autoScaling(ctx context.Context, o types.Object, diags *diag.Diagnostics) *deploy.AutoScaling {
	m := objectOf[autoScalingModel](ctx, o, diags)
	if m == nil {
		return nil
	}
	a := &deploy.AutoScaling{Min: int(m.MinCapacity.ValueInt64()), Max: int(m.MaxCapacity.ValueInt64())}
	for _, tt := range listOf[targetTrackingModel](ctx, m.TargetTracking, diags) {
		a.TargetTracking = append(a.TargetTracking, deploy.TargetTracking{
			Name: tt.Name.ValueString(), PredefinedMetricType: tt.PredefinedMetricType.ValueString(),
			ResourceLabel: tt.ResourceLabel.ValueString(), CustomizedMetric: customizedMetric(ctx, tt.CustomizedMetric, diags),
			TargetValue:     tt.TargetValue.ValueFloat64(),
			ScaleInCooldown: intPtr(tt.ScaleInCooldown), ScaleOutCooldown: intPtr(tt.ScaleOutCooldown),
			DisableScaleIn: tt.DisableScaleIn.ValueBool(),
		})
	}
	for _, sa := range listOf[scheduledActionModel](ctx, m.ScheduledActions, diags) {
		a.ScheduledActions = append(a.ScheduledActions, deploy.ScheduledAction{
			Name: sa.Name.ValueString(), Schedule: sa.Schedule.ValueString(), Timezone: sa.Timezone.ValueString(),
			Min: intPtr(sa.MinCapacity), Max: intPtr(sa.MaxCapacity),
			StartTime: sa.StartTime.ValueString(), EndTime: sa.EndTime.ValueString(),
		})
	}
	return a
}

// customizedMetric converts a customized_metric block; nil when it is absent.
func customizedMetric(ctx context.Context, o types.Object, diags *diag.Diagnostics) *deploy.CustomizedMetric {
	m := objectOf[customizedMetricModel](ctx, o, diags)
	if m == nil {
		return nil
	}
	return &deploy.CustomizedMetric{
		Namespace: m.Namespace.ValueString(), MetricName: m.MetricName.ValueString(),
		Statistic: m.Statistic.ValueString(), Unit: m.Unit.ValueString(), Dimensions: stringMap(ctx, m.Dimensions, diags),
	}
}

// analysis converts the analysis block; nil when it is absent. Defaults the schema sets
// (interval, period, comparison, no_data) arrive as values; statistic, left null in the plan so
// that it does not show on an expression's metric block, defaults in the engine to Average.
func analysis(ctx context.Context, o types.Object, diags *diag.Diagnostics) *deploy.Analysis {
	m := objectOf[analysisModel](ctx, o, diags)
	if m == nil {
		return nil
	}
	p := path.Root("analysis")
	a := &deploy.Analysis{
		AlarmNames:  stringsOf(ctx, m.AlarmNames, diags),
		Interval:    parseDuration(p.AtName("interval"), m.Interval, deploy.DefaultAnalysisInterval, diags),
		FinalWindow: parseDuration(p.AtName("final_window"), m.FinalWindow, 0, diags),
	}
	for _, mc := range listOf[metricCheckModel](ctx, m.Metrics, diags) {
		c := deploy.MetricCheck{
			Name: mc.Name.ValueString(), Expression: mc.Expression.ValueString(),
			Period:    time.Duration(mc.Period.ValueInt64()) * time.Second,
			Threshold: float64Ptr(mc.Threshold), Comparison: mc.Comparison.ValueString(),
			BaselineRatio: float64Ptr(mc.BaselineRatio), FailureLimit: int(mc.FailureLimit.ValueInt64()),
			NoData: mc.NoData.ValueString(),
		}
		if c.Expression == "" {
			c.Metric = &deploy.MetricStat{
				Namespace: mc.Namespace.ValueString(), MetricName: mc.MetricName.ValueString(),
				Dimensions: stringMap(ctx, mc.Dimensions, diags), Statistic: mc.Statistic.ValueString(),
			}
		}
		for _, q := range listOf[metricQueryModel](ctx, mc.Queries, diags) {
			c.Queries = append(c.Queries, deploy.MetricQuery{ID: q.ID.ValueString(), MetricStat: deploy.MetricStat{
				Namespace: q.Namespace.ValueString(), MetricName: q.MetricName.ValueString(),
				Dimensions: stringMap(ctx, q.Dimensions, diags), Statistic: q.Statistic.ValueString(),
			}})
		}
		a.Metrics = append(a.Metrics, c)
	}
	return a
}

// stringMap reads a map of strings; nil when it is null or unknown.
func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

func float64Ptr(v types.Float64) *float64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	f := v.ValueFloat64()
	return &f
}

// plannedGates is planned_gates: the gates of the analysis block in words, one per element, the
// same at plan and after apply because they depend on the configuration alone. It is unknown
// while part of the block is; an empty list without the block.
func plannedGates(ctx context.Context, o types.Object) types.List {
	if !isFullyKnown(o) {
		return types.ListUnknown(types.StringType)
	}
	var diags diag.Diagnostics // the block's own validators report what does not convert
	a := analysis(ctx, o, &diags)
	if diags.HasError() {
		return types.ListUnknown(types.StringType)
	}
	vals := []attr.Value{}
	for _, g := range deploy.DescribeGates(a) {
		vals = append(vals, types.StringValue(g))
	}
	return types.ListValueMust(types.StringType, vals)
}

// discardUnmanaged reads auto_scaling.discard_unmanaged; false without the block.
func discardUnmanaged(ctx context.Context, o types.Object, diags *diag.Diagnostics) bool {
	m := objectOf[autoScalingModel](ctx, o, diags)
	return m != nil && m.DiscardUnmanaged.ValueBool()
}

// engineConfig converts a plan (or state) into the engine's configuration.
func engineConfig(ctx context.Context, m *phasedDeploymentModel, diags *diag.Diagnostics) deploy.Config {
	cfg := deploy.Config{
		Cluster: m.Cluster.ValueString(), Name: m.Name.ValueString(), TaskDefinition: m.TaskDefinition.ValueString(),
		DeploymentID: m.DeploymentID.ValueString(), DesiredCount: intPtr(m.DesiredCount),
		Service: template(ctx, m.Service, diags), Phases: phases(ctx, m.Phases, diags),
		AutoScaling:             autoScaling(ctx, m.AutoScaling, diags),
		DiscardUnmanagedScaling: discardUnmanaged(ctx, m.AutoScaling, diags),
		Analysis:                analysis(ctx, m.Analysis, diags),
		RetainOldServices:       int(m.RetainOldServices.ValueInt64()),
	}
	if cfg.DeploymentID == "" {
		cfg.DeploymentID = defaultDeploymentID(cfg.Cluster, cfg.Name)
	}
	if a := objectOf[adoptModel](ctx, m.Adopt, diags); a != nil {
		cfg.Adopt = a.ServiceName.ValueString()
	}
	if rb := objectOf[rollbackModel](ctx, m.Rollback, diags); rb != nil {
		cfg.RollbackAllAtOnce = rb.AllPhasesAtOnce.ValueBool()
	}
	cfg.SteadyStateTimeout = parseDuration(path.Root("steady_state_timeout"), m.SteadyStateTimeout, deploy.DefaultSteadyStateTimeout, diags)
	if n := intPtr(m.FailedTaskThreshold); n != nil {
		cfg.FailedTaskThreshold = *n
	}
	return cfg
}

func refObject(r *deploy.ServiceRef) types.Object {
	if r == nil {
		return types.ObjectNull(serviceRefAttrTypes)
	}
	return types.ObjectValueMust(serviceRefAttrTypes, map[string]attr.Value{
		"service_name": types.StringValue(r.Name), "service_arn": types.StringValue(r.ARN),
		"revision": types.Int64Value(int64(r.Revision)), "task_definition": types.StringValue(r.TaskDefinition),
		"desired_count": types.Int64Value(int64(r.DesiredCount)),
	})
}

func refFromObject(ctx context.Context, o types.Object, diags *diag.Diagnostics) *deploy.ServiceRef {
	m := objectOf[serviceRefModel](ctx, o, diags)
	if m == nil {
		return nil
	}
	return &deploy.ServiceRef{
		Name: m.ServiceName.ValueString(), ARN: m.ServiceARN.ValueString(), Revision: int(m.Revision.ValueInt64()),
		TaskDefinition: m.TaskDefinition.ValueString(), DesiredCount: int(m.DesiredCount.ValueInt64()),
	}
}

func phasesList(pcs []deploy.PhaseCounts) types.List {
	elemType := types.ObjectType{AttrTypes: phaseCountsAttrTypes}
	vals := make([]attr.Value, 0, len(pcs))
	for _, pc := range pcs {
		vals = append(vals, types.ObjectValueMust(phaseCountsAttrTypes, map[string]attr.Value{
			"new_count": types.Int64Value(int64(pc.New)), "old_count": types.Int64Value(int64(pc.Old)),
		}))
	}
	return types.ListValueMust(elemType, vals)
}

func rolloutObject(r *deploy.Rollout) types.Object {
	if r == nil {
		return types.ObjectNull(lastRolloutAttrTypes)
	}
	return types.ObjectValueMust(lastRolloutAttrTypes, map[string]attr.Value{
		"revision": types.Int64Value(int64(r.Revision)), "status": types.StringValue(r.Status),
		"reason": types.StringValue(r.Reason), "started_at": types.StringValue(r.StartedAt.UTC().Format(time.RFC3339)),
		"finished_at": types.StringValue(r.FinishedAt.UTC().Format(time.RFC3339)),
	})
}

// engineState reads what the engine needs from Terraform state.
func engineState(ctx context.Context, m *phasedDeploymentModel, diags *diag.Diagnostics) deploy.State {
	return deploy.State{
		Current: refFromObject(ctx, m.Current, diags), Previous: refFromObject(ctx, m.Previous, diags),
		HighestRevision: int(m.HighestRevision.ValueInt64()), AutoScaling: autoScaling(ctx, m.AutoScaling, diags),
	}
}

// setResult writes an engine result into the computed attributes of m.
func setResult(m *phasedDeploymentModel, res *deploy.Result) {
	m.Current = refObject(res.Current)
	m.Previous = refObject(res.Previous)
	m.HighestRevision = types.Int64Value(int64(res.HighestRevision))
	if res.Current != nil {
		m.Revision = types.Int64Value(int64(res.Current.Revision))
		m.ServiceName = types.StringValue(res.Current.Name)
		m.ServiceARN = types.StringValue(res.Current.ARN)
	}
	if res.Rollout != nil {
		m.LastRollout = rolloutObject(res.Rollout)
	}
}
