package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// betweenPlanAndApply is a pre-apply plan check that changes the world after Terraform saved
// its plan and before it applies that plan: what an auto scaling activity or a colleague with
// the AWS CLI does while a pipeline waits for approval.
type betweenPlanAndApply func()

func (f betweenPlanAndApply) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	f()
}

// writeActions are the calls that change something.
// writes counts every write call ecslocal has served so far (ecslocal marks each call that
// changes anything as a write).
func (e *accEnv) writes() int {
	n := 0
	for _, c := range e.srv.Calls() {
		if c.Write {
			n++
		}
	}
	return n
}

// noWritesSince is a check that no write call was served after mark was taken.
func (e *accEnv) noWritesSince(mark *int) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := e.writes(); got != *mark {
			return fmt.Errorf("%d write calls after the plan was made, want none: a refused apply must change nothing", got-*mark)
		}
		return nil
	}
}

// TestAccPhasedDeployment_autoScalingMoveThenScalingChange: auto scaling moved production from 4
// to 7, then only the target tracking policy changes. The plan must not promise the count it
// cannot know; apply records the live one.
func TestAccPhasedDeployment_autoScalingMoveThenScalingChange(t *testing.T) {
	e := newAccEnv(t)
	withTarget := func(target int) string {
		return e.config(deploymentConfig("web:1", fmt.Sprintf(`
  auto_scaling {
    min_capacity = 2
    max_capacity = 10
    target_tracking {
      name                   = "cpu"
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
      target_value           = %d
    }
  }
`, target)))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: withTarget(60), Check: e.expectOwned(map[string][2]int{"web__1": {4, 4}})},
			{
				PreConfig: e.autoScale("web__1", 7),
				Config:    withTarget(70),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					planValue("planned_action", knownvalue.StringExact("update-in-place")),
					plancheck.ExpectUnknownValue(addr, attrPath("current.desired_count")),
					planValue("current.service_name", knownvalue.StringExact("web__1")),
					planValue("planned_phases", knownvalue.ListExact(nil)),
				}},
				ConfigStateChecks: nil,
				Check: allOf(
					expectState(map[string]string{"current.desired_count": "7", "service_name": "web__1"}),
					e.expectOwned(map[string][2]int{"web__1": {7, 7}}),
				),
			},
			{Config: withTarget(70), PlanOnly: true},
		},
	})
}

// TestAccPhasedDeployment_outsideScaleDownWithoutDesiredCount: production was created at 4, the
// configuration dropped desired_count, and someone scaled production to 2. A new task
// definition starts from the recorded 4 (setup restores production first), and the plan says
// so.
func TestAccPhasedDeployment_outsideScaleDownWithoutDesiredCount(t *testing.T) {
	e := newAccEnv(t)
	unset := func(td string) string {
		return e.config(fmt.Sprintf(`
resource "ecs_phased_deployment" "web" {
  cluster         = "prod"
  name            = "web"
  task_definition = %q
  phase { percent = 50 }
  phase { percent = 100 }
}
`, td))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.config(deploymentConfig("web:1", "  phase { percent = 50 }\n  phase { percent = 100 }\n"))},
			{
				Config: unset("web:1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("none")),
				}},
			},
			{
				PreConfig: func() {
					e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web__1"), DesiredCount: aws.Int32(2)})
					waitRunning(t, e, "web__1", 2)
				},
				Config: unset("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("service_name", knownvalue.StringExact("web__2")),
					planValue("current.desired_count", knownvalue.Int64Exact(4)),
					planValue("previous.desired_count", knownvalue.Int64Exact(4)),
					planValue("planned_phases", phasesValue(2, 2, 4, 0)),
				}},
				Check: e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
			},
			{Config: unset("web:2"), PlanOnly: true},
		},
	})
}

