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
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// analysisPhases grow the new revision to 1, 2 and 4 tasks; phase 2 bakes long enough for a
// gate read every second to see what happens during it.
const analysisPhases = `
  phase { count = 1 }
  phase {
    count     = 2
    bake_time = "4s"
  }
  phase { count = 4 }
`

// phaseCounts are the new revision's counts after each phase of analysisPhases, out of 4.
var phaseCounts = []int{1, 2, 4}

// withShortPeriods makes ecslocal's CloudWatch periods (and its metric labels' periods) 100
// times shorter: a 60-second period lasts 600 ms, so alarms evaluate and metrics accrue within a
// test.
func (e *accEnv) withShortPeriods() {
	c := e.srv.CurrentConfig()
	c.TimeScale = 0.01
	e.srv.Configure(c)
}

// registerEmitting registers a healthy revision of family web whose tasks emit the given
// ecslocal.metric labels, such as "Errors=5/min", and returns it as family:revision.
func (e *accEnv) registerEmitting(metrics ...string) string {
	e.t.Helper()
	labels := map[string]string{"ecslocal.behavior": "healthy"}
	for _, m := range metrics {
		name, value, _ := strings.Cut(m, "=")
		labels["ecslocal.metric."+name] = value
	}
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), DockerLabels: labels,
		}},
	})
	if err != nil {
		e.t.Fatalf("registering a task definition emitting %v: %v", metrics, err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// putErrorsAlarm creates a metric alarm on the Errors that service's tasks emit: more than 1
// in evaluations of periods periods of a (scaled) minute.
func (e *accEnv) putErrorsAlarm(name, service string, evaluations int32, period int32) {
	e.t.Helper()
	_, err := e.cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("ecslocal"), MetricName: aws.String("Errors"),
		Dimensions: []cwtypes.Dimension{
			{Name: aws.String("ClusterName"), Value: aws.String("prod")},
			{Name: aws.String("ServiceName"), Value: aws.String(service)},
		},
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(period), EvaluationPeriods: aws.Int32(evaluations),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		// Missing data keeps the state: a state set with SetAlarmState holds until data says
		// otherwise, whenever a period ends.
		TreatMissingData: aws.String("ignore"),
	})
	if err != nil {
		e.t.Fatalf("creating alarm %s: %v", name, err)
	}
}

// setAlarmState sets an alarm's state with SetAlarmState, as an operator testing an alarm does.
func (e *accEnv) setAlarmState(name string, state cwtypes.StateValue, reason string) {
	e.t.Helper()
	if _, err := e.cw.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: state, StateReason: aws.String(reason),
	}); err != nil {
		e.t.Errorf("setting alarm %s to %s: %v", name, state, err)
	}
}

