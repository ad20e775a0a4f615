package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// maxBaseNameLength leaves room in ECS's 255-character service names for "__N".
const maxBaseNameLength = 245

var (
	baseNamePattern     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	clusterPattern      = regexp.MustCompile(`^([A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255})$`)
	taskDefPattern      = regexp.MustCompile(`^([A-Za-z0-9_-]{1,255}(:[1-9][0-9]*)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]{1,255}:[1-9][0-9]*)$`)
	deploymentIDPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
	// serviceNamePattern is an ECS service name: up to 255 letters, digits, hyphens and underscores.
	serviceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
)

func serviceRefAttributes(what string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"service_name": schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the " + what + " service, `<name>__<revision>`, " +
			"or the adopted service's own name at revision 0."},
		"service_arn":     schema.StringAttribute{Computed: true, MarkdownDescription: "ARN of the " + what + " service."},
		"revision":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Revision number of the " + what + " service."},
		"task_definition": schema.StringAttribute{Computed: true, MarkdownDescription: "Task definition ARN the " + what + " service runs."},
		"desired_count":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Task count recorded for the " + what + " service."},
	}
}

// Schema describes ecs_phased_deployment (DESIGN.md §3).
func (r *phasedDeploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Runs a phased (canary) deployment of an Amazon ECS service inside `terraform apply`. " +
			"Every change of `task_definition` or of the `service` block creates a new service revision `<name>__<N>` at 0 tasks, " +
			"grows it phase by phase while the previous production service shrinks in inverse proportion, and rolls back " +
			"in reverse phase order when anything fails.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<cluster name>/<name>`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name or ARN of the ECS cluster. Changing it replaces the resource.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{stringvalidator.RegexMatches(clusterPattern,
					"must be a cluster name (1–255 letters, digits, hyphens and underscores) or a cluster ARN")},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Base name of the services. Revision N runs as the service `<name>__<N>`. " +
					"Changing it replaces the resource.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, maxBaseNameLength),
					stringvalidator.RegexMatches(baseNamePattern, "may contain only letters, digits, hyphens and underscores"),
				},
			},
			"task_definition": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The task definition to deploy: `family:revision`, or a task definition ARN. " +
					"Both forms of the same revision are the same deployment. A change deploys a new revision.",
				Validators: []validator.String{stringvalidator.RegexMatches(taskDefPattern,
					"must be family:revision, a family, or a task definition ARN")},
			},
			"desired_count": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Task count of the new revision. When omitted, the production service's live desired count is kept, " +
					"so the count that ECS Service Auto Scaling chose survives a deployment; the first deployment then needs it. " +
					"A change of this alone scales the production service in place. A post-production rollback brings the previous " +
					"service back at this count when it is set, and otherwise at the count it had before it was replaced.",
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"retain_old_services": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(deploy.DefaultRetainOldServices),
				MarkdownDescription: "How many zero-count old revisions to keep for rollback. Older ones are deleted, oldest first; " +
					fmt.Sprintf("the service recorded as `previous` is always kept. Defaults to `%d`.", deploy.DefaultRetainOldServices),
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"steady_state_timeout": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(defaultSteadyStateTimeout),
				MarkdownDescription: "How long each phase, and each rollback step, may take to reach its task counts, as a duration " +
					fmt.Sprintf("(`\"90s\"`, `\"10m\"`). Defaults to `%q`.", defaultSteadyStateTimeout),
				Validators: []validator.String{duration()},
			},
			"failed_task_threshold": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "How many tasks of the new revision may fail during a phase before it is rolled back. " +
					"Defaults to ECS's deployment circuit breaker rule, `min(max(ceil(desired / 2), 3), 200)`.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"deployment_id": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Value of the ownership tag `phased-deployment:id` on every service of this deployment. " +
					"Services without it are never touched. Defaults to `<cluster name>/<name>`. Changing it replaces the resource.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
				Validators: []validator.String{stringvalidator.RegexMatches(deploymentIDPattern,
					"must be 1–256 characters allowed in an ECS tag value")},
			},
			"revision": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Revision number of the production service. Known at plan time when state exists.",
			},
			"service_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Name of the production service, for example `web__7`.",
			},
			"service_arn": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "ARN of the production service.",
			},
			"current": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The production service and the task count it is recorded at.",
				Attributes:          serviceRefAttributes("production"),
			},
			"previous": schema.SingleNestedAttribute{
				Computed: true,
				MarkdownDescription: "The service that was production before the last successful change, with its desired count from " +
					"before that change, or null. Re-applying its task definition rolls back to it in one step.",
				Attributes: serviceRefAttributes("previous"),
			},
			"planned_phases": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The task counts each phase of this plan's rollout reaches: the new revision's `new_count` and " +
					"the old service's `old_count`. Shown by `terraform plan`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"new_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "Tasks of the new revision after the phase."},
					"old_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "Tasks of the old service after the phase."},
				}},
			},
			"planned_action": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "What this plan does: `create`, `adopt` (a first deployment that takes over the service named in " +
					"`adopt`), `deploy` (a new revision), `rollback` (back to `previous`), `scale` (the production service in place), " +
					"`update-in-place` (auto scaling only) or `none` (state only).",
			},
			"highest_revision": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The highest revision number ever created for this deployment, rolled-back ones included.",
			},
			"planned_gates": schema.ListAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "The verification gates of the `analysis` block in words, one per alarm and per metric check, " +
					"and when they are read; empty without the block. Shown by `terraform plan`.",
			},
			"last_rollout": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The last rollout: its revision, `status` (`succeeded` or `rolled_back`), `reason`, and RFC 3339 start and finish times.",
				Attributes: map[string]schema.Attribute{
					"revision":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Revision the rollout deployed."},
					"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "`succeeded` or `rolled_back`."},
					"reason":      schema.StringAttribute{Computed: true, MarkdownDescription: "Why it was rolled back, or what it was."},
					"started_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "RFC 3339 start time."},
					"finished_at": schema.StringAttribute{Computed: true, MarkdownDescription: "RFC 3339 finish time."},
				},
			},
		},
		Blocks: map[string]schema.Block{
			"service":      serviceBlock(),
			"phase":        phaseBlock(),
			"rollback":     rollbackBlock(),
			"auto_scaling": autoScalingBlock(),
			"analysis":     analysisBlock(),
			"adopt":        adoptBlock(),
			"timeouts":     timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func serviceBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "The template of every revision's ECS service. A change deploys a new revision.",
		Attributes: map[string]schema.Attribute{
			"launch_type": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`EC2`, `FARGATE` or `EXTERNAL`. Conflicts with `capacity_provider_strategy`.",
				Validators: []validator.String{stringvalidator.OneOf("EC2", "FARGATE", "EXTERNAL")},
			},
			"platform_version": schema.StringAttribute{Optional: true, MarkdownDescription: "Fargate platform version, for example `LATEST`."},
			"health_check_grace_period_seconds": schema.Int64Attribute{
				Optional: true, MarkdownDescription: "Seconds ECS ignores load balancer health checks after a task starts.",
				Validators: []validator.Int64{int64validator.Between(0, 2147483647)},
			},
			"enable_execute_command": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether ECS Exec is enabled on the tasks."},
			"availability_zone_rebalancing": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`ENABLED` or `DISABLED`: whether ECS moves tasks between Availability Zones to keep them balanced. " +
					"Unset, each revision's service gets CreateService's default, `ENABLED`. Rebalancing replaces tasks that did " +
					"nothing wrong; a rollout does not count those replacements as failures, so the default is safe, and it is " +
					"left to ECS so that the configuration says only what it changes.",
				Validators: []validator.String{stringvalidator.OneOf("ENABLED", "DISABLED")},
			},
			"propagate_tags": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`SERVICE`, `TASK_DEFINITION` or `NONE`: where tasks take their tags from.",
				Validators: []validator.String{stringvalidator.OneOf("SERVICE", "TASK_DEFINITION", "NONE")},
			},
			"tags": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Tags of every revision's service, besides the `phased-deployment:*` tags the provider sets.",
				Validators: []validator.Map{
					mapvalidator.SizeAtMost(48),
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128), stringvalidator.NoneOf("phased-deployment:id", "phased-deployment:revision", deploy.SuspendedTag)),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
				},
			},
		},
		Blocks: map[string]schema.Block{
			"capacity_provider_strategy": schema.ListNestedBlock{
				MarkdownDescription: "Capacity providers to run tasks on. Conflicts with `launch_type`.",
				Validators: []validator.List{
					listvalidator.SizeAtMost(20),
					listvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("launch_type")),
				},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"capacity_provider": schema.StringAttribute{Required: true, MarkdownDescription: "Capacity provider name, for example `FARGATE_SPOT`."},
					"weight":            schema.Int64Attribute{Optional: true, MarkdownDescription: "Relative share of tasks (0–1000).", Validators: []validator.Int64{int64validator.Between(0, 1000)}},
					"base":              schema.Int64Attribute{Optional: true, MarkdownDescription: "Tasks placed on this provider first (0–100000).", Validators: []validator.Int64{int64validator.Between(0, 100000)}},
				}},
			},
			"network_configuration": schema.SingleNestedBlock{
				MarkdownDescription: "awsvpc networking of the tasks.",
				Validators:          []validator.Object{objectvalidator.AlsoRequires(path.MatchRelative().AtName("subnets"))},
				Attributes: map[string]schema.Attribute{
					"subnets":          schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Subnet IDs (required in the block).", Validators: []validator.List{listvalidator.SizeBetween(1, 16)}},
					"security_groups":  schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Security group IDs.", Validators: []validator.List{listvalidator.SizeAtMost(5)}},
					"assign_public_ip": schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether tasks get a public IP."},
				},
			},
			"load_balancer": schema.ListNestedBlock{
				MarkdownDescription: "Target groups the tasks register with.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"target_group_arn": schema.StringAttribute{Required: true, MarkdownDescription: "Target group ARN."},
					"container_name":   schema.StringAttribute{Required: true, MarkdownDescription: "Container to register."},
					"container_port":   schema.Int64Attribute{Required: true, MarkdownDescription: "Container port to register.", Validators: []validator.Int64{int64validator.Between(1, 65535)}},
				}},
			},
			"service_registries": schema.ListNestedBlock{
				MarkdownDescription: "Cloud Map service registries.",
				Validators:          []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"registry_arn": schema.StringAttribute{Required: true, MarkdownDescription: "Cloud Map service ARN."},
				}},
			},
		},
	}
}

func adoptBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "A running ECS service that the first deployment takes over; used only on create, and a later change " +
			"of the block does nothing. The create is a deployment from that service: it is production at its live desired count, " +
			"`<name>__1` grows phase by phase while it shrinks, and a failure rolls back and leaves it as it was. Once the " +
			"rollout succeeds, the adopted service is tagged as this deployment's revision 0 and recorded as `previous`: from " +
			"then on it belongs to this resource like any revision, so retention later deletes it, and destroy deletes it. " +
			"Without a `service` block, the revisions copy its service settings, and its auto scaling moves to `<name>__1`. " +
			"See the guide \"Adopting an existing service\".",
		Validators: []validator.Object{objectvalidator.AlsoRequires(path.MatchRelative().AtName("service_name"))},
		Attributes: map[string]schema.Attribute{
			"service_name": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Name of the ECS service to adopt, in the deployment's cluster (required in the block). It must " +
					"be ACTIVE, run a task definition of `task_definition`'s family, be deployed by the `ECS` deployment controller, " +
					"carry no other deployment's ownership tag, and not be named like a revision (`<name>__<N>`).",
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 255),
					stringvalidator.RegexMatches(serviceNamePattern, "may contain only letters, digits, hyphens and underscores"),
				},
			},
		},
	}
}

