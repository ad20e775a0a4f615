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
		{"no desired_count on the first deployment", td, wrapped("Missing Desired Count", "desired_count is required on the first deployment")},
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
