package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// phasedDeploymentModel is the ecs_phased_deployment resource as Terraform sends it.
type phasedDeploymentModel struct {
	ID                  types.String   `tfsdk:"id"`
	Cluster             types.String   `tfsdk:"cluster"`
	Name                types.String   `tfsdk:"name"`
	TaskDefinition      types.String   `tfsdk:"task_definition"`
	DesiredCount        types.Int64    `tfsdk:"desired_count"`
	Service             types.Object   `tfsdk:"service"`
	Phases              types.List     `tfsdk:"phase"`
	Rollback            types.Object   `tfsdk:"rollback"`
	AutoScaling         types.Object   `tfsdk:"auto_scaling"`
	RetainOldServices   types.Int64    `tfsdk:"retain_old_services"`
	SteadyStateTimeout  types.String   `tfsdk:"steady_state_timeout"`
	FailedTaskThreshold types.Int64    `tfsdk:"failed_task_threshold"`
	Analysis            types.Object   `tfsdk:"analysis"`
	Adopt               types.Object   `tfsdk:"adopt"`
	DeploymentID        types.String   `tfsdk:"deployment_id"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`

	Revision        types.Int64  `tfsdk:"revision"`
	ServiceName     types.String `tfsdk:"service_name"`
	ServiceARN      types.String `tfsdk:"service_arn"`
	Current         types.Object `tfsdk:"current"`
	Previous        types.Object `tfsdk:"previous"`
	PlannedPhases   types.List   `tfsdk:"planned_phases"`
	PlannedAction   types.String `tfsdk:"planned_action"`
	PlannedGates    types.List   `tfsdk:"planned_gates"`
	HighestRevision types.Int64  `tfsdk:"highest_revision"`
	LastRollout     types.Object `tfsdk:"last_rollout"`
}

// adoptModel is the adopt block: the running service the first deployment takes over.
type adoptModel struct {
	ServiceName types.String `tfsdk:"service_name"`
}

// serviceModel is the service block: the template of every revision's service.
type serviceModel struct {
	LaunchType                    types.String `tfsdk:"launch_type"`
	PlatformVersion               types.String `tfsdk:"platform_version"`
	CapacityProviderStrategy      types.List   `tfsdk:"capacity_provider_strategy"`
	NetworkConfiguration          types.Object `tfsdk:"network_configuration"`
	LoadBalancers                 types.List   `tfsdk:"load_balancer"`
	ServiceRegistries             types.List   `tfsdk:"service_registries"`
	HealthCheckGracePeriodSeconds types.Int64  `tfsdk:"health_check_grace_period_seconds"`
	EnableExecuteCommand          types.Bool   `tfsdk:"enable_execute_command"`
	PropagateTags                 types.String `tfsdk:"propagate_tags"`
	AvailabilityZoneRebalancing   types.String `tfsdk:"availability_zone_rebalancing"`
	Tags                          types.Map    `tfsdk:"tags"`
}

type capacityProviderModel struct {
	CapacityProvider types.String `tfsdk:"capacity_provider"`
	Weight           types.Int64  `tfsdk:"weight"`
	Base             types.Int64  `tfsdk:"base"`
}

type networkModel struct {
	Subnets        types.List `tfsdk:"subnets"`
	SecurityGroups types.List `tfsdk:"security_groups"`
	AssignPublicIP types.Bool `tfsdk:"assign_public_ip"`
}

type loadBalancerModel struct {
	TargetGroupARN types.String `tfsdk:"target_group_arn"`
	ContainerName  types.String `tfsdk:"container_name"`
	ContainerPort  types.Int64  `tfsdk:"container_port"`
}

type serviceRegistryModel struct {
	RegistryARN types.String `tfsdk:"registry_arn"`
}

// phaseModel is one phase block.
type phaseModel struct {
	Percent  types.Int64  `tfsdk:"percent"`
	Count    types.Int64  `tfsdk:"count"`
	BakeTime types.String `tfsdk:"bake_time"`
}

// rollbackModel is the rollback block.
type rollbackModel struct {
	AllPhasesAtOnce types.Bool `tfsdk:"all_phases_at_once"`
}

// autoScalingModel is the auto_scaling block.
type autoScalingModel struct {
	MinCapacity      types.Int64 `tfsdk:"min_capacity"`
	MaxCapacity      types.Int64 `tfsdk:"max_capacity"`
	DiscardUnmanaged types.Bool  `tfsdk:"discard_unmanaged"`
	TargetTracking   types.List  `tfsdk:"target_tracking"`
	ScheduledActions types.List  `tfsdk:"scheduled_action"`
}

