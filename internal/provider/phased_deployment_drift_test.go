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

func TestAccPhasedDeployment_disappears(t *testing.T) {
	e := newAccEnv(t)
	config := e.config(webConfig("web:1", 4, ""))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// Someone deletes the production service: refresh removes the resource from
				// state, and the plan creates it again.
				PreConfig: func() {
					e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web__1"), DesiredCount: aws.Int32(0)})
					if _, err := e.ecs.DeleteService(context.Background(), &ecs.DeleteServiceInput{
						Cluster: aws.String("prod"), Service: aws.String("web__1"), Force: aws.Bool(true),
					}); err != nil {
						t.Fatalf("deleting web__1 outside Terraform: %v", err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					planValue("planned_action", knownvalue.StringExact("create")),
				}},
				Check: func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources[addr]; ok {
						return fmt.Errorf("%s is still in state after its production service was deleted", addr)
					}
					return nil
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					// Nothing owned is left to deploy from, and ECS lets an INACTIVE name be
					// created again: a plain first deployment.
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("current.desired_count", knownvalue.Int64Exact(4)),
					stateValue("previous", knownvalue.Null()),
				},
				Check: allOf(e.expectCreates(2), e.expectOwned(map[string][2]int{"web__1": {4, 4}})),
			},
		},
	})
}

func TestAccPhasedDeployment_driftTaskDefinition(t *testing.T) {
	e := newAccEnv(t)
	config := e.config(webConfig("web:1", 4, ""))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// web__1 is switched to web:4 outside Terraform: the plan shows it and deploys
				// web:1 again as a new revision.
				PreConfig: func() {
					e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web__1"), TaskDefinition: aws.String("web:4")})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					planValue("task_definition", knownvalue.StringExact("web:1")),
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("revision", knownvalue.Int64Exact(2)),
					planValue("service_name", knownvalue.StringExact("web__2")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__2")),
					stateValue("current.task_definition", knownvalue.StringRegexp(regexp.MustCompile(`:task-definition/web:1$`))),
					// web__1 is previous as it is now, running web:4.
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
					stateValue("previous.task_definition", knownvalue.StringRegexp(regexp.MustCompile(`:task-definition/web:4$`))),
				},
				Check: func(*terraform.State) error {
					if s := e.status("web__2"); s == nil || s.TaskDefinition != "web:1" || s.Running != 4 {
						return fmt.Errorf("web__2 after the correction: %+v, want web:1 at 4 running", s)
					}
					return nil
				},
			},
			{
				// The count drifts too (no auto scaling): the plan scales it back.
				PreConfig: func() {
					e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web__2"), DesiredCount: aws.Int32(2)})
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					planValue("planned_action", knownvalue.StringExact("scale")),
					planValue("revision", knownvalue.Int64Exact(2)),
				}},
				Check: e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
			},
		},
	})
}
