package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// scheduledScalingHCL is an auto_scaling block with a target tracking policy on a customized
// metric, whose ServiceName dimension the engine rewrites per revision, and a weekday morning
// scale-out. The scale-out starts in 2099, so that it cannot fire while the test runs.
const scheduledScalingHCL = `
  auto_scaling {
    min_capacity = 2
    max_capacity = 10
    target_tracking {
      name         = "backlog"
      target_value = 100
      customized_metric {
        namespace   = "Shop"
        metric_name = "BacklogPerTask"
        statistic   = "Average"
        unit        = "Count"
        dimensions  = { ClusterName = "prod", ServiceName = "web" }
      }
    }
    scheduled_action {
      name         = "weekday-morning"
      schedule     = "cron(0 8 ? * MON-FRI *)"
      timezone     = "Europe/Berlin"
      min_capacity = 4
      start_time   = "2099-01-01T00:00:00Z"
      end_time     = "2099-12-31T00:00:00Z"
    }
  }
`

// scalingClient is an Application Auto Scaling client on the provider's endpoint of ecslocal.
// The test only describes through it, and every Describe it calls is in the least-privilege
// policy that endpoint enforces.
func (e *accEnv) scalingClient() *applicationautoscaling.Client {
	return applicationautoscaling.New(applicationautoscaling.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.url),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// liveScaling is one service's auto scaling as Application Auto Scaling describes it, each
// item written out as a line, with the service's own name replaced by <service> so that two
// revisions' settings compare equal when only the name differs.
type liveScaling struct {
	Target   string   // "" without a scalable target
	Policies []string // sorted
	Actions  []string // sorted
}

// describeScaling reads a service's scalable target, scaling policies and scheduled actions.
func (e *accEnv) describeScaling(service string) (liveScaling, error) {
	ctx := context.Background()
	c := e.scalingClient()
	id := "service/prod/" + service
	var out liveScaling
	targets, err := c.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{id},
	})
	if err != nil {
		return out, fmt.Errorf("describing the scalable target of %s: %w", service, err)
	}
	for _, t := range targets.ScalableTargets {
		s := t.SuspendedState
		out.Target = fmt.Sprintf("%d–%d suspended in=%v out=%v scheduled=%v", aws.ToInt32(t.MinCapacity), aws.ToInt32(t.MaxCapacity),
			s != nil && aws.ToBool(s.DynamicScalingInSuspended), s != nil && aws.ToBool(s.DynamicScalingOutSuspended),
			s != nil && aws.ToBool(s.ScheduledScalingSuspended))
	}
	policies, err := c.DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
	})
	if err != nil {
		return out, fmt.Errorf("describing the scaling policies of %s: %w", service, err)
	}
	for _, p := range policies.ScalingPolicies {
		line := fmt.Sprintf("%s %s", aws.ToString(p.PolicyName), p.PolicyType)
		if tt := p.TargetTrackingScalingPolicyConfiguration; tt != nil {
			if m := tt.CustomizedMetricSpecification; m != nil {
				var dims []string
				for _, d := range m.Dimensions {
					dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
				}
				slices.Sort(dims)
				line += fmt.Sprintf(" %s/%s %s %s {%s}", aws.ToString(m.Namespace), aws.ToString(m.MetricName), m.Statistic,
					aws.ToString(m.Unit), strings.Join(dims, ","))
			}
			line += fmt.Sprintf(" target=%g", aws.ToFloat64(tt.TargetValue))
		}
		out.Policies = append(out.Policies, line)
	}
	actions, err := c.DescribeScheduledActions(ctx, &applicationautoscaling.DescribeScheduledActionsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
	})
	if err != nil {
		return out, fmt.Errorf("describing the scheduled actions of %s: %w", service, err)
	}
	for _, a := range actions.ScheduledActions {
		line := fmt.Sprintf("%s %s %s", aws.ToString(a.ScheduledActionName), aws.ToString(a.Schedule), aws.ToString(a.Timezone))
		if act := a.ScalableTargetAction; act != nil {
			line += fmt.Sprintf(" min=%s max=%s", int32Text(act.MinCapacity), int32Text(act.MaxCapacity))
		}
		line += fmt.Sprintf(" %s–%s", timeText(a.StartTime), timeText(a.EndTime))
		out.Actions = append(out.Actions, line)
	}
	slices.Sort(out.Policies)
	slices.Sort(out.Actions)
	for _, l := range [][]string{out.Policies, out.Actions} {
		for i := range l {
			l[i] = strings.ReplaceAll(l[i], service, "<service>")
		}
	}
	return out, nil
}

