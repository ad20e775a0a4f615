package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// registerMetricTD registers a healthy task definition of family web whose tasks emit the
// given metrics into ecslocal's per-service metrics (labels ecslocal.metric.<Name>=<rate>).
func (e *env) registerMetricTD(metrics map[string]string) string {
	e.t.Helper()
	labels := map[string]string{"ecslocal.behavior": "healthy"}
	for name, rate := range metrics {
		labels["ecslocal.metric."+name] = rate
	}
	c := containers("healthy")
	c[0].DockerLabels = labels
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: c})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("web:%d", out.TaskDefinition.Revision)
}

// putAlarm creates a metric alarm on ecslocal's Errors metric of a service: Sum over 10 s above
// threshold. Missing data is ignored: the alarm keeps its state (one set with SetAlarmState too)
// until data says otherwise.
func (e *env) putAlarm(name, service string, threshold float64) {
	e.t.Helper()
	_, err := e.cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("ecslocal"), MetricName: aws.String("Errors"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("prod")}, {Name: aws.String("ServiceName"), Value: aws.String(service)}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(threshold),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("ignore"),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// setAlarm sets alarm web-5xx to ALARM with SetAlarmState, as an operator testing it would.
func (e *env) setAlarm(reason string) {
	const name = "web-5xx"
	e.t.Helper()
	if _, err := e.cw.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String(reason),
	}); err != nil {
		e.t.Fatal(err)
	}
}

// stepHook is the engine's log, calling a function once at the first step whose message
// starts with a prefix.
type stepHook struct {
	*recLog
	prefix string
	once   sync.Once
	fire   func()
}

func (h *stepHook) Info(ctx context.Context, msg string, f map[string]any) {
	h.recLog.Info(ctx, msg, f)
	if strings.HasPrefix(msg, h.prefix) {
		h.once.Do(h.fire)
	}
}