func phaseBlock() schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "One step of the rollout; give exactly one of `percent` or `count`. Phases only grow the new revision, " +
			"and the last one must reach the desired count. Without phase blocks the rollout is one phase at 100 %.",
		Validators: []validator.List{listvalidator.SizeAtMost(20)},
		NestedObject: schema.NestedBlockObject{
			Validators: []validator.Object{exactlyOneOf("percent", "count")},
			Attributes: map[string]schema.Attribute{
				"percent": schema.Int64Attribute{
					Optional: true, MarkdownDescription: "Share of the desired count, 1–100, rounded up.",
					Validators: []validator.Int64{int64validator.Between(1, 100)},
				},
				"count": schema.Int64Attribute{
					Optional: true, MarkdownDescription: "Task count, at least 1, capped at the desired count.",
					Validators: []validator.Int64{int64validator.AtLeast(1)},
				},
				"bake_time": schema.StringAttribute{
					Optional: true, MarkdownDescription: "How long to watch the phase for failures after it reached its counts, for example `\"2m\"`.",
					Validators: []validator.String{duration()},
				},
			},
		},
	}
}

func rollbackBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "How a failed rollout is rolled back.",
		Attributes: map[string]schema.Attribute{
			"all_phases_at_once": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "`false` (default): roll back phase by phase in reverse order, R_k … R_1. " +
					"`true`: bring the old service straight back to its pre-rollout count in one step.",
			},
		},
	}
}

func autoScalingBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "ECS Service Auto Scaling for the production service. During a rollout production's scalable target stays " +
			"registered with its scaling suspended; after the last phase the configured policies and scheduled actions move to the " +
			"new revision and the old target is deregistered (after a rollback the old target's suspension is lifted).",
		Validators: []validator.Object{
			objectvalidator.AlsoRequires(path.MatchRelative().AtName("min_capacity"), path.MatchRelative().AtName("max_capacity")),
			notAbove("min_capacity", "max_capacity"),
		},
		Attributes: map[string]schema.Attribute{
			"min_capacity": schema.Int64Attribute{Optional: true, MarkdownDescription: "Lowest task count (required in the block).", Validators: []validator.Int64{int64validator.AtLeast(0)}},
			"max_capacity": schema.Int64Attribute{
				Optional: true, MarkdownDescription: "Highest task count (required in the block), at least `min_capacity`.",
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			// A default inside an optional single nested block applies only when the block is
			// present: the framework does not descend into a block that is absent (null).
			"discard_unmanaged": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Production may carry step scaling policies, predictive scaling policies and scheduled actions " +
					"that this block does not describe, added outside Terraform. A rollout moves only what the block describes to the " +
					"new revision, so `terraform plan` warns, naming each of them, and apply refuses before any write unless this is " +
					"`true`; then they are dropped when the rollout hands auto scaling to the new revision. Defaults to `false`.",
			},
		},
		Blocks: map[string]schema.Block{
			"target_tracking": schema.ListNestedBlock{
				MarkdownDescription: "Target tracking scaling policies, each on a predefined metric (`predefined_metric_type`) or on " +
					"a CloudWatch metric of your own (`customized_metric`).",
				Validators: []validator.List{listvalidator.SizeAtMost(10)},
				NestedObject: schema.NestedBlockObject{
					Validators: []validator.Object{exactlyOneOf("predefined_metric_type", "customized_metric")},
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{Required: true, MarkdownDescription: "Policy name.", Validators: []validator.String{
							stringvalidator.LengthBetween(1, 256), stringvalidator.RegexMatches(regexp.MustCompile(`^[^:/]+$`), "may not contain : or /")}},
						"predefined_metric_type": schema.StringAttribute{
							Optional: true,
							MarkdownDescription: "`ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or `ALBRequestCountPerTarget`. " +
								"Give exactly one of this and `customized_metric`.",
							Validators: []validator.String{stringvalidator.OneOf("ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget")},
						},
						"resource_label": schema.StringAttribute{
							Optional: true, MarkdownDescription: "Resource label, required for `ALBRequestCountPerTarget`; only with `predefined_metric_type`.",
							Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("customized_metric"))},
						},
						"target_value":       schema.Float64Attribute{Required: true, MarkdownDescription: "Target value of the metric.", Validators: []validator.Float64{float64validator.AtLeast(0.001)}},
						"scale_in_cooldown":  schema.Int64Attribute{Optional: true, MarkdownDescription: "Seconds between scale-in activities.", Validators: []validator.Int64{int64validator.AtLeast(0)}},
						"scale_out_cooldown": schema.Int64Attribute{Optional: true, MarkdownDescription: "Seconds between scale-out activities.", Validators: []validator.Int64{int64validator.AtLeast(0)}},
						"disable_scale_in":   schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether the policy never scales in."},
					},
					Blocks: map[string]schema.Block{"customized_metric": customizedMetricBlock()},
				},
			},
			"scheduled_action": scheduledActionBlock(),
		},
	}
}

func customizedMetricBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "A CloudWatch metric the policy tracks, instead of a predefined one. A dimension named `ServiceName` " +
			"does not keep the value written here: each revision's policy gets that revision's service name (`<name>__<N>`), " +
			"so the policy follows the revision that is in production.",
		Validators: []validator.Object{objectvalidator.AlsoRequires(
			path.MatchRelative().AtName("namespace"), path.MatchRelative().AtName("metric_name"), path.MatchRelative().AtName("statistic"))},
		Attributes: map[string]schema.Attribute{
			"namespace": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Namespace of the metric, for example `AWS/ECS` (required in the block).",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"metric_name": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Name of the metric, for example `CPUUtilization` (required in the block).",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"statistic": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`Average`, `Minimum`, `Maximum`, `SampleCount` or `Sum` (required in the block).",
				Validators: []validator.String{stringvalidator.OneOf("Average", "Minimum", "Maximum", "SampleCount", "Sum")},
			},
			"unit": schema.StringAttribute{Optional: true, MarkdownDescription: "Unit of the metric, for example `Percent`."},
			"dimensions": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Dimensions of the metric, name to value. The value of a `ServiceName` dimension is replaced with " +
					"each revision's service name, for example `{ ClusterName = \"prod\", ServiceName = \"web\" }` tracks `web__7` " +
					"while `web__7` is in production.",
				Validators: []validator.Map{
					mapvalidator.SizeAtMost(30),
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 255)),
					mapvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 1024)),
				},
			},
		},
	}
}

func scheduledActionBlock() schema.Block {
	// capacity is min_capacity or max_capacity: at least one of the two is required.
	capacity := func(bound, other string) schema.Int64Attribute {
		return schema.Int64Attribute{
			Optional:            true,
			MarkdownDescription: "The " + bound + " the scalable target's range gets at the schedule, at least 0. Give this, `" + other + "`, or both.",
			Validators:          []validator.Int64{int64validator.AtLeast(0)},
		}
	}
	return schema.ListNestedBlock{
		MarkdownDescription: "Scheduled actions: at each time of its schedule, one changes the range of production's scalable target. " +
			"They move to each new revision with the policies.",
		Validators: []validator.List{listvalidator.SizeAtMost(200), uniqueNames("name")},
		NestedObject: schema.NestedBlockObject{
			Validators: []validator.Object{
				atLeastOneOf("min_capacity", "max_capacity"),
				notAbove("min_capacity", "max_capacity"),
				before("start_time", "end_time"),
			},
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{
					Required: true, MarkdownDescription: "Name of the scheduled action, unique within the block: 1–256 characters, " +
						"without `:`, `/`, `|` or control characters, and no space at either end.",
					Validators: []validator.String{
						stringvalidator.UTF8LengthBetween(1, 256),
						stringvalidator.RegexMatches(scheduledActionNamePattern, "may not contain : / | or control characters, nor start or end with a space"),
					},
				},
				"schedule": schema.StringAttribute{
					Required: true,
					MarkdownDescription: "When the action runs, in `timezone`: `at(yyyy-mm-ddThh:mm:ss)` once; `rate(value unit)` with unit " +
						"`minute`, `hour` or `day` for a value of 1 and `minutes`, `hours` or `days` otherwise; or " +
						"`cron(minutes hours day-of-month month day-of-week year)` with `?` in exactly one of day-of-month and " +
						"day-of-week, for example `cron(0 8 ? * MON-FRI *)`.",
					Validators: []validator.String{scheduleExpression()},
				},
				"timezone": schema.StringAttribute{
					Optional: true, MarkdownDescription: "IANA time zone of `schedule`, for example `Europe/Berlin`. Defaults to UTC.",
					Validators: []validator.String{timeZone()},
				},
				"min_capacity": capacity("lowest task count", "max_capacity"),
				"max_capacity": capacity("highest task count", "min_capacity"),
				"start_time": schema.StringAttribute{
					Optional: true, MarkdownDescription: "RFC 3339 time before which a recurring action does not run, for example `2027-03-01T00:00:00Z`.",
					Validators: []validator.String{rfc3339Time()},
				},
				"end_time": schema.StringAttribute{
					Optional: true, MarkdownDescription: "RFC 3339 time after which a recurring action no longer runs; later than `start_time`.",
					Validators: []validator.String{rfc3339Time()},
				},
			},
		},
	}
}

// metricStatistic is a statistic GetMetricData takes for a metric check: the five basic ones or
// a percentile pNN, pNN.N or pNN.NN.
var metricStatistic = regexp.MustCompile(`^(Average|Sum|Minimum|Maximum|SampleCount|p(\d{1,2}(\.\d{1,2})?|100))$`)