func int32Text(p *int32) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// wantScheduledScaling is what scheduledScalingHCL puts on the production service: the
// ServiceName dimension names that service, ClusterName keeps its configured value.
var wantScheduledScaling = liveScaling{
	Target:   "2–10 suspended in=false out=false scheduled=false",
	Policies: []string{"backlog TargetTrackingScaling Shop/BacklogPerTask Average Count {ClusterName=prod,ServiceName=<service>} target=100"},
	Actions:  []string{"weekday-morning cron(0 8 ? * MON-FRI *) Europe/Berlin min=4 max=- 2099-01-01T00:00:00Z–2099-12-31T00:00:00Z"},
}

// expectScaling is a TestCheckFunc: each named service carries exactly the given auto scaling
// (a zero liveScaling: none at all, not even a scalable target).
func (e *accEnv) expectScaling(want map[string]liveScaling) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, service := range slices.Sorted(maps.Keys(want)) {
			got, err := e.describeScaling(service)
			if err != nil {
				return err
			}
			w := want[service]
			if got.Target != w.Target || !slices.Equal(got.Policies, w.Policies) || !slices.Equal(got.Actions, w.Actions) {
				return fmt.Errorf("auto scaling of %s =\n  %+v\nwant\n  %+v", service, got, w)
			}
		}
		return nil
	}
}

// scheduledActionPath is a path inside auto_scaling's first scheduled_action.
func scheduledActionPath(name string) tfjsonpath.Path {
	return tfjsonpath.New("auto_scaling").AtMapKey("scheduled_action").AtSliceIndex(0).AtMapKey(name)
}

// TestAccPhasedDeployment_scheduledScalingFollowsTheRevision creates web__1 with a scheduled
// action and a target tracking policy on a customized metric, then deploys web:2: both move to
// web__2 unchanged but for the ServiceName dimension, which names web__2, and web__1 keeps no
// scalable target. State holds the configuration as written, so plans after apply and after an
// import are empty.
func TestAccPhasedDeployment_scheduledScalingFollowsTheRevision(t *testing.T) {
	e := newAccEnv(t)
	config := func(td string) string { return e.config(deploymentConfig(td, scheduledScalingHCL)) }
	none := liveScaling{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config("web:1"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("auto_scaling.discard_unmanaged", knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, scheduledActionPath("schedule"), knownvalue.StringExact("cron(0 8 ? * MON-FRI *)")),
					statecheck.ExpectKnownValue(addr, scheduledActionPath("max_capacity"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("auto_scaling").AtMapKey("target_tracking").AtSliceIndex(0).
						AtMapKey("customized_metric").AtMapKey("dimensions").AtMapKey("ServiceName"), knownvalue.StringExact("web")),
				},
				Check: e.expectScaling(map[string]liveScaling{"web__1": wantScheduledScaling}),
			},
			{
				Config: config("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__2")),
					statecheck.ExpectKnownValue(addr, scheduledActionPath("timezone"), knownvalue.StringExact("Europe/Berlin")),
				},
				Check: allOf(
					e.expectScaling(map[string]liveScaling{"web__1": none, "web__2": wantScheduledScaling}),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
				),
			},
			{Config: config("web:2"), PlanOnly: true},
			{
				// Import reads the settings back from web__2. The ServiceName dimension is
				// read as the value the engine wrote there, web__2, not the "web" written in
				// the configuration: that value is replaced on every revision and cannot be
				// read back.
				ResourceName: addr, ImportState: true, ImportStateId: "prod/web", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"phase", "planned_action", "planned_phases", "last_rollout", "timeouts", "previous",
					"auto_scaling.target_tracking.0.customized_metric.dimensions.ServiceName"},
			},
		},
	})
}

