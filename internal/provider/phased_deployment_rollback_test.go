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

// lateFailurePhases fail a crash-after revision in phase 2: phase 1 passes before its task
// crashes, and phase 2 bakes long enough for two crashes to reach the threshold.
const lateFailurePhases = `
  phase { count = 1 }
  phase {
    count     = 2
    bake_time = "2s"
  }
  phase { count = 4 }
  failed_task_threshold = 2
`

func TestAccPhasedDeployment_rollbackPerPhase(t *testing.T) {
	testAccRollback(t, "", []string{
		"web__3=0",
		"web__3=1", "web__1=3", // phase 1
		"web__3=2", "web__1=2", // phase 2, then its tasks crash while baking
		"web__1=3", "web__3=1", // R2: old back up first, then new down
		"web__1=4", "web__3=0", // R1
	})
}

func TestAccPhasedDeployment_rollbackAllAtOnce(t *testing.T) {
	testAccRollback(t, "\n  rollback { all_phases_at_once = true }\n", []string{
		"web__3=0",
		"web__3=1", "web__1=3", // phase 1
		"web__3=2", "web__1=2", // phase 2, then its tasks crash while baking
		"web__1=4", "web__3=0", // one step: old straight back to P, then new to 0
	})
}

// testAccRollback deploys web:1 at 4, then two revisions that fail: web:3 crashes on start and
// fails in phase 1, a crash-after revision fails in phase 2. Each is rolled back, leaving
// web__1 in production at 4 tasks and the failed revision at 0; wantLate is the order of the
// desired-count changes of the second failure, from ecslocal's timeline.
func testAccRollback(t *testing.T, rollbackBlock string, wantLate []string) {
	e := newAccEnv(t)
	crashLater := e.registerTaskDefinition("crash-after=800ms")
	stable := e.config(webConfig("web:1", 4, rollbackBlock))
	rolledBack := func(highest int64) map[string]string {
		return map[string]string{
			"service_name": "web__1", "revision": "1", "task_definition": "web:1",
			"current.service_name": "web__1", "current.desired_count": "4", "previous.%": "",
			"highest_revision":    fmt.Sprint(highest),
			"last_rollout.status": "rolled_back", "last_rollout.revision": fmt.Sprint(highest),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: stable},
			{
				// A revision that crashes on start fails in phase 1; only R1 runs, and web__1
				// never leaves its 4 tasks.
				PreConfig: e.srv.ClearObservations,
				Config:    e.config(webConfig("web:3", 4, rollbackBlock)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(2)),
				}},
				ExpectError: wrapped("Deployment Rolled Back", "revision 2 (web__2) failed in phase 1"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // web:3 is still configured
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					// The same deployment is offered again, as the next free revision.
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(3)),
					planValue("service_name", knownvalue.StringExact("web__3")),
				}},
				Check: allOf(
					expectState(rolledBack(2)),
					e.expectOwned(map[string][2]int{"web__1": {4, 4}, "web__2": {0, 0}}),
					e.expectDesiredChanges([]string{"web__1", "web__2"}, []string{"web__2=0", "web__2=1", "web__2=0"}),
				),
			},
			{
				// A revision whose tasks run, then crash, fails in phase 2.
				PreConfig:   e.srv.ClearObservations,
				Config:      e.config(deploymentConfig(crashLater, lateFailurePhases+rollbackBlock)),
				ExpectError: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase 2"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: allOf(
					expectState(rolledBack(3)),
					e.expectOwned(map[string][2]int{"web__1": {4, 4}, "web__2": {0, 0}, "web__3": {0, 0}}),
					e.expectDesiredChanges([]string{"web__1", "web__3"}, wantLate),
				),
			},
			{
				// Back to the configuration in production: nothing to do, and state shows the
				// failed rollouts' record.
				Config: stable,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("current.service_name", knownvalue.StringExact("web__1")),
					stateValue("current.desired_count", knownvalue.Int64Exact(4)),
					stateValue("previous", knownvalue.Null()),
					stateValue("highest_revision", knownvalue.Int64Exact(3)),
					stateValue("last_rollout.status", knownvalue.StringExact("rolled_back")),
					stateValue("last_rollout.reason", knownvalue.StringRegexp(regexp.MustCompile(`tasks of web__3 failed \(threshold 2\)`))),
				},
			},
		},
	})
}

// expectDesiredChanges is a TestCheckFunc on the order of desired-count changes of services.
func (e *accEnv) expectDesiredChanges(names, want []string) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := e.desiredChanges(names...); !slices.Equal(got, want) {
			return fmt.Errorf("desired-count changes of %v on ecslocal's timeline:\n got %v\nwant %v", names, got, want)
		}
		return nil
	}
}
