package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// expectCreates is a TestCheckFunc: CreateService was called exactly n times so far.
func (e *accEnv) expectCreates(n int) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := e.calls("ecs:CreateService"); got != n {
			return fmt.Errorf("ecs:CreateService was called %d times, want %d", got, n)
		}
		return nil
	}
}

func TestAccPhasedDeployment_postProductionRollback(t *testing.T) {
	e := newAccEnv(t)
	rollbackTo := func(rev int64, name string, count, prevCount int64, prevName string) resource.TestStep {
		td := fmt.Sprintf("web:%d", rev)
		return resource.TestStep{
			Config: e.config(webConfig(td, int(count), "")),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				planValue("planned_action", knownvalue.StringExact("rollback")),
				planValue("revision", knownvalue.Int64Exact(rev)),
				planValue("service_name", knownvalue.StringExact(name)),
				planValue("planned_phases", phasesValue(count, 0)),
				planValue("highest_revision", knownvalue.Int64Exact(2)),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("service_name", knownvalue.StringExact(name)),
				stateValue("current.desired_count", knownvalue.Int64Exact(count)),
				stateValue("previous.service_name", knownvalue.StringExact(prevName)),
				stateValue("previous.desired_count", knownvalue.Int64Exact(prevCount)),
				stateValue("highest_revision", knownvalue.Int64Exact(2)),
				stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
			},
			Check: allOf(
				e.expectCreates(2), // web__1 and web__2, never a third
				e.expectOwned(map[string][2]int{name: {int(count), int(count)}, prevName: {0, 0}}),
			),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.config(webConfig("web:1", 4, ""))},
			{
				Config: e.config(webConfig("web:2", 6, "")),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
					stateValue("previous.desired_count", knownvalue.Int64Exact(4)),
				},
				Check: e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {6, 6}}),
			},
			// Back to web:1: web__1 returns at its recorded 4 tasks, web__2 becomes previous.
			rollbackTo(1, "web__1", 4, 6, "web__2"),
			// And forward to web:2 the same way.
			rollbackTo(2, "web__2", 6, 4, "web__1"),
			// A configured count other than the recorded one is the count web__1 returns at,
			// so that the next plan is empty.
			rollbackTo(1, "web__1", 5, 6, "web__2"),
			{
				// With the previous service gone, the same change deploys a new revision.
				PreConfig: func() {
					if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{
						Cluster: aws.String("prod"), Service: aws.String("web__2"), Force: aws.Bool(true),
					}); err != nil {
						t.Fatalf("deleting web__2 outside Terraform: %v", err)
					}
				},
				Config: e.config(webConfig("web:2", 6, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(3)),
					planValue("planned_phases", phasesValue(2, 4, 3, 3, 6, 0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__3")),
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
					stateValue("previous.desired_count", knownvalue.Int64Exact(5)),
				},
				Check: allOf(e.expectCreates(3), e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__3": {6, 6}})),
			},
		},
	})
}

func TestAccPhasedDeployment_scaleInPlace(t *testing.T) {
	e := newAccEnv(t)
	scaleTo := func(n int64) resource.TestStep {
		return resource.TestStep{
			Config: e.config(webConfig("web:1", int(n), "")),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				planValue("planned_action", knownvalue.StringExact("scale")),
				planValue("planned_phases", knownvalue.ListExact(nil)),
				planValue("revision", knownvalue.Int64Exact(1)),
				planValue("service_name", knownvalue.StringExact("web__1")),
				planValue("current.desired_count", knownvalue.Int64Exact(n)),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("service_name", knownvalue.StringExact("web__1")),
				stateValue("current.desired_count", knownvalue.Int64Exact(n)),
				stateValue("previous", knownvalue.Null()),
			},
			Check: allOf(e.expectCreates(1), e.expectOwned(map[string][2]int{"web__1": {int(n), int(n)}})),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.config(webConfig("web:1", 4, ""))},
			scaleTo(6),
			scaleTo(2),
		},
	})
}

// TestAccPhasedDeployment_retention deploys five times with retain_old_services = 1. The
// newest zero-count old service is kept, and so is the one recorded as previous even when it
// falls outside that window, since retention never deletes the previous service: after
// successful deployments the only zero-count service left is previous; after a rolled-back one,
// the failed revision fills the window and previous stays besides it.
func TestAccPhasedDeployment_retention(t *testing.T) {
	e := newAccEnv(t)
	deploy := func(td string, want map[string][2]int, previous string) resource.TestStep {
		return resource.TestStep{
			Config: e.config(webConfig(td, 2, "  retain_old_services = 1\n")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("previous.service_name", knownvalue.StringExact(previous)),
			},
			Check: e.expectOwned(want),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.config(webConfig("web:1", 2, "  retain_old_services = 1\n"))},
			deploy("web:2", map[string][2]int{"web__1": {0, 0}, "web__2": {2, 2}}, "web__1"),
			// web__1 is beyond the window of one and no longer previous: deleted.
			deploy("web:4", map[string][2]int{"web__2": {0, 0}, "web__3": {2, 2}}, "web__2"),
			deploy("web:1", map[string][2]int{"web__3": {0, 0}, "web__4": {2, 2}}, "web__3"),
			{
				Config:      e.config(webConfig("web:3", 2, "  retain_old_services = 1\n")),
				ExpectError: regexp.MustCompile(`Deployment Rolled Back`),
			},
			// The failed web__5 is the newest zero-count service and fills the window; web__3,
			// previous during setup, was kept then and is deleted once web__4 becomes previous.
			deploy("web:2", map[string][2]int{"web__4": {0, 0}, "web__5": {0, 0}, "web__6": {2, 2}}, "web__4"),
		},
	})
}

func TestAccPhasedDeployment_foreignServiceUntouched(t *testing.T) {
	e := newAccEnv(t)
	var foreignBefore [2]int
	untouched := func(*terraform.State) error {
		s := e.status("web__2")
		if s == nil || s.Status != "ACTIVE" || [2]int{s.Desired, s.Running} != foreignBefore || s.TaskDefinition != "web:2" || len(s.Tags) != 0 {
			return fmt.Errorf("the foreign web__2 changed: %+v, want ACTIVE at %v with web:2 and no tags", s, foreignBefore)
		}
		if desired, running := e.describe("web__2"); [2]int{desired, running} != foreignBefore {
			return fmt.Errorf("DescribeServices shows the foreign web__2 at %d desired, %d running; want %v", desired, running, foreignBefore)
		}
		if w := e.writesNaming("web__2"); len(w) > 0 {
			return fmt.Errorf("the provider wrote to the foreign web__2: %v", w)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             allOf(e.checkDestroyed, untouched),
		Steps: []resource.TestStep{
			{Config: e.config(webConfig("web:1", 4, ""))},
			{
				PreConfig: func() {
					if _, err := e.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{
						Cluster: aws.String("prod"), ServiceName: aws.String("web__2"),
						TaskDefinition: aws.String("web:2"), DesiredCount: aws.Int32(1),
					}); err != nil {
						t.Fatalf("creating the foreign web__2: %v", err)
					}
					waitRunning(t, e, "web__2", 1)
					foreignBefore = [2]int{1, 1}
					e.srv.ClearObservations()
				},
				Config: e.config(webConfig("web:2", 4, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(3)),
					planValue("service_name", knownvalue.StringExact("web__3")),
					planValue("highest_revision", knownvalue.Int64Exact(3)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__3")),
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
				},
				Check: allOf(untouched, e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__3": {4, 4}})),
			},
		},
	})
}
