package provider

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// Acceptance tests of ecs_phased_deployment against AWS behaviours that ecslocal switches on:
// eventually consistent reads (DESIGN.md §5.3) and names that stay DRAINING after a delete
// (§10.5).

// withConsistencyLag makes every cluster and service created from now on MISSING from
// DescribeClusters and DescribeServices, and absent from ListServices, for d.
func (e *accEnv) withConsistencyLag(d time.Duration) {
	cfg := e.srv.CurrentConfig()
	cfg.ConsistencyLag = ecslocal.Duration(d)
	e.srv.Configure(cfg)
}

// expectTookAtLeast is a TestCheckFunc: at least d has passed since *began (set by PreConfig).
func expectTookAtLeast(began *time.Time, d time.Duration) func(*terraform.State) error {
	return func(*terraform.State) error {
		if took := time.Since(*began); took < d {
			return fmt.Errorf("the apply took %s, less than %s: ecslocal's consistency lag was not in effect", took, d)
		}
		return nil
	}
}

// TestAccPhasedDeployment_consistencyLag creates, deploys and destroys through Terraform while
// every new service is MISSING from DescribeServices and ListServices for 2 s: each apply waits
// through the lag, both rollouts succeed without a rollback (the new service's desired count
// only grows), and destroy leaves no ACTIVE service.
func TestAccPhasedDeployment_consistencyLag(t *testing.T) {
	const lag = 2 * time.Second
	e := newAccEnv(t)
	e.withConsistencyLag(lag)
	var began time.Time
	start := func() { began = time.Now() }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				PreConfig: start,
				Config:    e.config(webConfig("web:1", 4, "")),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
				},
				Check: allOf(
					expectTookAtLeast(&began, lag),
					e.expectOwned(map[string][2]int{"web__1": {4, 4}}),
				),
			},
			{
				PreConfig: start,
				Config:    e.config(webConfig("web:2", 4, "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("service_name", knownvalue.StringExact("web__2")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__2")),
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
					stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
				},
				Check: allOf(
					expectTookAtLeast(&began, lag),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
					func(*terraform.State) error {
						// Phases of 25, 50 and 100 %: web__2 only grows; a rollback would shrink it.
						if got, want := e.desiredChanges("web__2"), []string{"web__2=0", "web__2=1", "web__2=2", "web__2=4"}; !slices.Equal(got, want) {
							return fmt.Errorf("web__2's desired counts %v, want %v", got, want)
						}
						return nil
					},
				),
			},
			{
				Config:   e.config(webConfig("web:2", 4, "")),
				PlanOnly: true,
			},
		},
	})
}

// deploymentIDConfig is 4 tasks of td in phases of 25, 50 and 100 % behind target group tg,
// with the given deployment_id.
func (e *accEnv) deploymentIDConfig(td, tg, id string) string {
	return e.config(webConfig(td, 4, fmt.Sprintf(`
  deployment_id = %q
  service {
    network_configuration {
      subnets = ["subnet-a", "subnet-b"]
    }
    load_balancer {
      target_group_arn = %q
      container_name   = "web"
      container_port   = %d
    }
  }
`, id, tg, healthPort)))
}

// TestAccPhasedDeployment_replacementReusesDrainingName replaces the resource by changing its
// deployment_id, behind a target group whose deregistration delay keeps a deleted service
// DRAINING for 3 s (300 s under healthScale). Terraform destroys the old deployment, then
// creates the new one: the destroy returns only once web__1 is INACTIVE, so the create gets the
// name web__1 again, and no CreateService is refused. It runs with a 2 s consistency lag
// (DESIGN.md §5.3): each new service, the re-created web__1 included, is MISSING from
// DescribeServices and absent from ListServices for 2 s, and the apply waits through it.
func TestAccPhasedDeployment_replacementReusesDrainingName(t *testing.T) {
	const lag = 2 * time.Second
	e := newAccEnv(t)
	e.withConsistencyLag(lag)
	tg := balanceAccEnv(e)
	td := e.registerBalancedTD("healthy")
	var m servingMark
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.deploymentIDConfig(td, tg, "blue"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("deployment_id", knownvalue.StringExact("blue")),
				},
			},
			{
				PreConfig: e.markNow(&m),
				Config:    e.deploymentIDConfig(td, tg, "green"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("service_name", knownvalue.StringExact("web__1")),
					stateValue("deployment_id", knownvalue.StringExact("green")),
					stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
				},
				Check: func(*terraform.State) error {
					s := e.status("web__1")
					if s == nil || s.Status != "ACTIVE" || s.Tags["phased-deployment:id"] != "green" || s.Running != 4 {
						return fmt.Errorf("web__1 after the replacement: %+v, want ACTIVE, of deployment green, 4 running", s)
					}
					var creates []string
					var created time.Time
					for _, c := range e.srv.Calls()[m.calls:] {
						if c.Action() == "ecs:CreateService" {
							creates = append(creates, c.Resource+" "+c.ErrorCode)
							created = c.Time
						}
					}
					if !slices.Equal(creates, []string{"web__1 "}) {
						return fmt.Errorf("CreateService calls (service, error) %q, want one create of web__1 that succeeded", creates)
					}
					// The new web__1 was MISSING for the lag, and the apply waited it out.
					if took := time.Since(created); took < lag {
						return fmt.Errorf("the apply ended %s after web__1 was created, within the %s lag: ecslocal's consistency lag was not in effect", took, lag)
					}
					// The old web__1 drained for the deregistration delay before the create.
					var draining, inactive time.Time
					for _, te := range e.srv.Timeline()[m.timeline:] {
						if te.Service != "web__1" {
							continue
						}
						if te.Status == "DRAINING" && draining.IsZero() {
							draining = te.Time
						}
						if te.Status == "INACTIVE" && inactive.IsZero() {
							inactive = te.Time
						}
					}
					if draining.IsZero() || inactive.Sub(draining) < 2500*time.Millisecond {
						return fmt.Errorf("the old web__1 was DRAINING from %v to %v; want it to drain for the 3 s deregistration delay", draining, inactive)
					}
					for _, c := range e.srv.Calls()[m.calls:] {
						if c.Action() == "ecs:CreateService" && c.Time.Before(inactive) {
							return fmt.Errorf("web__1 was created again at %v, before the old one was INACTIVE at %v", c.Time, inactive)
						}
					}
					return nil
				},
			},
		},
	})
}