// whenDesired runs f once, in the background, as soon as ecslocal records service at n desired
// tasks: the moment a phase scales up.
func (e *accEnv) whenDesired(service string, n int, f func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	e.t.Cleanup(cancel)
	go func() {
		for ctx.Err() == nil {
			if s := e.status(service); s != nil && s.Desired == n {
				f()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

// expectRolledBackInReverse checks, on ecslocal's timeline, that the rollout of newSvc took
// over from oldSvc phase by phase up to some phase k, then rolled back R_k … R_1: the old
// service back up to each earlier phase's count first, then the new one down, until the old
// service holds all 4 tasks again and the new one none. A gate may fail phase k before its old
// service scaled down; then R_k has only the new service's step.
func (e *accEnv) expectRolledBackInReverse(oldSvc, newSvc string) func(*terraform.State) error {
	return func(*terraform.State) error {
		got := e.desiredChanges(oldSvc, newSvc)
		peak := 0
		for _, c := range got {
			if n, ok := strings.CutPrefix(c, newSvc+"="); ok {
				var v int
				if _, err := fmt.Sscan(n, &v); err == nil {
					peak = max(peak, v)
				}
			}
		}
		k := slices.Index(phaseCounts, peak) + 1
		if k == 0 {
			return fmt.Errorf("%s peaked at %d tasks, no phase's count: %v", newSvc, peak, got)
		}
		var wants [][]string
		for _, interrupted := range []bool{false, true} {
			want := &desiredTimeline{last: map[string]int{oldSvc: 4}} // where the old service starts
			want.add(newSvc, 0)
			for i, n := range phaseCounts[:k] {
				want.add(newSvc, n)
				if !interrupted || i < k-1 {
					want.add(oldSvc, 4-n)
				}
			}
			for i := k - 1; i >= 0; i-- {
				before := 0
				if i > 0 {
					before = phaseCounts[i-1]
				}
				want.add(oldSvc, 4-before)
				want.add(newSvc, before)
			}
			if slices.Equal(got, want.out) {
				return nil
			}
			wants = append(wants, want.out)
		}
		return fmt.Errorf("desired-count changes of %s and %s on ecslocal's timeline:\n got %v\nwant %v\n  or %v (rolled back from phase %d)", oldSvc, newSvc, got, wants[0], wants[1], k)
	}
}

// desiredTimeline builds an expected list of desired-count changes as desiredChanges reports
// them: a count a service already has is no change.
type desiredTimeline struct {
	last map[string]int
	out  []string
}

func (d *desiredTimeline) add(svc string, n int) {
	if last, seen := d.last[svc]; seen && last == n {
		return
	}
	d.last[svc] = n
	d.out = append(d.out, fmt.Sprintf("%s=%d", svc, n))
}

// gateCase is one kind of gate: a revision that passes it is deployed, then one that breaches it
// is rolled back with an error naming the cause.
type gateCase struct {
	oldTD, goodTD, badTD string
	// analysis is the analysis block for the revision it gates, web__2 (passing) or web__3
	// (breaching).
	analysis func(service string) string
	// beforeBad runs before the breaching revision is applied.
	beforeBad func()
	wantErr   *regexp.Regexp
	// gates is how many lines planned_gates has.
	gates int
}

// testAccGate deploys c.oldTD as web__1, then c.goodTD as web__2 through the gates, then
// c.badTD as web__3, which the gates fail and roll back in reverse order to web__2.
func testAccGate(t *testing.T, e *accEnv, c gateCase) {
	config := func(td, service string) string {
		return e.config(deploymentConfig(td, analysisPhases+c.analysis(service)))
	}
	before := func() {}
	if c.beforeBad != nil {
		before = c.beforeBad
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(deploymentConfig(c.oldTD, analysisPhases)),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("planned_gates", knownvalue.ListExact([]knownvalue.Check{})),
				},
			},
			{
				// The same gates on a revision that does not breach them: the rollout completes.
				Config: config(c.goodTD, "web__2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_gates", knownvalue.ListSizeExact(c.gates)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue("current.service_name", knownvalue.StringExact("web__2")),
					stateValue("planned_gates", knownvalue.ListSizeExact(c.gates)),
				},
				Check: e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
			},
			{
				PreConfig:   func() { e.srv.ClearObservations(); before() },
				Config:      config(c.badTD, "web__3"),
				ExpectError: c.wantErr,
			},
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // the breaching revision is still configured
				Check: allOf(
					expectState(map[string]string{
						"current.service_name": "web__2", "previous.service_name": "web__1",
						"last_rollout.status": "rolled_back", "last_rollout.revision": "3",
					}),
					e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}, "web__3": {0, 0}}),
					e.expectRolledBackInReverse("web__2", "web__3"),
				),
			},
		},
	})
}

// TestAccPhasedDeployment_analysisAlarmSetDuringBake: an alarm that an operator sets to ALARM
// while phase 2 bakes fails phase 2; the error quotes the alarm, its state and its reason.
func TestAccPhasedDeployment_analysisAlarmSetDuringBake(t *testing.T) {
	e := newAccEnv(t)
	// An hour's period: ecslocal evaluates the alarm only on the hour, so the state set by
	// SetAlarmState stands for the whole test, as it would in CloudWatch.
	e.putErrorsAlarm("web-5xx", "web", 1, 3600)
	testAccGate(t, e, gateCase{
		oldTD: "web:1", goodTD: "web:2", badTD: "web:4",
		analysis: func(string) string {
			return `
  analysis {
    alarm_names = ["web-5xx"]
    interval    = "1s"
  }
`
		},
		beforeBad: func() {
			e.whenDesired("web__3", 2, func() { e.setAlarmState("web-5xx", cwtypes.StateValueAlarm, "Threshold Crossed: 5xx errors in web") })
		},
		wantErr: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase 2", "alarm web-5xx is ALARM", "Threshold Crossed: 5xx errors in web"),
		gates:   2,
	})
}