// queryIDPattern is GetMetricData's MetricDataQuery Id: a lowercase letter first, then letters,
// digits and underscores.
var queryIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// Defaults of the analysis block, as the schema writes them.
const (
	defaultAnalysisInterval = "10s"
	defaultMetricPeriod     = 60
	defaultComparison       = "GreaterThanThreshold"
)

var comparisons = []string{"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}

func analysisBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Verification gates (see the section of that name): CloudWatch alarms that must not be in `ALARM`, like " +
			"ECS's deployment alarms, and metric checks the new revision must pass, like the metrics of an Argo Rollouts " +
			"analysis. They are read every `interval` from each phase's scale-up through the end of its bake, and for " +
			"`final_window` after the last phase; a breach fails the phase and rolls the rollout back in reverse order. " +
			"Before any write, a rollout refuses to start when an alarm does not exist or is already in `ALARM`. " +
			"A post-production rollback (re-applying the previous task definition) is not gated.",
		Attributes: map[string]schema.Attribute{
			"alarm_names": schema.ListAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Names of CloudWatch alarms, metric or composite, up to 100: any of them in `ALARM` fails the phase. " +
					"Each must exist when a rollout starts.",
				Validators: []validator.List{
					listvalidator.SizeAtMost(100),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 255)),
				},
			},
			"interval": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(defaultAnalysisInterval),
				MarkdownDescription: "How often the gates are read, as a duration from `\"1s\"` to `\"1h\"`: a breach is noticed within " +
					"one interval. Defaults to `\"10s\"`.",
				Validators: []validator.String{durationBetween(time.Second, time.Hour)},
			},
			"final_window": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("0s"),
				MarkdownDescription: "How long to keep reading the gates after the last phase reached its counts and baked, as a " +
					"duration such as `\"5m\"`, while the old revision is still there to roll back to; it counts against the " +
					"create and update timeouts like a bake time. Defaults to `\"0s\"`.",
				Validators: []validator.String{duration()},
			},
		},
		Blocks: map[string]schema.Block{"metric": metricCheckBlock()},
	}
}

