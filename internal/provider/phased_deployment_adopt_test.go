package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// The adoption tests (DESIGN.md §16) start from the service "web" as a team runs it before
// this provider: created with the test's own ECS client, untagged, 4 tasks of web:1, with auto
// scaling 2–10 and the target tracking policy cpu60 of autoScalingBlockHCL.

// runningWeb creates the service web at n tasks of td with the given settings, and waits until
// its tasks run.
func (e *accEnv) runningWeb(td string, n int, in *ecs.CreateServiceInput) {
	e.t.Helper()
	if in == nil {
		in = &ecs.CreateServiceInput{}
	}
	in.Cluster, in.ServiceName, in.TaskDefinition, in.DesiredCount = aws.String("prod"), aws.String("web"), aws.String(td), aws.Int32(int32(n))
	if _, err := e.ecs.CreateService(context.Background(), in); err != nil {
		e.t.Fatalf("creating the running service web: %v", err)
	}
	waitRunning(e.t, e, "web", n)
}

// autoScaleWeb gives web the auto scaling of autoScalingBlockHCL: a scalable target 2–10 and the
// target tracking policy cpu60.
func (e *accEnv) autoScaleWeb() {
	e.t.Helper()
	ctx, c, id := context.Background(), e.scalingClient(), aws.String("service/prod/web")
	if _, err := c.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity: aws.Int32(2), MaxCapacity: aws.Int32(10),
	}); err != nil {
		e.t.Fatalf("registering web's scalable target: %v", err)
	}
	if _, err := c.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: id, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		PolicyName: aws.String("cpu60"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(60),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
		},
	}); err != nil {
		e.t.Fatalf("putting web's scaling policy: %v", err)
	}
}

// adoptConfig is webConfig (4 tasks in phases of 25, 50 and 100 %) adopting the service named
// service, with extra arguments.
func (e *accEnv) adoptConfig(td, service, extra string) string {
	return e.config(webConfig(td, 4, adoptHCL(service)+extra))
}

// adoptHCL is an adopt block naming service.
func adoptHCL(service string) string {
	return fmt.Sprintf("\n  adopt {\n    service_name = %q\n  }\n", service)
}

// expectRunningAtLeast is a TestCheckFunc on the capacity invariant (DESIGN.md §13): from the
// timeline mark on, the running tasks of the named services together never drop below floor.
func (e *accEnv) expectRunningAtLeast(mark *int, floor int, names ...string) func(*terraform.State) error {
	return func(*terraform.State) error {
		running := map[string]int{}
		lowest := -1
		for i, en := range e.srv.Timeline() {
			if !slices.Contains(names, en.Service) {
				continue
			}
			running[en.Service] = en.Running
			if i < *mark {
				continue
			}
			sum := 0
			for _, n := range running {
				sum += n
			}
			if lowest < 0 || sum < lowest {
				lowest = sum
			}
			if sum < floor {
				return fmt.Errorf("%v ran %d tasks together at %s, below %d: %v", names, sum, en.Time.Format("15:04:05.000"), floor, running)
			}
		}
		if lowest < 0 {
			return fmt.Errorf("the timeline has no entry of %v since the mark", names)
		}
		return nil
	}
}

// expectService is a TestCheckFunc on one service as ecslocal reports it: ACTIVE at desired and
// running, with exactly the phased-deployment tags given (none: untagged).
func (e *accEnv) expectService(name string, desired, running int, ours map[string]string) func(*terraform.State) error {
	return func(*terraform.State) error {
		s := e.status(name)
		if s == nil || s.Status != "ACTIVE" || s.Desired != desired || s.Running != running {
			return fmt.Errorf("%s = %+v, want ACTIVE at desired %d, running %d", name, s, desired, running)
		}
		got := map[string]string{}
		for k, v := range s.Tags {
			if strings.HasPrefix(k, "phased-deployment:") {
				got[k] = v
			}
		}
		if ours == nil {
			ours = map[string]string{}
		}
		if !maps.Equal(got, ours) {
			return fmt.Errorf("%s carries the phased-deployment tags %v, want %v", name, got, ours)
		}
		return nil
	}
}

