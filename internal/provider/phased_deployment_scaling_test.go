package provider

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const autoScalingBlockHCL = `
  auto_scaling {
    min_capacity = 2
    max_capacity = 10
    target_tracking {
      name                   = "cpu60"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = 60
    }
  }
`

// expectScalingOn is a TestCheckFunc: the scalable target (2–10) and the cpu60 policy are on
// the service named production and on no other service.
func (e *accEnv) expectScalingOn(production string) func(*terraform.State) error {
	return func(*terraform.State) error {
		for _, s := range e.srv.Status().Services {
			switch {
			case s.Name == production && s.Status == "ACTIVE":
				if a := s.AutoScaling; a == nil || a.Min != 2 || a.Max != 10 || !slices.Equal(a.Policies, []string{"cpu60"}) {
					return fmt.Errorf("auto scaling of production %s = %+v, want 2–10 with policy cpu60", s.Name, a)
				}
			case s.AutoScaling != nil:
				return fmt.Errorf("%s still has auto scaling %+v; only production %s should", s.Name, *s.AutoScaling, production)
			}
		}
		if e.status(production) == nil {
			return fmt.Errorf("production %s is not in ecslocal", production)
		}
		return nil
	}
}

// autoScale moves a service's count as a scaling activity would.
func (e *accEnv) autoScale(name string, n int) func() {
	return func() {
		if _, err := e.srv.AutoScale("prod", name, n); err != nil {
			e.t.Fatalf("auto scaling %s to %d: %v", name, n, err)
		}
		waitRunning(e.t, e, name, n)
	}
}

// TestAccPhasedDeployment_autoScaling creates at 4 tasks, then leaves the count to auto scaling
// (desired_count omitted): deployments and rollbacks keep the count it chose.
func TestAccPhasedDeployment_autoScaling(t *testing.T) {
	e := newAccEnv(t)
	config := func(td string) string {
		return e.config(deploymentConfig(td, autoScalingBlockHCL))
	}
	scaled := func(td string) string {
		return e.config(fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  phase { percent = 25 }
  phase { percent = 50 }
  phase { percent = 100 }
%s
}
`, td, autoScalingBlockHCL))
	}
	// noDiff moves the production count as auto scaling would, then expects an empty plan.
	noDiff := func(cfg string, moved func()) resource.TestStep {
		return resource.TestStep{PreConfig: moved, Config: cfg, PlanOnly: true}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config("web:1"),
				Check:  allOf(e.expectScalingOn("web__1"), e.expectOwned(map[string][2]int{"web__1": {4, 4}})),
			},
			// Auto scaling moves the count: not drift, so the plan is empty.
			noDiff(config("web:1"), e.autoScale("web__1", 7)),
			{
				// Without desired_count the new revision takes the 7 tasks auto scaling chose.
				Config: scaled("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(2)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__2")),
					stateValue("current.desired_count", knownvalue.Int64Exact(7)),
					stateValue("previous.desired_count", knownvalue.Int64Exact(7)),
					stateValue("planned_phases", phasesValue(2, 5, 4, 3, 7, 0)),
				},
				Check: allOf(e.expectScalingOn("web__2"), e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {7, 7}})),
			},
			noDiff(scaled("web:2"), e.autoScale("web__2", 9)),
			{
				// A failed revision: auto scaling goes back on web__2 with its settings, and
				// web__2 back to the 9 tasks auto scaling had chosen.
				Config:      scaled("web:3"),
				ExpectError: regexp.MustCompile(`Deployment Rolled Back`),
			},
			{
				RefreshState: true, ExpectNonEmptyPlan: true,
				Check: allOf(
					e.expectScalingOn("web__2"),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {9, 9}, "web__3": {0, 0}}),
					expectState(map[string]string{"service_name": "web__2", "last_rollout.status": "rolled_back", "highest_revision": "3"}),
				),
			},
			{
				// Post-production rollback to web:1: web__1 returns at its recorded 7 tasks and
				// auto scaling moves across.
				Config: scaled("web:1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("rollback")),
					planValue("revision", knownvalue.Int64Exact(1)),
					planValue("current.desired_count", knownvalue.Int64Exact(7)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("current.desired_count", knownvalue.Int64Exact(7)),
				},
				Check: allOf(e.expectScalingOn("web__1"), e.expectOwned(map[string][2]int{"web__1": {7, 7}, "web__2": {0, 0}, "web__3": {0, 0}})),
			},
			noDiff(scaled("web:1"), e.autoScale("web__1", 3)),
		},
	})
}