func metricCheckBlock() schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "Metric checks, up to 10, each a CloudWatch metric (`namespace`, `metric_name`, `dimensions`, " +
			"`statistic`) or a metric math `expression` over `query` blocks, read over its last `period`. A check fails an " +
			"evaluation when its value crosses `threshold`, or, with `baseline_ratio`, when it exceeds that ratio of the " +
			"previous revision's value; the phase fails when a check has failed more than `failure_limit` times. In dimension " +
			"values, `{{service}}` stands for the new revision's service name (`<name>__<N>`) and `{{previous_service}}` for " +
			"the previous one's, so that a check follows the revisions; they are plain text in HCL and need no escaping.",
		Validators: []validator.List{listvalidator.SizeAtMost(10), uniqueNames("name")},
		NestedObject: schema.NestedBlockObject{
			Validators: []validator.Object{metricCheckForm(), atLeastOneOf("threshold", "baseline_ratio"), baselineComparison()},
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{
					Required: true, MarkdownDescription: "Name of the check, unique within the block; errors and `planned_gates` use it.",
					Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
				},
				"namespace": schema.StringAttribute{
					Optional: true, MarkdownDescription: "Namespace of the metric, for example `AWS/ECS`. With `metric_name`, and not with `expression`.",
					Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
				},
				"metric_name": schema.StringAttribute{
					Optional: true, MarkdownDescription: "Name of the metric, for example `Errors`. With `namespace`, and not with `expression`.",
					Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
				},
				"dimensions": metricDimensions(),
				"statistic":  metricStatisticAttribute(),
				"expression": schema.StringAttribute{
					Optional: true,
					MarkdownDescription: "A CloudWatch metric math expression over the `query` blocks' `id`s, for example " +
						"`100 * errors / requests`, instead of `namespace` and `metric_name`.",
					Validators: []validator.String{stringvalidator.LengthBetween(1, 2048)},
				},
				"period": schema.Int64Attribute{
					Optional: true, Computed: true, Default: int64default.StaticInt64(defaultMetricPeriod),
					MarkdownDescription: "Period of the metric in seconds, as GetMetricData takes it: 1, 5, 10, 20 or 30 for " +
						"high-resolution metrics, otherwise a multiple of 60. Each evaluation reads the newest datapoint of the " +
						"last two periods. Defaults to `60`.",
					Validators: []validator.Int64{metricPeriod()},
				},
				"threshold": schema.Float64Attribute{
					Optional:            true,
					MarkdownDescription: "The value the metric must not cross, by `comparison`. Give this, `baseline_ratio`, or both.",
				},
				"comparison": schema.StringAttribute{
					Optional: true, Computed: true, Default: stringdefault.StaticString(defaultComparison),
					MarkdownDescription: "How a value crosses `threshold`, in CloudWatch alarms' words: `GreaterThanThreshold`, " +
						"`GreaterThanOrEqualToThreshold`, `LessThanThreshold` or `LessThanOrEqualToThreshold`. " +
						"Defaults to `GreaterThanThreshold`.",
					Validators: []validator.String{stringvalidator.OneOf(comparisons...)},
				},
				"baseline_ratio": schema.Float64Attribute{
					Optional: true,
					MarkdownDescription: "Baseline comparison: the check fails when the new revision's value exceeds `baseline_ratio` × " +
						"the previous revision's over the same window, the previous value read from the same metric with " +
						"`{{service}}` naming the previous revision's service. With `threshold` too, it fails only when the " +
						"value also crosses the threshold, an absolute floor under which the ratio does not matter. On a first " +
						"deployment there is no previous revision and the baseline part passes. Greater than 0, and only " +
						"with a `comparison` of `GreaterThanThreshold` or `GreaterThanOrEqualToThreshold`.",
					Validators: []validator.Float64{positive()},
				},
				"failure_limit": schema.Int64Attribute{
					Optional: true, Computed: true, Default: int64default.StaticInt64(0),
					MarkdownDescription: "How many failed evaluations the check tolerates over a rollout; one more fails the phase. " +
						"Defaults to `0`.",
					Validators: []validator.Int64{int64validator.AtLeast(0)},
				},
				"no_data": schema.StringAttribute{
					Optional: true, Computed: true, Default: stringdefault.StaticString(deploy.NoDataWait),
					MarkdownDescription: "What an evaluation without data means (a quiet canary is not a healthy one): `fail` fails " +
						"the evaluation, `pass` passes it, and `wait` lets the phase finish only once the check has passed with " +
						"data, so a phase without data runs into `steady_state_timeout`. Defaults to `wait`.",
					Validators: []validator.String{stringvalidator.OneOf(deploy.NoDataFail, deploy.NoDataPass, deploy.NoDataWait)},
				},
			},
			Blocks: map[string]schema.Block{"query": metricQueryBlock()},
		},
	}
}

func metricQueryBlock() schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "A metric that `expression` refers to by `id`; only with `expression`.",
		Validators:          []validator.List{listvalidator.SizeAtMost(10), uniqueNames("id")},
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the metric in `expression`: a lowercase letter, then letters, digits and underscores.",
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 255),
					stringvalidator.RegexMatches(queryIDPattern, "must start with a lowercase letter and contain only letters, digits and underscores"),
				},
			},
			"namespace": schema.StringAttribute{
				Required: true, MarkdownDescription: "Namespace of the metric.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"metric_name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the metric.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
			},
			"dimensions": metricDimensions(),
			"statistic":  metricStatisticAttribute(),
		}},
	}
}

func metricDimensions() schema.MapAttribute {
	return schema.MapAttribute{
		ElementType: types.StringType, Optional: true,
		MarkdownDescription: "Dimensions of the metric, name to value. `{{service}}` in a value is the new revision's service " +
			"name and `{{previous_service}}` the previous revision's (empty on a first deployment), for example " +
			"`{ ClusterName = \"prod\", ServiceName = \"{{service}}\" }`.",
		Validators: []validator.Map{
			mapvalidator.SizeAtMost(30),
			mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 255)),
			mapvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 1024), dimensionPlaceholders()),
		},
	}
}

func metricStatisticAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "`Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount`, or a percentile such as `p99` or `p99.9`. " +
			"Defaults to `Average`.",
		Validators: []validator.String{stringvalidator.RegexMatches(metricStatistic,
			"must be Average, Sum, Minimum, Maximum, SampleCount or a percentile pNN or pNN.NN")},
	}
}