// errorsCheck is a metric check on ecslocal's Errors of the new revision's service.
func errorsCheck(threshold float64) deploy.MetricCheck {
	return deploy.MetricCheck{
		Name: "errors", Threshold: &threshold, NoData: deploy.NoDataFail, Period: 10 * time.Second,
		Metric: &deploy.MetricStat{Namespace: "ecslocal", MetricName: "Errors", Statistic: "Sum",
			Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": deploy.ServicePlaceholder}},
	}
}

// errorRateCheck compares the new revision's errors per request with the previous one's.
func errorRateCheck(ratio float64) deploy.MetricCheck {
	dims := map[string]string{"ClusterName": "prod", "ServiceName": deploy.ServicePlaceholder}
	return deploy.MetricCheck{
		Name: "error-rate", Expression: "errors / requests", BaselineRatio: &ratio, NoData: deploy.NoDataFail, Period: 10 * time.Second,
		Queries: []deploy.MetricQuery{
			{ID: "errors", MetricStat: deploy.MetricStat{Namespace: "ecslocal", MetricName: "Errors", Statistic: "Sum", Dimensions: dims}},
			{ID: "requests", MetricStat: deploy.MetricStat{Namespace: "ecslocal", MetricName: "Requests", Statistic: "Sum", Dimensions: dims}},
		},
	}
}

// TestAnalysis covers the verification gates (DESIGN.md §7.7): each breach fails its phase and
// rolls back in reverse order with an error naming the cause; the same gates without a breach
// let the rollout through.
func TestAnalysis(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		// arrange returns production's and the new revision's task definitions and the gates.
		arrange func(e *env) (prod, next string, a *deploy.Analysis)
		// during, when set, runs at the first step with this prefix.
		at     string
		during func(e *env)
		// want: "" for success; otherwise the failed phase and words the error must hold.
		phase int
		want  []string
	}
	bake := func(cfg *deploy.Config) {
		cfg.Phases = []deploy.Phase{{Percent: 25, BakeTime: 20 * time.Second}, {Percent: 50, BakeTime: 30 * time.Second}, {Percent: 100, BakeTime: 20 * time.Second}}
	}
	cases := []tc{
		{
			name: "an alarm set to ALARM during phase 2's bake",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				e.putAlarm("web-5xx", "web__2", 1000)
				return tdHealthy1, tdHealthy2, &deploy.Analysis{AlarmNames: []string{"web-5xx"}}
			},
			at:     "phase 2: baking",
			during: func(e *env) { e.setAlarm("5xx responses above 1 % at the load balancer") },
			phase:  2, want: []string{"alarm web-5xx is ALARM", "5xx responses above 1 % at the load balancer"},
		},
		{
			name: "the same alarm, never set: success",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				e.putAlarm("web-5xx", "web__2", 1000)
				return tdHealthy1, tdHealthy2, &deploy.Analysis{AlarmNames: []string{"web-5xx"}}
			},
		},
		{
			name: "a metric alarm that fires from the new revision's own errors",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				e.putAlarm("web__2-errors", "web__2", 3)
				return tdHealthy1, e.registerMetricTD(map[string]string{"Errors": "60/min"}), &deploy.Analysis{AlarmNames: []string{"web__2-errors"}}
			},
			phase: 1, want: []string{"alarm web__2-errors is ALARM", "Threshold Crossed"},
		},
		{
			name: "the same metric alarm over a revision without errors: success",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				e.putAlarm("web__2-errors", "web__2", 3)
				return tdHealthy1, e.registerMetricTD(map[string]string{"Errors": "0/min"}), &deploy.Analysis{AlarmNames: []string{"web__2-errors"}}
			},
		},
		{
			name: "a metric check over its threshold",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				return tdHealthy1, e.registerMetricTD(map[string]string{"Errors": "60/min"}), &deploy.Analysis{Metrics: []deploy.MetricCheck{errorsCheck(1)}}
			},
			phase: 1, want: []string{"metric check errors failed: web__2 is", "> 1 (threshold)"},
		},
		{
			name: "the same metric check under its threshold: success",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				return tdHealthy1, e.registerMetricTD(map[string]string{"Errors": "0/min"}), &deploy.Analysis{Metrics: []deploy.MetricCheck{errorsCheck(1)}}
			},
		},
		{
			name: "an error rate over 1.2 × the previous revision's",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				prod := e.registerMetricTD(map[string]string{"Errors": "12/min", "Requests": "600/min"})
				next := e.registerMetricTD(map[string]string{"Errors": "30/min", "Requests": "600/min"})
				return prod, next, &deploy.Analysis{Metrics: []deploy.MetricCheck{errorRateCheck(1.2)}}
			},
			phase: 1, want: []string{"metric check error-rate failed: web__2 is 0.05, more than 1.2 × web__1's 0.02 = 0.024"},
		},
		{
			name: "an error rate within 1.2 × the previous revision's: success",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				prod := e.registerMetricTD(map[string]string{"Errors": "12/min", "Requests": "600/min"})
				next := e.registerMetricTD(map[string]string{"Errors": "12/min", "Requests": "540/min"})
				return prod, next, &deploy.Analysis{Metrics: []deploy.MetricCheck{errorRateCheck(1.2)}}
			},
		},
		{
			name: "no data, with no_data = fail",
			arrange: func(*env) (string, string, *deploy.Analysis) {
				return tdHealthy1, tdHealthy2, &deploy.Analysis{Metrics: []deploy.MetricCheck{errorsCheck(1)}}
			},
			phase: 1, want: []string{"metric check errors failed: no data for web__2"},
		},
		{
			name: "no data, with no_data = wait: the phase waits for data until steady_state_timeout",
			arrange: func(*env) (string, string, *deploy.Analysis) {
				c := errorsCheck(1)
				c.NoData = deploy.NoDataWait
				return tdHealthy1, tdHealthy2, &deploy.Analysis{Metrics: []deploy.MetricCheck{c}}
			},
			phase: 1, want: []string{"metric check errors had no data for web__2 within steady_state_timeout"},
		},
		{
			name: "no data, with no_data = pass: success",
			arrange: func(*env) (string, string, *deploy.Analysis) {
				c := errorsCheck(1)
				c.NoData = deploy.NoDataPass
				return tdHealthy1, tdHealthy2, &deploy.Analysis{Metrics: []deploy.MetricCheck{c}}
			},
		},
		{
			name: "an alarm set during the final window after the last phase",
			arrange: func(e *env) (string, string, *deploy.Analysis) {
				e.putAlarm("web-5xx", "web__2", 1000)
				return tdHealthy1, tdHealthy2, &deploy.Analysis{AlarmNames: []string{"web-5xx"}, FinalWindow: time.Minute}
			},
			at:     "final analysis window",
			during: func(e *env) { e.setAlarm("latency p99 above 2 s") },
			phase:  3, want: []string{"watching the final analysis window", "alarm web-5xx is ALARM", "latency p99 above 2 s"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			// The bakes last 70 s of virtual time; the service is read once a second in them
			// instead of every 50 ms, since the gates are read every 2 s anyway.
			e.eng.Poll.Max = time.Second
			prodTD, nextTD, a := c.arrange(e)
			cfg := baseConfig(prodTD, 4)
			bake(&cfg)
			st := e.mustDeploy(cfg, deploy.State{})
			if c.during != nil {
				e.eng.Log = &stepHook{recLog: e.log, prefix: c.at, fire: func() { c.during(e) }}
			}
			cfg.TaskDefinition, cfg.Analysis = nextTD, a
			a.Interval = 2 * time.Second
			m := e.mark()
			res, err := e.eng.Deploy(context.Background(), cfg, st)
			counts := e.countsSince(m)
			if c.want == nil {
				if err != nil {
					e.logSteps()
					t.Fatalf("the rollout failed: %v", err)
				}
				if res.Current.Name != "web__2" {
					t.Errorf("production %s, want web__2", res.Current.Name)
				}
				t.Logf("CloudWatch calls: %d DescribeAlarms, %d GetMetricData", counts["cloudwatch:DescribeAlarms"], counts["cloudwatch:GetMetricData"])
				return
			}
			re := rolloutError(t, err)
			if re.Failure.Kind != deploy.FailureAnalysis || re.Phase != c.phase || !re.RolledBack {
				t.Errorf("failure %q (%s) in phase %d, rolled back %v; want an analysis gate failure in phase %d, rolled back", re.Failure.Message, re.Failure.Kind, re.Phase, re.RolledBack, c.phase)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var steps []string
			for _, s := range re.RollbackSteps {
				label, _, _ := strings.Cut(s, ":")
				steps = append(steps, label)
			}
			var want []string
			for j := c.phase; j >= 1; j-- {
				want = append(want, fmt.Sprintf("R%d", j))
			}
			if !slices.Equal(steps[:min(len(steps), len(want))], want) {
				t.Errorf("rollback steps %q, want %v in that order", re.RollbackSteps, want)
			}
			if got := e.live("web__1", "web__2"); got["web__1"] != [2]int{4, 4} || got["web__2"][0] != 0 {
				t.Errorf("after the rollback %v, want web__1 at 4 and web__2 at 0", got)
			}
			e.checkCapacity(m, 4, "web__1", "web__2")
		})
	}
}