// TestAccPhasedDeployment_unmanagedScheduledAction: production carries a scheduled action that
// the configuration does not describe. A deploy refuses before any write, on auto_scaling;
// with discard_unmanaged the rollout drops it and web__2 gets only what is configured.
func TestAccPhasedDeployment_unmanagedScheduledAction(t *testing.T) {
	e := newAccEnv(t)
	withDiscard := func(td string, discard bool) string {
		block := strings.Replace(scheduledScalingHCL, "    max_capacity = 10\n",
			fmt.Sprintf("    max_capacity = 10\n    discard_unmanaged = %v\n", discard), 1)
		return e.config(deploymentConfig(td, block))
	}
	addOutside := func() {
		_, err := e.scalingClient().PutScheduledAction(context.Background(), &applicationautoscaling.PutScheduledActionInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, ScheduledActionName: aws.String("night"),
			Schedule: aws.String("cron(0 22 * * ? *)"), Timezone: aws.String("America/New_York"), StartTime: aws.Time(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)),
			ScalableTargetAction: &aastypes.ScalableTargetAction{MaxCapacity: aws.Int32(3)},
		})
		if err != nil {
			t.Fatalf("putting a scheduled action on web__1 outside Terraform: %v", err)
		}
	}
	var mark int
	withNight := wantScheduledScaling
	withNight.Actions = append([]string{"night cron(0 22 * * ? *) America/New_York min=- max=3 2099-01-01T00:00:00Z–-"}, wantScheduledScaling.Actions...)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: withDiscard("web:1", false)},
			{
				PreConfig: addOutside,
				Config:    withDiscard("web:2", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					betweenPlanAndApply(func() { mark = e.writes() }),
				}},
				ExpectError: wrapped("Invalid Auto Scaling", "the production service web__1 has auto scaling that the configuration does not describe (scheduled action night)",
					"auto_scaling.discard_unmanaged = true", "Nothing was changed."),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: allOf(e.noWritesSince(&mark), e.expectScaling(map[string]liveScaling{"web__1": withNight})),
			},
			{
				Config: withDiscard("web:2", true),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__2")),
					stateValue("auto_scaling.discard_unmanaged", knownvalue.Bool(true)),
				},
				Check: e.expectScaling(map[string]liveScaling{"web__1": {}, "web__2": wantScheduledScaling}),
			},
			{Config: withDiscard("web:2", true), PlanOnly: true},
		},
	})
}