// TestAccPhasedDeployment_analysisMetricAlarmFromNewRevision: an alarm on the Errors of the new
// revision's service fires from what its tasks emit; the old revision emits none.
func TestAccPhasedDeployment_analysisMetricAlarmFromNewRevision(t *testing.T) {
	e := newAccEnv(t)
	e.withShortPeriods()
	// Three periods over the threshold: the alarm fires about 2 s after web__3's first task
	// runs, while phase 2 bakes.
	e.putErrorsAlarm("web__2-errors", "web__2", 3, 60)
	e.putErrorsAlarm("web__3-errors", "web__3", 3, 60)
	testAccGate(t, e, gateCase{
		oldTD: "web:1", goodTD: e.registerEmitting("Errors=0/min"), badTD: e.registerEmitting("Errors=5/min"),
		analysis: func(service string) string {
			return fmt.Sprintf(`
  analysis {
    alarm_names = [%q]
    interval    = "1s"
  }
`, service+"-errors")
		},
		wantErr: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase", "alarm web__3-errors is ALARM"),
		gates:   2,
	})
}

// TestAccPhasedDeployment_analysisMetricOverThreshold: a metric check on the Errors of the new
// revision's service ({{service}}) fails when their sum crosses the threshold.
func TestAccPhasedDeployment_analysisMetricOverThreshold(t *testing.T) {
	e := newAccEnv(t)
	e.withShortPeriods()
	testAccGate(t, e, gateCase{
		oldTD: "web:1", goodTD: e.registerEmitting("Errors=0/min"), badTD: e.registerEmitting("Errors=5/min"),
		analysis: func(string) string {
			return `
  analysis {
    interval = "1s"
    metric {
      name        = "errors"
      namespace   = "ecslocal"
      metric_name = "Errors"
      dimensions  = { ClusterName = "prod", ServiceName = "{{service}}" }
      statistic   = "Sum"
      threshold   = 1
    }
  }
`
		},
		wantErr: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase", "metric check errors failed: web__3 is", "> 1 (threshold)"),
		gates:   2,
	})
}

// TestAccPhasedDeployment_analysisBaselineComparison: the new revision's error rate against the
// previous revision's over the same window. web__2 errs as often as web__1 (2 in 100) and
// passes; web__3 errs at 5 in 100, more than 1.2 × web__2's rate, and is rolled back.
func TestAccPhasedDeployment_analysisBaselineComparison(t *testing.T) {
	e := newAccEnv(t)
	e.withShortPeriods()
	steady := e.registerEmitting("Errors=2/min", "Requests=100/min")
	testAccGate(t, e, gateCase{
		oldTD: steady, goodTD: e.registerEmitting("Errors=2/min", "Requests=100/min"), badTD: e.registerEmitting("Errors=5/min", "Requests=100/min"),
		analysis: func(string) string {
			return `
  analysis {
    interval = "1s"
    metric {
      name           = "error-rate"
      expression     = "100 * errors / requests"
      baseline_ratio = 1.2
      query {
        id          = "errors"
        namespace   = "ecslocal"
        metric_name = "Errors"
        dimensions  = { ClusterName = "prod", ServiceName = "{{service}}" }
        statistic   = "Sum"
      }
      query {
        id          = "requests"
        namespace   = "ecslocal"
        metric_name = "Requests"
        dimensions  = { ClusterName = "prod", ServiceName = "{{service}}" }
        statistic   = "Sum"
      }
    }
  }
`
		},
		wantErr: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase", "metric check error-rate failed: web__3 is", "more than 1.2 × web__2's"),
		gates:   2,
	})
}

