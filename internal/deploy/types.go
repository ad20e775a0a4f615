// Package deploy is the phased deployment engine: a Harness-style canary rollout of an ECS
// service, revision by revision, with reverse-order rollback. It talks to ECS and Application
// Auto Scaling through narrow interfaces over the aws-sdk-go-v2 clients and imports nothing of
// Terraform; internal/provider maps Terraform's plan and state onto it.
package deploy

import (
	"time"
)

// Tag keys that mark a service as ours.
const (
	// OwnerTag holds the deployment ID. A service without it, or with another value, is never
	// updated, scaled or deleted.
	OwnerTag = "phased-deployment:id"
	// RevisionTag holds the revision number N of the service <name>__N.
	RevisionTag = "phased-deployment:revision"
)

// Config is what the user asked for: the resource's configuration.
type Config struct {
	Cluster        string // name or ARN
	Name           string // base name; revision N is <Name>__N
	DeploymentID   string // ownership tag value
	TaskDefinition string // family:revision or ARN
	// DesiredCount is the new revision's target; nil means the production service's live
	// desired count (what auto scaling decided).
	DesiredCount        *int
	Service             ServiceTemplate
	Phases              []Phase
	RollbackAllAtOnce   bool
	AutoScaling         *AutoScaling
	RetainOldServices   int
	SteadyStateTimeout  time.Duration
	FailedTaskThreshold int // 0: ECS's circuit breaker rule for the desired count
	// DiscardUnmanagedScaling lets a rollout drop the scaling policies and scheduled actions on
	// production that the configuration does not describe (DESIGN.md §8.3); without it the
	// rollout refuses to start.
	DiscardUnmanagedScaling bool
	// Analysis gates a rollout's phases on CloudWatch alarms and metrics; nil for none.
	Analysis *Analysis
	// Adopt names a running ECS service that the first deployment takes over as production
	// (DESIGN.md §16); "" for none. It matters only on create.
	Adopt string
}

// Analysis is the verification gates of a rollout (DESIGN.md §7.7): CloudWatch alarms that
// must not be in ALARM, and metric checks the new revision must pass, watched from each phase's
// scale-up through its bake, and for FinalWindow after the last phase.
type Analysis struct {
	AlarmNames  []string
	Interval    time.Duration // how often the gates are read; 0 is DefaultAnalysisInterval
	FinalWindow time.Duration
	Metrics     []MetricCheck
}

// DefaultAnalysisInterval is how often gates are read when Analysis.Interval is 0.
const DefaultAnalysisInterval = 10 * time.Second

// MetricCheck is one metric gate: a CloudWatch metric (Metric) or a metric math expression over
// Queries, read over its last Period; it fails an evaluation when its value crosses Threshold
// (by Comparison) and, with BaselineRatio, exceeds that ratio of the same query on the previous
// revision's service over the same window. In dimension values, "{{service}}" names the new
// revision's service and "{{previous_service}}" the previous one's.
type MetricCheck struct {
	Name          string
	Metric        *MetricStat // nil when Expression is set
	Expression    string
	Queries       []MetricQuery
	Period        time.Duration
	Threshold     *float64
	Comparison    string   // GreaterThanThreshold (default), GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold
	BaselineRatio *float64 // the new value may be at most this times the previous revision's
	FailureLimit  int      // failed evaluations tolerated; one more fails the phase
	NoData        string   // NoDataFail, NoDataPass or NoDataWait (default)
}

// MetricStat is a CloudWatch metric and the statistic read of it.
type MetricStat struct {
	Namespace  string
	MetricName string
	Dimensions map[string]string
	Statistic  string // Average, Sum, Minimum, Maximum, SampleCount or pNN
}

// MetricQuery is a named metric an expression refers to.
type MetricQuery struct {
	ID string
	MetricStat
}

// What "no data" means to a metric check.
const (
	NoDataFail = "fail" // a check without data fails the evaluation
	NoDataPass = "pass" // a check without data passes
	NoDataWait = "wait" // a phase does not complete until the check has passed with data
)

// Placeholders in a metric check's dimension values.
const (
	ServicePlaceholder         = "{{service}}"
	PreviousServicePlaceholder = "{{previous_service}}"
)