// TestAnalysisPreflight: an alarm already in ALARM, or one that does not exist, stops a
// rollout before any write, naming the alarm; a post-production rollback is not gated.
func TestAnalysisPreflight(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		arrange func(e *env)
		want    []string
	}{
		{"an alarm already in ALARM", func(e *env) {
			e.putAlarm("web-5xx", "web__1", 1000)
			e.setAlarm("an incident in progress")
		}, []string{"alarm web-5xx is ALARM", "an incident in progress", "did not start"}},
		{"an alarm that does not exist", func(e *env) {
			e.putAlarm("web-5xx", "web__1", 1000)
		}, []string{"CloudWatch alarm web-5xxx does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			st := e.mustDeploy(baseConfig(tdHealthy1, 4), deploy.State{})
			c.arrange(e)
			cfg := baseConfig(tdHealthy2, 4)
			names := []string{"web-5xx"}
			if strings.Contains(c.name, "does not exist") {
				names = []string{"web-5xx", "web-5xxx"}
			}
			cfg.Analysis = &deploy.Analysis{AlarmNames: names}
			m := e.mark()
			_, err := e.eng.Deploy(context.Background(), cfg, st)
			var ie *deploy.InputError
			if !errors.As(err, &ie) || ie.Field != "analysis.alarm_names" {
				t.Fatalf("error %v (%T), want an input error on analysis.alarm_names", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if w := e.writesSince(m); len(w) != 0 {
				t.Errorf("the refused rollout wrote %q", w)
			}
		})
	}

	t.Run("a post-production rollback is not gated: it goes back while the alarm fires", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.putAlarm("web-5xx", "web__2", 1000)
		cfg := baseConfig(tdHealthy1, 4)
		cfg.Analysis = &deploy.Analysis{AlarmNames: []string{"web-5xx"}}
		st := e.mustDeploy(cfg, deploy.State{})
		cfg.TaskDefinition = tdHealthy2
		st = e.mustDeploy(cfg, st)
		e.setAlarm("web__2 serves errors")
		cfg.TaskDefinition = tdHealthy1
		res, err := e.eng.RollBackToPrevious(context.Background(), cfg, st)
		if err != nil {
			t.Fatal(err)
		}
		if res.Current.Name != "web__1" {
			t.Errorf("production %s, want web__1", res.Current.Name)
		}
	})
}

// TestDescribeGates: the plan's words for the gates.
func TestDescribeGates(t *testing.T) {
	five, ratio := 5.0, 1.2
	a := &deploy.Analysis{
		AlarmNames: []string{"web-5xx"}, Interval: 30 * time.Second, FinalWindow: 2 * time.Minute,
		Metrics: []deploy.MetricCheck{errorsCheck(five), {
			Name: "error-rate", Expression: "100 * errors / requests", Threshold: &five, BaselineRatio: &ratio, FailureLimit: 2,
		}},
	}
	want := []string{
		"alarm web-5xx must not be in ALARM",
		"metric errors: Sum of ecslocal/Errors{ClusterName=prod,ServiceName={{service}}} over 10s fails when > 5; 0 failures tolerated; no data: fail",
		"metric error-rate: 100 * errors / requests over 1m fails when > 5 and > 1.2 × the previous revision's; 2 failures tolerated; no data: wait",
		"read every 30s from each phase's scale-up through its bake, and for 2m after the last phase",
	}
	if got := deploy.DescribeGates(a); !slices.Equal(got, want) {
		t.Errorf("DescribeGates:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if got := deploy.DescribeGates(nil); got == nil || len(got) != 0 {
		t.Errorf("DescribeGates(nil) = %#v, want an empty list", got)
	}
}