// expectGone is a TestCheckFunc: the named service is not ACTIVE.
func (e *accEnv) expectGone(name string) func(*terraform.State) error {
	return func(*terraform.State) error {
		if s := e.status(name); s != nil && s.Status == "ACTIVE" {
			return fmt.Errorf("%s is still ACTIVE: %+v", name, *s)
		}
		return nil
	}
}

// adoptedTags are the tags that make web this deployment's revision 0.
var adoptedTags = map[string]string{deploy.OwnerTag: "prod/web", deploy.RevisionTag: "0"}

// TestAccPhasedDeployment_adopt adopts web at its 4 tasks with its auto scaling: the plan
// shows the rollout from web, web__1 grows as web shrinks with never fewer than 4 tasks running,
// and web ends at 0, tagged as revision 0 and recorded as previous, while web__1 serves with the
// auto scaling. Re-applying web:1 is then a post-production rollback to web, and destroy deletes
// both, web included: it is this deployment's now.
func TestAccPhasedDeployment_adopt(t *testing.T) {
	e := newAccEnv(t)
	e.runningWeb("web:1", 4, nil)
	e.autoScaleWeb()
	var mark int
	phase := func(i int) tfjsonpath.Path { return tfjsonpath.New("planned_phases").AtSliceIndex(i) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             allOf(e.checkDestroyed, e.expectGone("web")),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { mark = len(e.srv.Timeline()) },
				Config:    e.adoptConfig("web:2", "web", autoScalingBlockHCL),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("adopt")),
					planValue("service_name", knownvalue.StringExact("web__1")),
					planValue("revision", knownvalue.Int64Exact(1)),
					planValue("previous.service_name", knownvalue.StringExact("web")),
					planValue("previous.revision", knownvalue.Int64Exact(0)),
					// Auto scaling may move web's count before apply, so the old service's
					// counts are known after apply; the new revision's follow desired_count.
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("previous").AtMapKey("desired_count")),
					plancheck.ExpectKnownValue(addr, phase(0).AtMapKey("new_count"), knownvalue.Int64Exact(1)),
					plancheck.ExpectKnownValue(addr, phase(1).AtMapKey("new_count"), knownvalue.Int64Exact(2)),
					plancheck.ExpectKnownValue(addr, phase(2).AtMapKey("new_count"), knownvalue.Int64Exact(4)),
					plancheck.ExpectUnknownValue(addr, phase(0).AtMapKey("old_count")),
					plancheck.ExpectKnownValue(addr, phase(2).AtMapKey("old_count"), knownvalue.Int64Exact(0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("planned_phases", phasesValue(1, 3, 2, 2, 4, 0)),
					stateValue("current.service_name", knownvalue.StringExact("web__1")),
					stateValue("previous.service_name", knownvalue.StringExact("web")),
					stateValue("previous.revision", knownvalue.Int64Exact(0)),
					stateValue("previous.desired_count", knownvalue.Int64Exact(4)),
					stateValue("highest_revision", knownvalue.Int64Exact(1)),
					stateValue("last_rollout.status", knownvalue.StringExact("succeeded")),
				},
				Check: allOf(
					e.expectRunningAtLeast(&mark, 4, "web", "web__1"),
					e.expectService("web__1", 4, 4, map[string]string{deploy.OwnerTag: "prod/web", deploy.RevisionTag: "1"}),
					e.expectService("web", 0, 0, adoptedTags),
					e.expectScalingOn("web__1"),
				),
			},
			{Config: e.adoptConfig("web:2", "web", autoScalingBlockHCL), PlanOnly: true},
			{
				// After create the block does nothing: removing it only changes state.
				Config: e.config(webConfig("web:2", 4, autoScalingBlockHCL)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("none")),
					betweenPlanAndApply(func() { mark = e.writes() }),
				}},
				Check: e.noWritesSince(&mark),
			},
			{
				// web:1 is what web was deployed with: a post-production rollback to revision 0.
				PreConfig: func() { mark = len(e.srv.Timeline()) },
				Config:    e.adoptConfig("web:1", "web", autoScalingBlockHCL),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("rollback")),
					planValue("service_name", knownvalue.StringExact("web")),
					planValue("revision", knownvalue.Int64Exact(0)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("current.service_name", knownvalue.StringExact("web")),
					stateValue("previous.service_name", knownvalue.StringExact("web__1")),
				},
				Check: allOf(
					e.expectService("web", 4, 4, adoptedTags),
					e.expectOwned(map[string][2]int{"web": {4, 4}, "web__1": {0, 0}}),
					e.expectScalingOn("web"),
				),
			},
			{Config: e.adoptConfig("web:1", "web", autoScalingBlockHCL), PlanOnly: true},
		},
	})
}

