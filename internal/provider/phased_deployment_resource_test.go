package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func webConfig(td string, desired int, extra string) string {
	return fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  desired_count   = %d

  phase { percent = 25 }
  phase { percent = 50 }
  phase { percent = 100 }
%s
}
`, td, desired, extra)
}

func phasesValue(pairs ...int64) knownvalue.Check {
	var checks []knownvalue.Check
	for i := 0; i < len(pairs); i += 2 {
		checks = append(checks, knownvalue.ObjectExact(map[string]knownvalue.Check{
			"new_count": knownvalue.Int64Exact(pairs[i]), "old_count": knownvalue.Int64Exact(pairs[i+1]),
		}))
	}
	return knownvalue.ListExact(checks)
}

const addr = "ecs_phased_deployment.web"

// createPhasesChecks checks a create's planned phases: the new revision's counts are known from
// the configuration; the old service's are known after apply, except the last phase's 0,
// because the plan reads nothing from AWS and cannot know whether an interrupted earlier apply
// left services of this deployment holding tasks.
func createPhasesChecks(news ...int64) []plancheck.PlanCheck {
	var checks []plancheck.PlanCheck
	for i, n := range news {
		p := tfjsonpath.New("planned_phases").AtSliceIndex(i)
		checks = append(checks, plancheck.ExpectKnownValue(addr, p.AtMapKey("new_count"), knownvalue.Int64Exact(n)))
		if i == len(news)-1 {
			checks = append(checks, plancheck.ExpectKnownValue(addr, p.AtMapKey("old_count"), knownvalue.Int64Exact(0)))
		} else {
			checks = append(checks, plancheck.ExpectUnknownValue(addr, p.AtMapKey("old_count")))
		}
	}
	return checks
}

func TestAccPhasedDeployment_basic(t *testing.T) {
	e := newAccEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(webConfig("web:1", 4, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: append([]plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("planned_action"), knownvalue.StringExact("create")),
				}, createPhasesChecks(1, 2, 4)...)},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("planned_phases"), phasesValue(1, 0, 2, 0, 4, 0)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact("prod/web")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_name"), knownvalue.StringExact("web__1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployment_id"), knownvalue.StringExact("prod/web")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("previous"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_rollout").AtMapKey("status"), knownvalue.StringExact("succeeded")),
				},
			},
			{
				ResourceName: addr, ImportState: true, ImportStateId: "prod/web", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"phase", "planned_action", "planned_phases", "last_rollout", "timeouts"},
			},
			{
				Config:             e.config(webConfig("web:1", 4, "")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: false,
			},
		},
	})
}

func TestAccPhasedDeployment_canary(t *testing.T) {
	e := newAccEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.config(webConfig("web:1", 8, ""))},
			{
				Config: e.config(webConfig("web:2", 8, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("planned_action"), knownvalue.StringExact("deploy")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("service_name"), knownvalue.StringExact("web__2")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("planned_phases"), phasesValue(2, 6, 4, 4, 8, 0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("service_name"), knownvalue.StringExact("web__2")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("previous").AtMapKey("service_name"), knownvalue.StringExact("web__1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("previous").AtMapKey("desired_count"), knownvalue.Int64Exact(8)),
				},
				Check: func(_ *terraform.State) error {
					got := e.services()
					if got["web__2"] != [2]int{8, 8} || got["web__1"][0] != 0 {
						return fmt.Errorf("ecslocal after the canary: %v", got)
					}
					return nil
				},
			},
		},
	})
}