// TestAccPhasedDeployment_scalingValidation: each rule of scheduled actions and customized
// metrics fails the plan with an error that names the attribute, before any AWS call.
func TestAccPhasedDeployment_scalingValidation(t *testing.T) {
	// scaling is a configuration whose auto_scaling block holds body.
	scaling := func(body string) string {
		return "  name = \"web\"\n  task_definition = \"web:1\"\n  desired_count = 2\n  auto_scaling {\n    min_capacity = 1\n    max_capacity = 4\n" + body + "  }"
	}
	// action is a scheduled_action block named morning with the given arguments.
	action := func(args string) string {
		return "    scheduled_action {\n      name = \"morning\"\n" + args + "    }\n"
	}
	const cron = "      schedule = \"cron(0 8 ? * MON-FRI *)\"\n"
	// policy is a target_tracking block named backlog with the given arguments.
	policy := func(args string) string {
		return "    target_tracking {\n      name = \"backlog\"\n      target_value = 100\n" + args + "    }\n"
	}
	const metric = "      customized_metric {\n        namespace = \"Shop\"\n        metric_name = \"BacklogPerTask\"\n        statistic = \"Average\"\n      }\n"
	cases := []struct {
		name   string
		config string
		want   *regexp.Regexp
	}{
		{"a cron schedule with five fields", scaling(action("      schedule = \"cron(0 8 * * MON-FRI)\"\n      min_capacity = 4\n")),
			wrapped("Invalid Schedule", `auto_scaling.scheduled_action[0].schedule: "cron(0 8 * * MON-FRI)" has 5 fields; a cron expression has six`)},
		{"a cron schedule with both day fields", scaling(action("      schedule = \"cron(0 8 1 * MON *)\"\n      min_capacity = 4\n")),
			wrapped("Invalid Schedule", "must have ? in exactly one of day-of-month (field 3) and day-of-week (field 5)")},
		{"a rate with a plural unit for 1", scaling(action("      schedule = \"rate(1 hours)\"\n      min_capacity = 4\n")),
			wrapped("Invalid Schedule", `uses the unit "hours" with the value 1; write rate(1 hour)`)},
		{"an at schedule with a zone suffix", scaling(action("      schedule = \"at(2027-03-01T06:00:00Z)\"\n      min_capacity = 4\n")),
			wrapped("Invalid Schedule", "is not of the form at(yyyy-mm-ddThh:mm:ss)")},
		{"a schedule of no known form", scaling(action("      schedule = \"weekdays at 8\"\n      min_capacity = 4\n")),
			wrapped("Invalid Schedule", "is not a schedule: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(")},
		{"a time zone abbreviation", scaling(action(cron + "      timezone = \"CEST\"\n      min_capacity = 4\n")),
			wrapped("Invalid Time Zone", `auto_scaling.scheduled_action[0].timezone: "CEST" is not an IANA time zone name`)},
		{"a scheduled action with neither capacity", scaling(action(cron)),
			wrapped("auto_scaling.scheduled_action[0] sets neither auto_scaling.scheduled_action[0].min_capacity nor", "max_capacity; set at least one of them")},
		{"a scheduled action with min_capacity above max_capacity", scaling(action(cron + "      min_capacity = 5\n      max_capacity = 2\n")),
			wrapped("auto_scaling.scheduled_action[0].max_capacity (2) is below auto_scaling.scheduled_action[0].min_capacity (5)")},
		{"a negative scheduled max_capacity", scaling(action(cron + "      max_capacity = -1\n")),
			wrapped("Attribute auto_scaling.scheduled_action[0].max_capacity value must be at least 0, got: -1")},
		{"a start_time without a zone", scaling(action(cron + "      min_capacity = 4\n      start_time = \"2027-03-01T00:00:00\"\n")),
			wrapped("Invalid Time", `auto_scaling.scheduled_action[0].start_time: "2027-03-01T00:00:00" is not an RFC 3339 time`)},
		{"an end_time before the start_time", scaling(action(cron + "      min_capacity = 4\n      start_time = \"2027-04-01T00:00:00Z\"\n      end_time = \"2027-03-01T00:00:00Z\"\n")),
			wrapped("auto_scaling.scheduled_action[0].end_time (2027-03-01T00:00:00Z) is not after", "end_time must be later than start_time")},
		{"two scheduled actions of one name", scaling(action(cron+"      min_capacity = 4\n") + action(cron+"      max_capacity = 3\n")),
			wrapped("Duplicate Name", `auto_scaling.scheduled_action[1].name is "morning", like auto_scaling.scheduled_action[0].name`)},
		{"a scheduled action name with a colon", scaling("    scheduled_action {\n      name = \"weekday 08:00\"\n" + cron + "      min_capacity = 4\n    }\n"),
			wrapped("Attribute auto_scaling.scheduled_action[0].name may not contain : / | or control characters")},
		{"a policy with both metrics", scaling(policy("      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n" + metric)),
			wrapped("auto_scaling.target_tracking[0] sets both auto_scaling.target_tracking[0].predefined_metric_type and", "customized_metric; set exactly one of them")},
		{"a policy with no metric", scaling(policy("")),
			wrapped("auto_scaling.target_tracking[0] sets neither auto_scaling.target_tracking[0].predefined_metric_type nor", "customized_metric; set exactly one of them")},
		{"a resource_label on a customized metric", scaling(policy("      resource_label = \"app/web/1/targetgroup/web/2\"\n" + metric)),
			wrapped("auto_scaling.target_tracking[0].customized_metric", "auto_scaling.target_tracking[0].resource_label")},
		{"a customized metric without a statistic", scaling(policy("      customized_metric {\n        namespace = \"Shop\"\n        metric_name = \"BacklogPerTask\"\n      }\n")),
			wrapped(`"auto_scaling.target_tracking[0].customized_metric.statistic" must be specified`)},
		{"a customized metric with an unknown statistic", scaling(policy("      customized_metric {\n        namespace = \"Shop\"\n        metric_name = \"BacklogPerTask\"\n        statistic = \"p99\"\n      }\n")),
			wrapped("Attribute auto_scaling.target_tracking[0].customized_metric.statistic value must be one of")},
		{"a service tag using the suspension key", "  name = \"web\"\n  task_definition = \"web:1\"\n  desired_count = 2\n  service {\n    tags = { \"phased-deployment:scaling-suspended\" = \"in=false,out=false,scheduled=false\" }\n  }",
			wrapped("service.tags", "phased-deployment:scaling-suspended")},
	}
	// As in TestAccPhasedDeployment_validation, one TestCase runs every case as a plan-only
	// step, and ecslocal must have seen no call at all: bad input is caught before any AWS call.
	e := newAccEnv(t)
	var steps []resource.TestStep
	for _, tc := range cases {
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				if calls := e.srv.Calls(); len(calls) > 0 {
					t.Errorf("before the case %q ecslocal recorded %d calls, the first %s; want none", tc.name, len(calls), calls[0].Action())
				}
			},
			Config:      e.config(resourceWith(tc.config)),
			PlanOnly:    true,
			ExpectError: tc.want,
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: allOf(e.checkDestroyed, func(*terraform.State) error {
			if calls := e.srv.Calls(); len(calls) > 0 {
				return fmt.Errorf("ecslocal recorded %d calls, the first %s; want none", len(calls), calls[0].Action())
			}
			return nil
		}),
		Steps: steps,
	})
}

