package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// The health tests deploy services behind an Application Load Balancer's target group (DESIGN.md
// §7.4–§7.7): awsvpc tasks in two subnets, container web on port healthPort, in ip target group
// "web" with AWS's default health settings (a check every 30 s, unhealthy after 2 failed checks,
// a 300 s deregistration delay), which ecslocal runs a hundred times faster.
const (
	healthScale = 0.01
	healthPort  = 8080
)

// balanceAccEnv gives the env a load balancer "front" forwarding to ip target group "web" and
// ecslocal's AWS durations under healthScale, and returns the target group's ARN.
func balanceAccEnv(e *accEnv) string {
	e.t.Helper()
	cfg := e.srv.CurrentConfig()
	cfg.TimeScale = healthScale
	e.srv.Configure(cfg)
	if err := e.srv.ApplySeed(ecslocal.Seed{LoadBalancers: []ecslocal.SeedLoadBalancer{{
		Name: "front", TargetGroups: []ecslocal.SeedTargetGroup{{Name: "web", Port: healthPort, TargetType: "ip"}},
	}}}); err != nil {
		e.t.Fatal(err)
	}
	tg, ok := e.srv.TargetGroupArn("web")
	if !ok {
		e.t.Fatal("target group web was not seeded")
	}
	return tg
}

// registerBalancedTD registers a task definition of family web, network mode awsvpc, whose
// essential container web maps healthPort and answers ELB health checks as elbHealth says
// (ecslocal's ecslocal.elb-health label: healthy, unhealthy, …); it returns family:revision.
func (e *accEnv) registerBalancedTD(elbHealth string) string {
	e.t.Helper()
	return e.registerBalancedTDWith(map[string]string{"ecslocal.elb-health": elbHealth}, nil)
}