// TestAccPhasedDeployment_adoptFails adopts web with web:3, which crashes on start: the rollout
// rolls back, and web is exactly as it was (4 tasks, untagged, its auto scaling not suspended)
// while web__1 is deleted. Nothing was recorded, so the next plan offers the adoption again.
func TestAccPhasedDeployment_adoptFails(t *testing.T) {
	e := newAccEnv(t)
	e.runningWeb("web:1", 4, nil)
	e.autoScaleWeb()
	before, err := e.describeScaling("web")
	if err != nil {
		t.Fatal(err)
	}
	var mark int
	unchanged := func() {
		check := allOf(
			e.expectRunningAtLeast(&mark, 4, "web", "web__1"),
			e.expectService("web", 4, 4, nil),
			e.expectScaling(map[string]liveScaling{"web": before}),
			e.expectGone("web__1"),
		)
		if err := check(nil); err != nil {
			t.Error(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             allOf(e.checkDestroyed, e.expectService("web", 4, 4, nil)),
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { mark = len(e.srv.Timeline()) },
				Config:      e.adoptConfig("web:3", "web", autoScalingBlockHCL),
				ExpectError: wrapped("Deployment Rolled Back", "revision 1 (web__1) failed in phase 1", "in production now: web at 4 tasks"),
			},
			{
				PreConfig:          unchanged,
				Config:             e.adoptConfig("web:3", "web", autoScalingBlockHCL),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("adopt")),
				}},
			},
		},
	})
	if before.Target != "2–10 suspended in=false out=false scheduled=false" {
		t.Errorf("web's auto scaling before the adoption was %+v", before)
	}
}

// TestAccPhasedDeployment_adoptRefused: each service that cannot be adopted fails the plan, on
// adopt.service_name, before any write.
func TestAccPhasedDeployment_adoptRefused(t *testing.T) {
	cases := []struct {
		name    string
		arrange func(e *accEnv) string // returns the configuration
		want    string
	}{
		{"a service that does not exist", func(e *accEnv) string {
			return e.adoptConfig("web:2", "web", "")
		}, "ECS service web does not exist in the cluster, so it cannot be adopted"},
		{"a service of another task definition family", func(e *accEnv) string {
			e.runningWeb("web:1", 4, nil)
			if _, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
				Family: aws.String("api"), ContainerDefinitions: []ecstypes.ContainerDefinition{{
					Name: aws.String("api"), Image: aws.String("nginx"), DockerLabels: map[string]string{"ecslocal.behavior": "healthy"},
				}},
			}); err != nil {
				e.t.Fatal(err)
			}
			return e.adoptConfig("api:1", "web", "")
		}, `ECS service web runs task definition family "web", but this deployment runs family "api"`},
		{"a service of another deployment", func(e *accEnv) string {
			e.runningWeb("web:1", 4, &ecs.CreateServiceInput{Tags: []ecstypes.Tag{{Key: aws.String(deploy.OwnerTag), Value: aws.String("prod/other")}}})
			return e.adoptConfig("web:2", "web", "")
		}, `ECS service web carries the tag phased-deployment:id = "prod/other": it belongs to another deployment`},
		{"a service with a revision's name", func(e *accEnv) string {
			return e.adoptConfig("web:2", "web__3", "")
		}, "ECS service web__3 has the name of a revision of this deployment (web__N)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			config := c.arrange(e)
			mark := e.writes()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             allOf(e.checkDestroyed, e.noWritesSince(&mark)),
				Steps: []resource.TestStep{{
					Config: config,
					// The error is on adopt.service_name: Terraform quotes that line of the
					// adopt block above the message.
					ExpectError: wrapped("Invalid Service Name", "service_name =", c.want, "Nothing was changed."),
				}},
			})
		})
	}
}