// TestAccPhasedDeployment_scheduledActionSurvives follows one scheduled action (and the
// customized-metric policy beside it) through a deployment's life: it is on production,
// unchanged and not suspended, after the create, after each of three deploys, after a failed
// deploy's rollback, and after a post-production rollback; every other revision has no auto
// scaling at all (DESIGN.md §5.6).
func TestAccPhasedDeployment_scheduledActionSurvives(t *testing.T) {
	e := newAccEnv(t)
	td4, td5 := e.registerTaskDefinition("healthy"), e.registerTaskDefinition("healthy")
	config := func(td string) string { return e.config(deploymentConfig(td, scheduledScalingHCL)) }
	onlyOn := func(prod string, others ...string) func(*terraform.State) error {
		want := map[string]liveScaling{prod: wantScheduledScaling}
		for _, o := range others {
			want[o] = liveScaling{}
		}
		return e.expectScaling(want)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config("web:1"), Check: onlyOn("web__1")},
			{Config: config("web:2"), Check: onlyOn("web__2", "web__1")},
			{Config: config(td4), Check: onlyOn("web__3", "web__1", "web__2")},
			{Config: config(td5), Check: onlyOn("web__4", "web__1", "web__2", "web__3")},
			{
				// web:3 crashes on start: the rollout fails in phase 1 and rolls back.
				Config:      config("web:3"),
				ExpectError: wrapped("Deployment Rolled Back", "revision 5 (web__5) failed in phase 1"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // web:3 is still configured
				Check:              onlyOn("web__4", "web__3", "web__5"),
			},
			{
				// The previous revision's configuration: a post-production rollback to web__3.
				Config: config(td4),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("rollback")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{stateValue("service_name", knownvalue.StringExact("web__3"))},
				Check:             onlyOn("web__3", "web__4", "web__5"),
			},
		},
	})
}