// TestAccPhasedDeployment_autoScalingMoveBetweenPlanAndApply: a saved plan for a new task
// definition is applied after auto scaling moved production. The plan left the counts auto
// scaling decides unknown, so Terraform's second planning at apply agrees with the first one,
// and the old service's counts follow the count auto scaling chose.
func TestAccPhasedDeployment_autoScalingMoveBetweenPlanAndApply(t *testing.T) {
	e := newAccEnv(t)
	config := func(td string) string {
		return e.config(deploymentConfig(td, autoScalingBlockHCL+"  phase { percent = 50 }\n  phase { percent = 100 }\n"))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config("web:1")},
			{
				Config: config("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("service_name", knownvalue.StringExact("web__2")),
					planValue("current.desired_count", knownvalue.Int64Exact(4)),
					plancheck.ExpectUnknownValue(addr, attrPath("previous.desired_count")),
					planValue("previous.service_name", knownvalue.StringExact("web__1")),
					betweenPlanAndApply(e.autoScale("web__1", 6)),
				}},
				Check: allOf(
					expectState(map[string]string{
						"current.desired_count": "4", "previous.desired_count": "6",
						"planned_phases.0.new_count": "2", "planned_phases.0.old_count": "3",
						"planned_phases.1.new_count": "4", "planned_phases.1.old_count": "0",
					}),
					e.expectScalingOn("web__2"),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
				),
			},
			{Config: config("web:2"), PlanOnly: true},
		},
	})
}

// TestAccPhasedDeployment_stalePlanIsRefused: when what the plan promised no longer holds at
// apply (the previous service was deleted, production was scaled by hand), apply refuses
// before any write, and the next plan shows what will happen now.
func TestAccPhasedDeployment_stalePlanIsRefused(t *testing.T) {
	e := newAccEnv(t)
	config := func(td string) string { return e.config(deploymentConfig(td, "")) }
	var mark int
	markWrites := func() { mark = e.writes() }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config("web:1")},
			{Config: config("web:2")},
			{
				// The plan is a post-production rollback to web__1; web__1 is deleted before apply.
				Config: config("web:1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("rollback")),
					betweenPlanAndApply(func() {
						if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__1"), Force: aws.Bool(true)}); err != nil {
							t.Fatalf("deleting web__1 outside Terraform: %v", err)
						}
						markWrites()
					}),
				}},
				ExpectError: wrapped("Plan Out of Date", "planned_action: the plan has rollback, apply finds deploy", "web__1 no longer exists"),
			},
			{
				// Nothing was written; the next plan deploys a new revision instead, and says why.
				PreConfig: func() {
					if err := e.noWritesSince(&mark)(nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: config("web:1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("service_name", knownvalue.StringExact("web__3")),
				}},
				Check: e.expectOwned(map[string][2]int{"web__2": {0, 0}, "web__3": {4, 4}}),
			},
			{
				// A post-production rollback to web__2, but production is scaled by hand after the
				// plan: the count the plan recorded for it as previous no longer holds.
				Config: config("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("rollback")),
					planValue("previous.desired_count", knownvalue.Int64Exact(4)),
					planValue("planned_phases", phasesValue(4, 0)),
					betweenPlanAndApply(func() {
						e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web__3"), DesiredCount: aws.Int32(6)})
						markWrites()
					}),
				}},
				ExpectError: wrapped("Plan Out of Date", "previous.desired_count: the plan has 4, apply finds 6"),
			},
			{
				PreConfig: func() {
					if err := e.noWritesSince(&mark)(nil); err != nil {
						t.Fatal(err)
					}
					waitRunning(t, e, "web__3", 6)
				},
				Config: config("web:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("previous.desired_count", knownvalue.Int64Exact(6)),
					planValue("service_name", knownvalue.StringExact("web__2")),
				}},
				Check: e.expectOwned(map[string][2]int{"web__2": {4, 4}, "web__3": {0, 0}}),
			},
			{Config: config("web:2"), PlanOnly: true},
		},
	})
}