// registerBalancedTDWith is registerBalancedTD with ecslocal's health labels and an optional
// container health check.
func (e *accEnv) registerBalancedTDWith(labels map[string]string, hc *ecstypes.HealthCheck) string {
	e.t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(healthPort)}},
			DockerLabels: labels, HealthCheck: hc,
		}},
	})
	if err != nil {
		e.t.Fatalf("registering a task definition with labels %v: %v", labels, err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// balancedConfig is webConfig (4 tasks in phases of 25, 50 and 100 %) behind target group tg.
func (e *accEnv) balancedConfig(td, tg string) string {
	return e.config(webConfig(td, 4, balancedService(tg)))
}

// balancedService is the service block of awsvpc tasks in two subnets whose container web port
// healthPort is behind target group tg.
func balancedService(tg string) string {
	return fmt.Sprintf(`
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
`, tg, healthPort)
}

// servingMark is a point on ecslocal's timeline and call log, taken by a step's PreConfig.
type servingMark struct {
	timeline, calls int
}

func (e *accEnv) markNow(m *servingMark) func() {
	return func() {
		m.timeline, m.calls = len(e.srv.Timeline()), len(e.srv.Calls())
	}
}

// expectServing is a TestCheckFunc on the serving-capacity invariant behind a load balancer
// (DESIGN.md §7.4, §13.1): from the mark on, the targets that tg reports healthy, summed over
// every service (ecslocal.ServingTimeline), never drop below floor. The revisions these tests
// roll out either serve or never do, so no dip is explained by the new revision's own tasks.
func (e *accEnv) expectServing(m *servingMark, floor int, tg string) func(*terraform.State) error {
	return e.expectServingUntil(m, nil, floor, tg)
}

// expectServingUntil is expectServing up to mark until (nil: up to now).
func (e *accEnv) expectServingUntil(m, until *servingMark, floor int, tg string) func(*terraform.State) error {
	return func(*terraform.State) error {
		timeline := e.srv.Timeline()
		if m.timeline < 1 || m.timeline > len(timeline) {
			return fmt.Errorf("timeline mark %d of %d entries", m.timeline, len(timeline))
		}
		start := timeline[m.timeline-1].Time
		if until != nil {
			timeline = timeline[:until.timeline]
		}
		points := ecslocal.ServingTimeline(timeline, tg)
		var seen []string
		for i, p := range points {
			if p.Time.Before(start) && i+1 < len(points) && !points[i+1].Time.After(start) {
				continue // superseded before the mark
			}
			seen = append(seen, fmt.Sprintf("+%s:%d", p.Time.Sub(start).Round(time.Millisecond), p.Healthy))
			if p.Healthy < floor {
				return fmt.Errorf("serving capacity of target group web dipped to %d healthy targets (< %d); since the mark: %s", p.Healthy, floor, strings.Join(seen, " "))
			}
		}
		if len(seen) == 0 {
			return fmt.Errorf("no serving capacity recorded for target group web since the mark")
		}
		e.t.Logf("serving capacity of target group web since the mark (time:healthy targets): %s", strings.Join(seen, " "))
		return nil
	}
}

// expectShrinksAfterServing is a TestCheckFunc on the rule that the side that shrinks next
// shrinks only after the side that grew serves (DESIGN.md §7.4), for a revision whose tasks stop
// serving later, so that the serving floor itself may dip by its own tasks: from the mark on,
// whenever shrinker's desired count went down, grower had as many healthy targets in tg as its
// desired count.
func (e *accEnv) expectShrinksAfterServing(m *servingMark, tg, grower, shrinker string) func(*terraform.State) error {
	return func(*terraform.State) error {
		desired, healthy := map[string]int{}, map[string]int{}
		shrinks := 0
		for i, en := range e.srv.Timeline() {
			if en.Service != grower && en.Service != shrinker {
				continue
			}
			before, seen := desired[en.Service]
			desired[en.Service], healthy[en.Service] = en.Desired, en.HealthyTargets[tg]
			if i < m.timeline || en.Service != shrinker || !seen || en.Desired >= before {
				continue
			}
			shrinks++
			if healthy[grower] < desired[grower] || desired[grower] == 0 {
				return fmt.Errorf("%s shrank %d→%d at %s while %s served %d of its %d tasks", shrinker, before, en.Desired, en.Time.Format(time.StampMilli), grower, healthy[grower], desired[grower])
			}
		}
		if shrinks == 0 {
			return fmt.Errorf("%s never shrank since the mark", shrinker)
		}
		return nil
	}
}

// expectDesiredSince is a TestCheckFunc on the order of the desired-count changes of the named
// services after the mark, as "service=count" from ecslocal's timeline (a service created after
// the mark starts with its count at creation).
func (e *accEnv) expectDesiredSince(m *servingMark, names, want []string) func(*terraform.State) error {
	return func(*terraform.State) error {
		last := map[string]int{}
		got := []string{}
		for i, en := range e.srv.Timeline() {
			if !slices.Contains(names, en.Service) {
				continue
			}
			if n, seen := last[en.Service]; seen && n == en.Desired {
				continue
			}
			last[en.Service] = en.Desired
			if i >= m.timeline {
				got = append(got, fmt.Sprintf("%s=%d", en.Service, en.Desired))
			}
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("desired-count changes of %v since the mark:\n got %v\nwant %v", names, got, want)
		}
		return nil
	}
}

// expectTargets is a TestCheckFunc: the healthy targets each named service has in tg now.
func (e *accEnv) expectTargets(tg string, want map[string]int) func(*terraform.State) error {
	return func(*terraform.State) error {
		for name, n := range want {
			s := e.status(name)
			healthy := 0
			if s != nil {
				for _, st := range s.TargetGroups {
					if st.TargetGroupArn == tg {
						healthy = st.Healthy
					}
				}
			}
			if healthy != n {
				return fmt.Errorf("%s has %d healthy targets in target group web, want %d: %+v", name, healthy, n, s)
			}
		}
		return nil
	}
}

// describedTargetGroupWithoutWrites reports a write call since the mark, or a missing DescribeTargetGroups call:
// preflight describes the target group before any write.
func (e *accEnv) describedTargetGroupWithoutWrites(m *servingMark) error {
	var writes []string
	described := false
	for _, c := range e.srv.Calls()[m.calls:] {
		if c.Write {
			writes = append(writes, c.Action()+" "+c.Resource)
		}
		described = described || c.Action() == "elasticloadbalancing:DescribeTargetGroups"
	}
	if len(writes) > 0 {
		return fmt.Errorf("write calls: %v", writes)
	}
	if !described {
		return fmt.Errorf("no elasticloadbalancing:DescribeTargetGroups call")
	}
	return nil
}

// TestAccPhasedDeployment_healthyRevisionBehindTargetGroup rolls a healthy revision out behind a
// target group: each phase shrinks the old service only once the new one's tasks are healthy in
// the target group, so the load balancer serves at least P = 4 healthy targets throughout.
func TestAccPhasedDeployment_healthyRevisionBehindTargetGroup(t *testing.T) {
	e := newAccEnv(t)
	tg := balanceAccEnv(e)
	v1, v2 := e.registerBalancedTD("healthy"), e.registerBalancedTD("healthy")
	var m servingMark
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.balancedConfig(v1, tg),
				Check:  e.expectTargets(tg, map[string]int{"web__1": 4}),
			},
			{
				PreConfig: e.markNow(&m),
				Config:    e.balancedConfig(v2, tg),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
					planValue("service_name", knownvalue.StringExact("web__2")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("current.service_name", knownvalue.StringExact("web__2")),
					stateValue("current.desired_count", knownvalue.Int64Exact(4)),
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
					stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
				},
				Check: allOf(
					e.expectServing(&m, 4, tg),
					e.expectTargets(tg, map[string]int{"web__2": 4, "web__1": 0}),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
					e.expectDesiredSince(&m, []string{"web__1", "web__2"}, []string{
						"web__2=0", "web__2=1", "web__1=3", "web__2=2", "web__1=2", "web__2=4", "web__1=0",
					}),
				),
			},
			{
				Config:   e.balancedConfig(v2, tg),
				PlanOnly: true,
			},
		},
	})
}