type targetTrackingModel struct {
	Name                 types.String  `tfsdk:"name"`
	PredefinedMetricType types.String  `tfsdk:"predefined_metric_type"`
	ResourceLabel        types.String  `tfsdk:"resource_label"`
	CustomizedMetric     types.Object  `tfsdk:"customized_metric"`
	TargetValue          types.Float64 `tfsdk:"target_value"`
	ScaleInCooldown      types.Int64   `tfsdk:"scale_in_cooldown"`
	ScaleOutCooldown     types.Int64   `tfsdk:"scale_out_cooldown"`
	DisableScaleIn       types.Bool    `tfsdk:"disable_scale_in"`
}

// customizedMetricModel is a target_tracking's customized_metric block.
type customizedMetricModel struct {
	Namespace  types.String `tfsdk:"namespace"`
	MetricName types.String `tfsdk:"metric_name"`
	Statistic  types.String `tfsdk:"statistic"`
	Unit       types.String `tfsdk:"unit"`
	Dimensions types.Map    `tfsdk:"dimensions"`
}

// scheduledActionModel is one scheduled_action block.
type scheduledActionModel struct {
	Name        types.String `tfsdk:"name"`
	Schedule    types.String `tfsdk:"schedule"`
	Timezone    types.String `tfsdk:"timezone"`
	MinCapacity types.Int64  `tfsdk:"min_capacity"`
	MaxCapacity types.Int64  `tfsdk:"max_capacity"`
	StartTime   types.String `tfsdk:"start_time"`
	EndTime     types.String `tfsdk:"end_time"`
}

// analysisModel is the analysis block: the verification gates of every rollout.
type analysisModel struct {
	AlarmNames  types.List   `tfsdk:"alarm_names"`
	Interval    types.String `tfsdk:"interval"`
	FinalWindow types.String `tfsdk:"final_window"`
	Metrics     types.List   `tfsdk:"metric"`
}

// metricCheckModel is one analysis metric block: a single metric (namespace, metric_name,
// dimensions, statistic) or a metric math expression over query blocks.
type metricCheckModel struct {
	Name          types.String  `tfsdk:"name"`
	Namespace     types.String  `tfsdk:"namespace"`
	MetricName    types.String  `tfsdk:"metric_name"`
	Dimensions    types.Map     `tfsdk:"dimensions"`
	Statistic     types.String  `tfsdk:"statistic"`
	Expression    types.String  `tfsdk:"expression"`
	Queries       types.List    `tfsdk:"query"`
	Period        types.Int64   `tfsdk:"period"`
	Threshold     types.Float64 `tfsdk:"threshold"`
	Comparison    types.String  `tfsdk:"comparison"`
	BaselineRatio types.Float64 `tfsdk:"baseline_ratio"`
	FailureLimit  types.Int64   `tfsdk:"failure_limit"`
	NoData        types.String  `tfsdk:"no_data"`
}

// metricQueryModel is one query block of an expression.
type metricQueryModel struct {
	ID         types.String `tfsdk:"id"`
	Namespace  types.String `tfsdk:"namespace"`
	MetricName types.String `tfsdk:"metric_name"`
	Dimensions types.Map    `tfsdk:"dimensions"`
	Statistic  types.String `tfsdk:"statistic"`
}

// serviceRefModel is the current and previous objects.
type serviceRefModel struct {
	ServiceName    types.String `tfsdk:"service_name"`
	ServiceARN     types.String `tfsdk:"service_arn"`
	Revision       types.Int64  `tfsdk:"revision"`
	TaskDefinition types.String `tfsdk:"task_definition"`
	DesiredCount   types.Int64  `tfsdk:"desired_count"`
}

// phaseCountsModel is one element of planned_phases.
type phaseCountsModel struct {
	NewCount types.Int64 `tfsdk:"new_count"`
	OldCount types.Int64 `tfsdk:"old_count"`
}

var serviceRefAttrTypes = map[string]attr.Type{
	"service_name":    types.StringType,
	"service_arn":     types.StringType,
	"revision":        types.Int64Type,
	"task_definition": types.StringType,
	"desired_count":   types.Int64Type,
}

var phaseCountsAttrTypes = map[string]attr.Type{
	"new_count": types.Int64Type,
	"old_count": types.Int64Type,
}

var lastRolloutAttrTypes = map[string]attr.Type{
	"revision":    types.Int64Type,
	"status":      types.StringType,
	"reason":      types.StringType,
	"started_at":  types.StringType,
	"finished_at": types.StringType,
}