// ServiceTemplate is what every revision's service is created with.
type ServiceTemplate struct {
	LaunchType                    string             `json:"launch_type,omitempty"`
	PlatformVersion               string             `json:"platform_version,omitempty"`
	CapacityProviderStrategy      []CapacityProvider `json:"capacity_provider_strategy,omitempty"`
	Network                       *NetworkConfig     `json:"network_configuration,omitempty"`
	LoadBalancers                 []LoadBalancer     `json:"load_balancer,omitempty"`
	ServiceRegistries             []string           `json:"service_registries,omitempty"`
	HealthCheckGracePeriodSeconds *int               `json:"health_check_grace_period_seconds,omitempty"`
	EnableExecuteCommand          bool               `json:"enable_execute_command,omitempty"`
	PropagateTags                 string             `json:"propagate_tags,omitempty"`
	AvailabilityZoneRebalancing   string             `json:"availability_zone_rebalancing,omitempty"`
	Tags                          map[string]string  `json:"tags,omitempty"`
}

// CapacityProvider is one entry of a capacity provider strategy.
type CapacityProvider struct {
	CapacityProvider string `json:"capacity_provider"`
	Weight           int    `json:"weight"`
	Base             int    `json:"base"`
}

// NetworkConfig is an awsvpc network configuration.
type NetworkConfig struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"security_groups,omitempty"`
	AssignPublicIP bool     `json:"assign_public_ip"`
}

// LoadBalancer attaches the service's tasks to a target group.
type LoadBalancer struct {
	TargetGroupARN string `json:"target_group_arn"`
	ContainerName  string `json:"container_name"`
	ContainerPort  int    `json:"container_port"`
}

// AutoScaling is ECS Service Auto Scaling for the production service.
type AutoScaling struct {
	Min              int
	Max              int
	TargetTracking   []TargetTracking
	ScheduledActions []ScheduledAction
}

// TargetTracking is one target tracking scaling policy, on a predefined metric or on a
// customized one.
type TargetTracking struct {
	Name                 string
	PredefinedMetricType string // "" when CustomizedMetric is set
	ResourceLabel        string
	CustomizedMetric     *CustomizedMetric
	TargetValue          float64
	ScaleInCooldown      *int
	ScaleOutCooldown     *int
	DisableScaleIn       bool
}

// CustomizedMetric is a CloudWatch metric a target tracking policy tracks. A dimension named
// ServiceNameDimension is rewritten to each revision's service name.
type CustomizedMetric struct {
	Namespace  string
	MetricName string
	Statistic  string
	Unit       string
	Dimensions map[string]string
}

// ServiceNameDimension is the metric dimension that names an ECS service.
const ServiceNameDimension = "ServiceName"

// ScheduledAction is one Application Auto Scaling scheduled action: at its schedule, the
// scalable target's range becomes [Min, Max] (each when set).
type ScheduledAction struct {
	Name      string
	Schedule  string // at(...), rate(...) or cron(...)
	Timezone  string // IANA name; "" is UTC
	Min, Max  *int
	StartTime string // RFC 3339; "" for none
	EndTime   string // RFC 3339; "" for none
}

// ServiceRef identifies one revision's service and the count it is recorded at.
type ServiceRef struct {
	Name           string
	ARN            string
	Revision       int
	TaskDefinition string // as ECS reports it: an ARN
	DesiredCount   int
}

// State is what the engine needs to remember between runs (Terraform state).
type State struct {
	Current         *ServiceRef // production
	Previous        *ServiceRef // production before the last successful change, at its count then
	HighestRevision int         // highest revision ever created, failed ones included
	// AutoScaling is what was last applied to production; a rollback puts it back on the old
	// service when the live settings could not be captured (a run was killed after taking them).
	AutoScaling *AutoScaling
	// Adopted is the service the first deployment adopted; nil when it adopted none.
	Adopted *Adoption
}

// Rollout summarizes the last rollout.
type Rollout struct {
	Revision   int
	Status     string // RolloutSucceeded or RolloutRolledBack
	Reason     string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Rollout statuses.
const (
	RolloutSucceeded  = "succeeded"
	RolloutRolledBack = "rolled_back"
)

// Result is the outcome of an engine operation: the state to save and what happened.
type Result struct {
	State
	Action   Action        // what the operation did
	Rollout  *Rollout      // nil when the operation rolled nothing out
	Phases   []PhaseCounts // the phases the rollout planned, when it rolled one out
	Steps    []Step
	Warnings []string
	// View is what the operation left live, for plans made before the next refresh.
	View *View
}

// Step is one thing the engine did, for the report and the log.
type Step struct {
	At      time.Time
	Message string
}