// TestAccPhasedDeployment_healthUnhealthyRevisionRolledBack deploys a revision whose tasks run
// but fail their ELB health checks: they never count, their failures reach the threshold, and
// the rollout is rolled back with an error that quotes the target's health reason. web__1 keeps
// serving its 4 healthy targets throughout.
func TestAccPhasedDeployment_healthUnhealthyRevisionRolledBack(t *testing.T) {
	e := newAccEnv(t)
	tg := balanceAccEnv(e)
	healthy, failing := e.registerBalancedTD("healthy"), e.registerBalancedTD("unhealthy")
	var m servingMark
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.balancedConfig(healthy, tg)},
			{
				PreConfig: e.markNow(&m),
				Config:    e.balancedConfig(failing, tg),
				ExpectError: wrapped("Deployment Rolled Back", "revision 2 (web__2) failed in phase 1",
					"unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])",
					"R1: web__1 at 4 tasks, web__2 at 0", "in production now: web__1 at 4 tasks"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // the failing revision is still configured
				Check: allOf(
					expectState(map[string]string{
						"current.service_name": "web__1", "current.desired_count": "4", "highest_revision": "2",
						"last_rollout.status": "rolled_back", "last_rollout.revision": "2",
					}),
					e.expectServing(&m, 4, tg),
					e.expectTargets(tg, map[string]int{"web__1": 4, "web__2": 0}),
					e.expectOwned(map[string][2]int{"web__1": {4, 4}, "web__2": {0, 0}}),
					// web__1 never shrank: the revision never served a task.
					e.expectDesiredSince(&m, []string{"web__1"}, []string{}),
				),
			},
			{
				// Back to the healthy revision: nothing to do.
				Config: e.balancedConfig(healthy, tg),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("last_rollout.reason", knownvalue.StringRegexp(regexp.MustCompile(`tasks of web__2 failed`))),
				},
			},
		},
	})
}