// TestAccPhasedDeployment_analysisNoDataFails: with no_data = "fail", a check whose metric no
// task emits fails the rollout once the new tasks have run for a period; a revision that emits
// it passes. The period is one second, a high-resolution period, so that the verdict comes
// within phase 2's bake.
func TestAccPhasedDeployment_analysisNoDataFails(t *testing.T) {
	e := newAccEnv(t)
	e.withShortPeriods()
	testAccGate(t, e, gateCase{
		oldTD: "web:1", goodTD: e.registerEmitting("Heartbeats=1/min"), badTD: "web:4",
		analysis: func(string) string {
			return `
  analysis {
    interval = "1s"
    metric {
      name          = "heartbeats"
      namespace     = "ecslocal"
      metric_name   = "Heartbeats"
      dimensions    = { ClusterName = "prod", ServiceName = "{{service}}" }
      statistic     = "SampleCount"
      period        = 1
      threshold     = 0
      comparison    = "LessThanOrEqualToThreshold"
      no_data       = "fail"
    }
  }
`
		},
		wantErr: wrapped("Deployment Rolled Back", "revision 3 (web__3) failed in phase", "metric check heartbeats failed: no data for web__3"),
		gates:   2,
	})
}

// TestAccPhasedDeployment_analysisPreflight: an alarm that does not exist stops a first
// deployment, and an alarm already in ALARM stops an update, each before any write, naming the
// alarm (and the state's reason).
func TestAccPhasedDeployment_analysisPreflight(t *testing.T) {
	e := newAccEnv(t)
	e.putErrorsAlarm("web-5xx", "web", 1, 3600)
	var mark int
	markWrites := betweenPlanAndApply(func() { mark = e.writes() })
	gated := func(td, alarm string) string {
		return e.config(deploymentConfig(td, analysisPhases+fmt.Sprintf(`
  analysis {
    alarm_names = [%q]
    interval    = "1s"
  }
`, alarm)))
	}
	noWrites := func() {
		if err := e.noWritesSince(&mark)(nil); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				// A typo in an alarm name would be a gate that never fires.
				Config:           gated("web:1", "web-5xxx"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{markWrites}},
				ExpectError:      wrapped("Invalid Alarm Names", "CloudWatch alarm web-5xxx does not exist", "Nothing was changed"),
			},
			{
				PreConfig: func() {
					noWrites()
					if got := e.ownedServices(); len(got) != 0 {
						t.Fatalf("services after a refused first deployment: %v, want none", got)
					}
				},
				Config: gated("web:1", "web-5xx"),
				Check:  e.expectOwned(map[string][2]int{"web__1": {4, 4}}),
			},
			{
				Config: gated("web:2", "web-5xx"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					betweenPlanAndApply(func() {
						e.setAlarmState("web-5xx", cwtypes.StateValueAlarm, "Threshold Crossed: 5xx errors before the rollout")
						mark = e.writes()
					}),
				}},
				ExpectError: wrapped("Invalid Alarm Names", "the rollout did not start, because alarm web-5xx is ALARM", "Threshold Crossed: 5xx errors before the rollout", "Nothing was changed"),
			},
			{
				PreConfig: func() {
					noWrites()
					e.setAlarmState("web-5xx", cwtypes.StateValueOk, "The 5xx errors stopped")
				},
				Config: gated("web:2", "web-5xx"),
				Check:  e.expectOwned(map[string][2]int{"web__1": {0, 0}, "web__2": {4, 4}}),
			},
		},
	})
}

// TestAccPhasedDeployment_analysisImport: import leaves the configuration-only analysis block
// null and planned_gates empty; the next plan puts the gates back without a deployment.
func TestAccPhasedDeployment_analysisImport(t *testing.T) {
	e := newAccEnv(t)
	e.putErrorsAlarm("web-5xx", "web", 1, 3600)
	config := e.config(deploymentConfig("web:1", analysisPhases+`
  analysis {
    alarm_names = ["web-5xx"]
  }
`))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					planValue("planned_gates", knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("alarm web-5xx must not be in ALARM"),
						knownvalue.StringRegexp(regexp.MustCompile(`^read every 10s from each phase's scale-up through its bake$`)),
					})),
				}},
			},
			{
				ResourceName: addr, ImportState: true, ImportStateId: "prod/web", ImportStateVerify: true,
				// Configuration only: an import cannot know the gates, nor the phases.
				ImportStateVerifyIgnore: []string{"analysis", "planned_gates", "phase", "planned_action", "planned_phases", "last_rollout", "timeouts"},
			},
		},
	})
}