// TestAccPhasedDeployment_adoptCopiesTemplate adopts web, at 6 tasks behind a load balancer's
// target group, with tags, propagate_tags and ECS Exec, from a configuration without a service
// block: web__1 is created with web's settings and registers in the same target group, which
// serves at least 6 healthy targets throughout; a later deploy keeps those settings, since state
// holds the template copied from web.
func TestAccPhasedDeployment_adoptCopiesTemplate(t *testing.T) {
	e := newAccEnv(t)
	tg := balanceAccEnv(e)
	v1, v2, v3 := e.registerBalancedTD("healthy"), e.registerBalancedTD("healthy"), e.registerBalancedTD("healthy")
	config := func(td string) string { return e.config(webConfig(td, 6, adoptHCL("web"))) }
	e.runningWeb(v1, 6, &ecs.CreateServiceInput{
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a", "subnet-b"}}},
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(healthPort)}},
		PropagateTags:        ecstypes.PropagateTagsService, EnableExecuteCommand: true,
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	e.awaitHealthy(tg, 6)
	var m servingMark
	phase := func(i int) tfjsonpath.Path { return tfjsonpath.New("planned_phases").AtSliceIndex(i) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             allOf(e.checkDestroyed, e.expectGone("web")),
		Steps: []resource.TestStep{
			{
				PreConfig: e.markNow(&m),
				Config:    config(v2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("adopt")),
					// The plan read web's count itself, and Terraform plans a create again at
					// apply without that read: the counts that follow from it are not promised.
					plancheck.ExpectKnownValue(addr, phase(0).AtMapKey("new_count"), knownvalue.Int64Exact(2)),
					plancheck.ExpectKnownValue(addr, phase(2).AtMapKey("new_count"), knownvalue.Int64Exact(6)),
					plancheck.ExpectUnknownValue(addr, phase(0).AtMapKey("old_count")),
					plancheck.ExpectKnownValue(addr, phase(2).AtMapKey("old_count"), knownvalue.Int64Exact(0)),
					planValue("previous.service_name", knownvalue.StringExact("web")),
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("previous").AtMapKey("desired_count")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("planned_phases", phasesValue(2, 4, 3, 3, 6, 0)),
					stateValue("previous.desired_count", knownvalue.Int64Exact(6)),
				},
				Check: allOf(
					e.expectServing(&m, 6, tg),
					e.expectTargets(tg, map[string]int{"web__1": 6, "web": 0}),
					e.expectCopiedTemplate("web__1", tg),
				),
			},
			{Config: config(v2), PlanOnly: true},
			{
				Config: config(v3),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_action", knownvalue.StringExact("deploy")),
				}},
				Check: allOf(
					e.expectTargets(tg, map[string]int{"web__2": 6, "web__1": 0}),
					e.expectCopiedTemplate("web__2", tg),
				),
			},
			{Config: config(v3), PlanOnly: true},
		},
	})
}

// awaitHealthy waits until target group tg reports n targets of web healthy.
func (e *accEnv) awaitHealthy(tg string, n int) {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); e.expectTargets(tg, map[string]int{"web": n})(nil) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("web's %d targets did not become healthy: %+v", n, e.status("web"))
		}
	}
}