// TestAccPhasedDeployment_unmanagedStepPolicy: a step scaling policy created on production
// outside Terraform (the configuration cannot describe one) makes a deploy refuse before any
// write; with discard_unmanaged the rollout drops it with the old scalable target.
func TestAccPhasedDeployment_unmanagedStepPolicy(t *testing.T) {
	e := newAccEnv(t)
	withDiscard := func(td string, discard bool) string {
		block := strings.Replace(scheduledScalingHCL, "    max_capacity = 10\n",
			fmt.Sprintf("    max_capacity = 10\n    discard_unmanaged = %v\n", discard), 1)
		return e.config(deploymentConfig(td, block))
	}
	addStepPolicy := func() {
		_, err := e.scalingClient().PutScalingPolicy(context.Background(), &applicationautoscaling.PutScalingPolicyInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, PolicyName: aws.String("burst"),
			PolicyType: aastypes.PolicyTypeStepScaling,
			StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{
				AdjustmentType:  aastypes.AdjustmentTypeChangeInCapacity,
				StepAdjustments: []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(2)}},
			},
		})
		if err != nil {
			t.Fatalf("putting a step scaling policy on web__1 outside Terraform: %v", err)
		}
	}
	var mark int
	withBurst := wantScheduledScaling
	withBurst.Policies = append(slices.Clone(wantScheduledScaling.Policies), "burst StepScaling")
	slices.Sort(withBurst.Policies)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: withDiscard("web:1", false)},
			{
				PreConfig: addStepPolicy,
				Config:    withDiscard("web:2", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					betweenPlanAndApply(func() { mark = e.writes() }),
				}},
				ExpectError: wrapped("Invalid Auto Scaling", "(step scaling policy burst)", "auto_scaling.discard_unmanaged = true", "Nothing was changed."),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: allOf(e.noWritesSince(&mark), e.expectScaling(map[string]liveScaling{"web__1": withBurst})),
			},
			{
				Config: withDiscard("web:2", true),
				Check:  e.expectScaling(map[string]liveScaling{"web__1": {}, "web__2": wantScheduledScaling}),
			},
		},
	})
}

// TestAccPhasedDeployment_leftSuspensionIsLifted: production's auto scaling is left suspended,
// with the tag that records how it was, as an apply killed right after suspending it leaves it.
// The configuration did not change, yet the plan is an auto scaling update in place, and its
// apply restores the recorded state (here: scale-out was suspended before) and removes the tag;
// the plan after is empty (DESIGN.md §5.6.1).
func TestAccPhasedDeployment_leftSuspensionIsLifted(t *testing.T) {
	e := newAccEnv(t)
	config := e.config(deploymentConfig("web:1", scheduledScalingHCL))
	leaveSuspended := func() {
		ctx := context.Background()
		arn := "arn:aws:ecs:us-east-1:000000000000:service/prod/web__1"
		if _, err := e.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []ecstypes.Tag{
			{Key: aws.String(deploy.SuspendedTag), Value: aws.String("in=false,out=true,scheduled=false")},
		}}); err != nil {
			t.Fatalf("tagging web__1: %v", err)
		}
		if _, err := e.scalingClient().RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web__1"),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			SuspendedState: &aastypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(true), DynamicScalingOutSuspended: aws.Bool(true),
				ScheduledScalingSuspended: aws.Bool(true)},
		}); err != nil {
			t.Fatalf("suspending web__1's auto scaling: %v", err)
		}
	}
	outSuspended := wantScheduledScaling
	outSuspended.Target = "2–10 suspended in=false out=true scheduled=false"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: leaveSuspended,
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("update-in-place")),
				}},
				Check: allOf(
					e.expectScaling(map[string]liveScaling{"web__1": outSuspended}),
					func(*terraform.State) error {
						if s := e.status("web__1"); s == nil || s.Tags[deploy.SuspendedTag] != "" {
							return fmt.Errorf("web__1 after the apply: %+v, want no %s tag", s, deploy.SuspendedTag)
						}
						return nil
					},
				),
			},
			{Config: config, PlanOnly: true},
		},
	})
}
