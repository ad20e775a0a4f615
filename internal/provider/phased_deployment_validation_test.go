package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// resourceWith is ecs_phased_deployment web with the given arguments besides cluster.
func resourceWith(body string) string {
	return fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster = "prod"
%s
}
`, body)
}

func TestAccPhasedDeployment_validation(t *testing.T) {
	const td = `  name = "web"` + "\n" + `  task_definition = "web:1"` + "\n"
	cases := []struct {
		name   string
		config string
		want   *regexp.Regexp
	}{
		{"a name with a dot", `  name = "web.app"` + "\n  task_definition = \"web:1\"\n  desired_count = 2", wrapped("Attribute name may contain only letters, digits, hyphens and underscores")},
		{"a name too long for its revision suffix", fmt.Sprintf("  name = %q\n  task_definition = \"web:1\"\n  desired_count = 2", strings.Repeat("w", 246)), wrapped("Attribute name string length must be between 1 and 245")},
		{"an empty name", `  name = ""` + "\n  task_definition = \"web:1\"\n  desired_count = 2", wrapped("Attribute name string length must be between 1 and 245")},
		{"a phase at 0 percent", td + "  desired_count = 2\n  phase { percent = 0 }", wrapped("Attribute phase[0].percent value must be between 1 and 100, got: 0")},
		{"a phase at 101 percent", td + "  desired_count = 2\n  phase { percent = 101 }", wrapped("Attribute phase[0].percent value must be between 1 and 100, got: 101")},
		{"a phase of 0 tasks", td + "  desired_count = 2\n  phase { count = 0 }\n  phase { percent = 100 }", wrapped("Attribute phase[0].count value must be at least 1, got: 0")},
		{"a phase with both percent and count", td + "  desired_count = 2\n  phase {\n    percent = 50\n    count = 1\n  }\n  phase { percent = 100 }", wrapped("phase[0] sets both phase[0].percent and phase[0].count")},
		{"a phase with neither percent nor count", td + "  desired_count = 2\n  phase { bake_time = \"1m\" }", wrapped("phase[0] sets neither phase[0].percent nor phase[0].count")},
		{"a negative desired_count", td + "  desired_count = -1", wrapped("Attribute desired_count value must be at least 0, got: -1")},
		{"bake times beyond the update timeout", td + "  desired_count = 2\n  phase {\n    percent = 50\n    bake_time = \"20m\"\n  }\n  phase {\n    percent = 100\n    bake_time = \"15m\"\n  }", wrapped("Bake Times Exceed the Timeout", "add up to 35m0s, more than the create timeout of 30m0s")},
		{"bake times beyond a configured update timeout", td + "  desired_count = 2\n  phase {\n    percent = 100\n    bake_time = \"10m\"\n  }\n  timeouts {\n    create = \"1h\"\n    update = \"5m\"\n  }", wrapped("Bake Times Exceed the Timeout", "more than the update timeout of 5m0s")},
		{"an unknown availability_zone_rebalancing", td + "  desired_count = 2\n  service { availability_zone_rebalancing = \"ON\" }", wrapped("Attribute service.availability_zone_rebalancing value must be one of")},
		{"a last phase short of desired_count", td + "  desired_count = 4\n  phase { percent = 25 }\n  phase { count = 2 }", wrapped("phase[1]: the last phase (phase 2) brings the new revision to 2 tasks, but the desired count is 4")},
		{"a bake_time that is not a duration", td + "  desired_count = 2\n  phase {\n    percent = 100\n    bake_time = \"2 minutes\"\n  }", wrapped("phase[0].bake_time", `"2 minutes" is not one`)},
		{"a negative steady_state_timeout", td + "  desired_count = 2\n  steady_state_timeout = \"-5m\"", wrapped("steady_state_timeout", `"-5m" is not one`)},
		{"min_capacity above max_capacity", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = 5\n    max_capacity = 2\n  }", wrapped("auto_scaling.max_capacity (2) is below auto_scaling.min_capacity (5)")},
		{"auto_scaling without max_capacity", td + "  desired_count = 2\n  auto_scaling { min_capacity = 1 }", wrapped(`"auto_scaling.max_capacity" must be specified`)},
		{"a failed_task_threshold of 0", td + "  desired_count = 2\n  failed_task_threshold = 0", wrapped("Attribute failed_task_threshold value must be at least 1, got: 0")},
		{"launch_type together with capacity_provider_strategy", td + "  desired_count = 2\n  service {\n    launch_type = \"FARGATE\"\n    capacity_provider_strategy { capacity_provider = \"FARGATE_SPOT\" }\n  }", wrapped("service.launch_type", "service.capacity_provider_strategy")},
		{"an unknown launch_type", td + "  desired_count = 2\n  service { launch_type = \"LAMBDA\" }", wrapped("Attribute service.launch_type value must be one of")},
		{"a negative retain_old_services", td + "  desired_count = 2\n  retain_old_services = -1", wrapped("Attribute retain_old_services value must be at least 0, got: -1")},
		{"an unknown propagate_tags", td + "  desired_count = 2\n  service { propagate_tags = \"ALL\" }", wrapped("Attribute service.propagate_tags value must be one of")},
		{"a service tag using the ownership key", td + "  desired_count = 2\n  service {\n    tags = { \"phased-deployment:id\" = \"x\" }\n  }", wrapped("service.tags")},
		{"no desired_count on the first deployment", td, wrapped("Invalid Desired Count", "desired_count is required on the first deployment")},
		{"a task_definition at revision 0", `  name = "web"` + "\n  task_definition = \"web:0\"\n  desired_count = 2", wrapped("Attribute task_definition must be family:revision, a family, or a task definition ARN, got: web:0")},
		{"a deployment_id with a character no tag value holds", td + "  desired_count = 2\n  deployment_id = \"prod/web#1\"", wrapped("Attribute deployment_id must be 1–256 characters allowed in an ECS tag value")},
		{"more than 20 phases", td + "  desired_count = 2\n" + strings.Repeat("  phase { percent = 100 }\n", 21), wrapped("Attribute phase list must contain at most 20 elements, got: 21")},
		{"an unknown predefined_metric_type", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = 1\n    max_capacity = 4\n    target_tracking {\n      name = \"cpu\"\n      predefined_metric_type = \"CPU\"\n      target_value = 60\n    }\n  }", wrapped("Attribute auto_scaling.target_tracking[0].predefined_metric_type value must be one of")},
		{"a scaling policy name with a slash", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = 1\n    max_capacity = 4\n    target_tracking {\n      name = \"cpu/60\"\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n      target_value = 60\n    }\n  }", wrapped("Attribute auto_scaling.target_tracking[0].name may not contain : or /")},
		{"a target_value of 0", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = 1\n    max_capacity = 4\n    target_tracking {\n      name = \"cpu\"\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n      target_value = 0\n    }\n  }", wrapped("Attribute auto_scaling.target_tracking[0].target_value value must be at least")},
		{"a negative scale_in_cooldown", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = 1\n    max_capacity = 4\n    target_tracking {\n      name = \"cpu\"\n      predefined_metric_type = \"ECSServiceAverageCPUUtilization\"\n      target_value = 60\n      scale_in_cooldown = -1\n    }\n  }", wrapped("Attribute auto_scaling.target_tracking[0].scale_in_cooldown value must be at least 0, got: -1")},
		{"a negative min_capacity", td + "  desired_count = 2\n  auto_scaling {\n    min_capacity = -1\n    max_capacity = 4\n  }", wrapped("Attribute auto_scaling.min_capacity value must be at least 0, got: -1")},
		{"a container_port of 0", td + "  desired_count = 2\n  service {\n    load_balancer {\n      target_group_arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1\"\n      container_name = \"web\"\n      container_port = 0\n    }\n  }", wrapped("Attribute service.load_balancer[0].container_port value must be between 1 and 65535, got: 0")},
		{"a network_configuration without subnets", td + "  desired_count = 2\n  service {\n    network_configuration { security_groups = [\"sg-1\"] }\n  }", wrapped(`"service.network_configuration.subnets" must be specified`)},
		{"two service_registries", td + "  desired_count = 2\n  service {\n    service_registries { registry_arn = \"arn:1\" }\n    service_registries { registry_arn = \"arn:2\" }\n  }", wrapped("Attribute service.service_registries list must contain at most 1 elements, got: 2")},
		{"a capacity provider weight above 1000", td + "  desired_count = 2\n  service {\n    capacity_provider_strategy {\n      capacity_provider = \"FARGATE\"\n      weight = 1001\n    }\n  }", wrapped("Attribute service.capacity_provider_strategy[0].weight value must be between 0 and 1000, got: 1001")},
		{"a negative health_check_grace_period_seconds", td + "  desired_count = 2\n  service { health_check_grace_period_seconds = -1 }", wrapped("Attribute service.health_check_grace_period_seconds value must be between 0 and 2147483647, got: -1")},
		{"a service tag using the revision key", td + "  desired_count = 2\n  service {\n    tags = { \"phased-deployment:revision\" = \"9\" }\n  }", wrapped("service.tags")},
		{"a create timeout that is not a duration", td + "  desired_count = 2\n  timeouts { create = \"soon\" }", wrapped(`timeouts { create = "soon" }`, `"soon" must be a string containing a sequence of decimal numbers`)},
	}
	// One TestCase runs every configuration as a plan-only step, which spares a Terraform
	// init and destroy per case. Before each step, and at the end, ecslocal must have seen no
	// call at all: bad input is caught before any AWS call, not even a read.
	e := newAccEnv(t)
	noCallsAfter := func(what string) error {
		if calls := e.srv.Calls(); len(calls) > 0 {
			return fmt.Errorf("after %s ecslocal recorded %d calls, the first %s; want none", what, len(calls), calls[0].Action())
		}
		return nil
	}
	var steps []resource.TestStep
	for i, tc := range cases {
		previous := "provider configuration"
		if i > 0 {
			previous = fmt.Sprintf("the case %q", cases[i-1].name)
		}
		steps = append(steps, resource.TestStep{
			PreConfig: func() {
				if err := noCallsAfter(previous); err != nil {
					t.Error(err)
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
			return noCallsAfter(fmt.Sprintf("the case %q", cases[len(cases)-1].name))
		}),
		Steps: steps,
	})
}