// TestAccPhasedDeployment_healthFailuresRolledBack deploys two revisions that run but do not
// serve: one whose container health check fails, rolled back from phase 1 with R1; one whose
// targets turn unhealthy a second after they start, which fails during phase 2's bake and is
// rolled back with R2, then R1 (DESIGN.md §7.6, §8). The load balancer never has fewer than 4
// healthy targets but by revision 3's own tasks, and web__1 shrinks only after web__3 serves.
func TestAccPhasedDeployment_healthFailuresRolledBack(t *testing.T) {
	e := newAccEnv(t)
	tg := balanceAccEnv(e)
	healthy := e.registerBalancedTD("healthy")
	// ECS's default container health check: every 30 s, UNHEALTHY after 3 failures.
	hc := &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}, Interval: aws.Int32(30), Retries: aws.Int32(3), Timeout: aws.Int32(5)}
	sickContainer := e.registerBalancedTDWith(map[string]string{"ecslocal.elb-health": "healthy", "ecslocal.container-health": "unhealthy"}, hc)
	soonUnhealthy := e.registerBalancedTD("unhealthy-after=1s")
	baked := func(td string) string {
		return e.config(deploymentConfig(td, `
  phase { percent = 25 }
  phase {
    percent   = 50
    bake_time = "10s"
  }
  phase { percent = 100 }
`+balancedService(tg)))
	}
	var m, m3 servingMark
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: baked(healthy)},
			{
				PreConfig: e.markNow(&m),
				Config:    baked(sickContainer),
				ExpectError: wrapped("Deployment Rolled Back", "revision 2 (web__2) failed in phase 1",
					`"Task failed container health checks"`, "R1: web__1 at 4 tasks, web__2 at 0", "in production now: web__1 at 4 tasks"),
			},
			{
				PreConfig: e.markNow(&m3),
				Config:    baked(soonUnhealthy),
				ExpectError: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase 2 while baking for 10s",
					"Task failed ELB health checks in (target-group "+tg+")",
					"R2: web__1 at 3 tasks, web__3 at 1", "R1: web__1 at 4 tasks, web__3 at 0", "in production now: web__1 at 4 tasks"),
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // the failing revision is still configured
				Check: allOf(
					expectState(map[string]string{
						"current.service_name": "web__1", "highest_revision": "3",
						"last_rollout.status": "rolled_back", "last_rollout.revision": "3",
					}),
					// Revision 2 never served, so web__1 never shrank and served 4 throughout;
					// revision 3's own tasks stopped serving in phase 2, after web__1 had shrunk
					// to 2 once web__3 served 2.
					e.expectServingUntil(&m, &m3, 4, tg),
					e.expectShrinksAfterServing(&m3, tg, "web__3", "web__1"),
					e.expectTargets(tg, map[string]int{"web__1": 4, "web__2": 0, "web__3": 0}),
					// web__1 shrank only for revision 3, in its phases 1 and 2, and came back
					// in R2 and R1.
					e.expectDesiredSince(&m, []string{"web__1"}, []string{"web__1=3", "web__1=2", "web__1=3", "web__1=4"}),
				),
			},
		},
	})
}

// TestAccPhasedDeployment_healthMissingTargetGroup configures a target group that does not
// exist: apply reports it on service.load_balancer[0].target_group_arn before any write (DESIGN.md
// §7.7), on a first deployment and on an update over a serving production service, which keeps
// serving.
func TestAccPhasedDeployment_healthMissingTargetGroup(t *testing.T) {
	e := newAccEnv(t)
	tg := balanceAccEnv(e)
	healthy, next := e.registerBalancedTD("healthy"), e.registerBalancedTD("healthy")
	missing := tg[:strings.LastIndex(tg, ":")] + ":targetgroup/gone/0123456789abcdef"
	// Terraform shows the attribute's line of the configuration under the error.
	missingErr := wrapped("Invalid Target Group Arn", "target_group_arn = \""+missing+"\"",
		"target group "+missing+" does not exist", "Nothing was changed.")
	var first, update servingMark
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				PreConfig:   e.markNow(&first),
				Config:      e.balancedConfig(healthy, missing),
				ExpectError: missingErr,
			},
			{
				PreConfig: func() {
					if err := e.describedTargetGroupWithoutWrites(&first); err != nil {
						t.Errorf("the first deployment with a missing target group: %v", err)
					}
				},
				Config: e.balancedConfig(healthy, tg),
				Check:  e.expectOwned(map[string][2]int{"web__1": {4, 4}}),
			},
			{
				PreConfig:   e.markNow(&update),
				Config:      e.balancedConfig(next, missing),
				ExpectError: missingErr,
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: allOf(
					func(*terraform.State) error { return e.describedTargetGroupWithoutWrites(&update) },
					expectState(map[string]string{"current.service_name": "web__1", "highest_revision": "1", "last_rollout.status": "succeeded"}),
					e.expectOwned(map[string][2]int{"web__1": {4, 4}}),
					e.expectServing(&update, 4, tg),
				),
			},
		},
	})
}