// expectCopiedTemplate is a TestCheckFunc: the service was created with web's settings.
func (e *accEnv) expectCopiedTemplate(name, tg string) func(*terraform.State) error {
	return func(*terraform.State) error {
		out, err := e.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{
			Cluster: aws.String("prod"), Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
		})
		if err != nil || len(out.Services) != 1 {
			return fmt.Errorf("describing %s: %v", name, err)
		}
		s := out.Services[0]
		tags := map[string]string{}
		for _, t := range s.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		var subnets []string
		if nc := s.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
			subnets = nc.AwsvpcConfiguration.Subnets
		}
		switch {
		case len(s.LoadBalancers) != 1 || aws.ToString(s.LoadBalancers[0].TargetGroupArn) != tg ||
			aws.ToString(s.LoadBalancers[0].ContainerName) != "web" || aws.ToInt32(s.LoadBalancers[0].ContainerPort) != healthPort:
			return fmt.Errorf("%s has the load balancers %+v, want target group web, container web:%d", name, s.LoadBalancers, healthPort)
		case !slices.Equal(subnets, []string{"subnet-a", "subnet-b"}):
			return fmt.Errorf("%s has the subnets %v, want web's", name, subnets)
		case s.PropagateTags != ecstypes.PropagateTagsService || !s.EnableExecuteCommand:
			return fmt.Errorf("%s has propagate_tags %q and ECS Exec %v, want SERVICE and true", name, s.PropagateTags, s.EnableExecuteCommand)
		case tags["team"] != "shop":
			return fmt.Errorf("%s has the tags %v, want web's team = shop", name, tags)
		}
		return nil
	}
}

// TestWarnAdoptChanged: a change of the adopt block after create is a warning on adopt, and an
// unchanged block says nothing.
func TestWarnAdoptChanged(t *testing.T) {
	block := func(name string) types.Object {
		return types.ObjectValueMust(map[string]attr.Type{"service_name": types.StringType}, map[string]attr.Value{"service_name": types.StringValue(name)})
	}
	null := types.ObjectNull(map[string]attr.Type{"service_name": types.StringType})
	cases := []struct {
		name           string
		planned, prior types.Object
		warn           bool
	}{
		{"the same block", block("web"), block("web"), false},
		{"no block before or after", null, null, false},
		{"another service named", block("api"), block("web"), true},
		{"the block removed", null, block("web"), true},
		{"a block added", block("web"), null, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var diags diag.Diagnostics
			warnAdoptChanged(&diags, c.planned, c.prior)
			if got := diags.WarningsCount() == 1; got != c.warn || diags.HasError() {
				t.Fatalf("diagnostics %v, want a warning: %v", diags, c.warn)
			}
			if c.warn {
				d, ok := diags[0].(diag.DiagnosticWithPath)
				if !ok || !d.Path().Equal(path.Root("adopt")) || d.Summary() != "Adopt Is Used Only on Create" {
					t.Errorf("warning %v, want \"Adopt Is Used Only on Create\" on adopt", diags[0])
				}
			}
		})
	}
}

// TestAccPhasedDeployment_adoptCountMovesBeforeApply: someone scales web from 4 to 5 between the
// plan and the apply of its adoption. The plan promised no count that follows from web's (it
// read web itself, and Terraform plans a create again at apply without that read), so the
// apply takes web over at 5, the count it finds, with no inconsistent plan and no capacity dip.
func TestAccPhasedDeployment_adoptCountMovesBeforeApply(t *testing.T) {
	e := newAccEnv(t)
	e.runningWeb("web:1", 4, nil)
	mark := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             allOf(e.checkDestroyed, e.expectGone("web")),
		Steps: []resource.TestStep{{
			Config: e.config(webConfig("web:2", 5, adoptHCL("web"))),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				planValue("planned_action", knownvalue.StringExact("adopt")),
				betweenPlanAndApply(func() {
					e.updateService(&ecs.UpdateServiceInput{Service: aws.String("web"), DesiredCount: aws.Int32(5)})
					waitRunning(t, e, "web", 5)
					mark = len(e.srv.Timeline())
				}),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("previous.service_name", knownvalue.StringExact("web")),
				stateValue("previous.desired_count", knownvalue.Int64Exact(5)),
				stateValue("current.desired_count", knownvalue.Int64Exact(5)),
			},
			Check: allOf(
				e.expectRunningAtLeast(&mark, 5, "web", "web__1"),
				e.expectService("web", 0, 0, adoptedTags),
			),
		}},
	})
}
