package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// leastPrivilegeActions reads iam/least-privilege-actions.txt, the documented IAM action list
// (iam/iam_test.go keeps it equal to policy.json and to the client calls in the code).
func leastPrivilegeActions(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "iam", "least-privilege-actions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("least-privilege-actions.txt lists no action")
	}
	return out
}

// bestEffortActions are calls whose failure the engine survives by design for a service with
// neither a load balancer nor a health check: ListTasks and DescribeTasks only learn how long
// tasks take to start (a polling estimate) and fetch the stopped reasons quoted as evidence.
// Denied, they must still be reported, as a warning. For a service behind a load balancer they
// read where its tasks are registered, and a denial fails the wait: counting RUNNING tasks
// instead would be a lie.
var bestEffortActions = []string{"ecs:ListTasks", "ecs:DescribeTasks"}

// warningOnlyActions are calls whose failure is a warning wherever they come: removing the
// phased-deployment:scaling-suspended tag, which then still holds the suspension state the
// next rollout would restore (DESIGN.md §5.5). Denied, every step completes and warns.
var warningOnlyActions = []string{"ecs:UntagResource"}

// Steps of the least-privilege scenario: the first plainSteps have no load balancer.
const (
	plainSteps    = 6
	scenarioSteps = 8
)

// stepOutcome is what one step of the least-privilege scenario returned.
type stepOutcome struct {
	step     string
	err      error
	warnings []string
}

// leastPrivilegeScenario exercises every action of the policy through the engine (the
// provider's Create, Update, Read and Delete call exactly these engine operations): a first
// deployment with auto scaling (two policies), a canary deployment of a new revision, a
// failed deployment that is rolled back, an auto scaling update that drops a policy, a read
// and a destroy. It stops at the first step that fails unexpectedly.
func leastPrivilegeScenario(allow []string) ([]stepOutcome, *ecslocal.Server, error) {
	srv := ecslocal.New(ecslocal.Options{StartDelay: 20 * time.Millisecond, StopDelay: 10 * time.Millisecond, Region: "eu-west-1", TimeScale: 0.001})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	td := func(label string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	// Two services behind load balancers: api (awsvpc, an ip target group) and legacy (bridge
	// on EC2, an instance target group, with a dynamic host port).
	api := json.RawMessage(`{"family":"api","networkMode":"awsvpc","containerDefinitions":[{"name":"api","image":"nginx","portMappings":[{"containerPort":8080}]}]}`)
	legacy := json.RawMessage(`{"family":"legacy","networkMode":"bridge","containerDefinitions":[{"name":"legacy","image":"nginx","portMappings":[{"containerPort":80,"hostPort":0}]}]}`)
	if err := srv.ApplySeed(ecslocal.Seed{
		Clusters: []string{"prod"}, TaskDefinitions: []json.RawMessage{td("healthy"), td("healthy"), td("crash-on-start"), api, legacy},
		LoadBalancers: []ecslocal.SeedLoadBalancer{{Name: "front", TargetGroups: []ecslocal.SeedTargetGroup{
			{Name: "api", Port: 8080, TargetType: "ip"}, {Name: "legacy", Port: 80, TargetType: "instance"},
		}}},
	}); err != nil {
		return nil, srv, err
	}
	awsCfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLEASTPRIV", "secret", "")}
	cw := cloudwatch.NewFromConfig(awsCfg, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	// The alarm the canary deployment is gated on, made before the allow-list applies.
	if _, err := cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), Namespace: aws.String("ecslocal"), MetricName: aws.String("Errors"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		return nil, srv, err
	}
	srv.SetAllowedActions(allow)
	eng := &deploy.Engine{
		ECS:         ecs.NewFromConfig(awsCfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		AutoScaling: applicationautoscaling.NewFromConfig(awsCfg, func(o *applicationautoscaling.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		ELB:         elbv2.NewFromConfig(awsCfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(hs.URL) }),
		CloudWatch:  cw,
		Poll:        deploy.PollConfig{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	}
	four := 4
	cpu := deploy.TargetTracking{Name: "cpu60", PredefinedMetricType: "ECSServiceAverageCPUUtilization", TargetValue: 60}
	mem := deploy.TargetTracking{Name: "mem70", PredefinedMetricType: "ECSServiceAverageMemoryUtilization", TargetValue: 70}
	eight := 8
	morning := deploy.ScheduledAction{Name: "morning", Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &four, Max: &eight}
	cfg := func(td string, schedule bool, policies ...deploy.TargetTracking) deploy.Config {
		c := deploy.Config{
			Cluster: "prod", Name: "web", DeploymentID: "prod/web", TaskDefinition: td, DesiredCount: &four,
			Phases:            []deploy.Phase{{Percent: 25}, {Percent: 50}, {Percent: 100}},
			AutoScaling:       &deploy.AutoScaling{Min: 2, Max: 8, TargetTracking: policies},
			RetainOldServices: 1, SteadyStateTimeout: 20 * time.Second, FailedTaskThreshold: 1,
		}
		if schedule {
			c.AutoScaling.ScheduledActions = []deploy.ScheduledAction{morning}
		}
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []stepOutcome
	var st deploy.State
	record := func(step string, res *deploy.Result, err error) {
		o := stepOutcome{step: step, err: err}
		if res != nil {
			o.warnings = res.Warnings
		}
		out = append(out, o)
	}

	res, err := eng.Deploy(ctx, cfg(tdHealthy1, true, cpu, mem), st)
	record("create web:1 with auto scaling", res, err)
	if err != nil {
		return out, srv, nil
	}
	st = res.State
	canary := cfg(tdHealthy2, true, cpu, mem)
	threshold := 1000.0
	canary.Analysis = &deploy.Analysis{AlarmNames: []string{"web-5xx"}, Interval: 100 * time.Millisecond, Metrics: []deploy.MetricCheck{{
		Name: "errors", Threshold: &threshold, NoData: deploy.NoDataPass,
		Metric: &deploy.MetricStat{Namespace: "ecslocal", MetricName: "Errors", Statistic: "Sum", Dimensions: map[string]string{"ServiceName": deploy.ServicePlaceholder}},
	}}}
	res, err = eng.Deploy(ctx, canary, st)
	record("canary deployment of web:2", res, err)
	if err != nil {
		return out, srv, nil
	}
	st = res.State
	res, err = eng.Deploy(ctx, cfg(tdCrash, true, cpu, mem), st)
	record("failed deployment of web:3, rolled back", res, err)
	var re *deploy.RolloutError
	if !errors.As(err, &re) || !re.RolledBack || re.Failure.Kind != deploy.FailureTasks {
		return out, srv, nil // not the rollback it should be: the step failed unexpectedly
	}
	res, err = eng.UpdateAutoScaling(ctx, cfg(tdHealthy2, false, cpu), st)
	record("auto scaling update dropping policy mem70 and scheduled action morning", res, err)
	if err != nil {
		return out, srv, nil
	}
	st = res.State
	_, err = eng.Read(ctx, cfg(tdHealthy2, false, cpu), st)
	record("read", nil, err)
	if err != nil {
		return out, srv, nil
	}
	err = eng.Delete(ctx, cfg(tdHealthy2, false, cpu), st)
	record("destroy", nil, err)
	if err != nil {
		return out, srv, nil
	}
	two := 2
	for _, lb := range []struct{ step, name, td, tg, launch string }{
		{"load-balanced deployment of api:1 (awsvpc)", "api", "api:1", "api", ""},
		{"load-balanced deployment of legacy:1 (bridge on EC2)", "legacy", "legacy:1", "legacy", "EC2"},
	} {
		tg, ok := srv.TargetGroupArn(lb.tg)
		if !ok {
			return out, srv, fmt.Errorf("target group %s was not seeded", lb.tg)
		}
		c := deploy.Config{
			Cluster: "prod", Name: lb.name, DeploymentID: "prod/" + lb.name, TaskDefinition: lb.td, DesiredCount: &two,
			SteadyStateTimeout: 20 * time.Second, FailedTaskThreshold: 1,
			Service: deploy.ServiceTemplate{LaunchType: lb.launch, LoadBalancers: []deploy.LoadBalancer{{TargetGroupARN: tg, ContainerName: lb.name, ContainerPort: map[string]int{"api": 8080, "legacy": 80}[lb.name]}}},
		}
		if lb.launch == "" {
			c.Service.Network = &deploy.NetworkConfig{Subnets: []string{"subnet-1"}}
		}
		res, err := eng.Deploy(ctx, c, deploy.State{})
		record(lb.step, res, err)
		if err != nil {
			return out, srv, nil
		}
	}
	return out, srv, nil
}

// TestLeastPrivilege checks the documented IAM policy action by action, driven through the engine
// rather than terraform (the same engine calls the provider makes, at a fraction of the time): with
// ecslocal's allow-list exactly the documented list, a scenario that exercises every action
// succeeds with no AccessDenied anywhere and calls every listed action; with any one action
// removed, the scenario fails with an AccessDeniedException error that names the action, or, for
// the two best-effort actions, reports a warning that names it and otherwise completes.
func TestLeastPrivilege(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	started := time.Now()
	actions := leastPrivilegeActions(t)

	// The baseline: everything listed, nothing else.
	steps, srv, err := leastPrivilegeScenario(actions)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != scenarioSteps {
		t.Fatalf("with every listed action allowed, the scenario stopped at %q: %v", steps[len(steps)-1].step, steps[len(steps)-1].err)
	}
	for _, s := range steps {
		if s.err != nil && s.step != "failed deployment of web:3, rolled back" {
			t.Errorf("%s: %v", s.step, s.err)
		}
		for _, w := range s.warnings {
			t.Errorf("%s warned with every listed action allowed: %s", s.step, w)
		}
	}
	called := map[string]bool{}
	for _, c := range srv.Calls() {
		if c.ErrorCode == "AccessDeniedException" {
			t.Errorf("a call was denied with every listed action allowed: %s %s", c.Action(), c.Resource)
		}
		called[c.Action()] = true
	}
	for _, a := range actions {
		// Actions that AWS authorizes as part of another call are not calls of their own.
		implied := a == "cloudwatch:PutMetricAlarm" || a == "cloudwatch:DeleteAlarms" || strings.HasPrefix(a, "iam:")
		if !implied && !called[a] {
			t.Errorf("the scenario never calls %s, so removing it would prove nothing", a)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Each action removed in turn, the runs side by side.
	results := make([][]stepOutcome, len(actions))
	errs := make([]error, len(actions))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i, a := range actions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			allow := slices.DeleteFunc(slices.Clone(actions), func(x string) bool { return x == a })
			results[i], _, errs[i] = leastPrivilegeScenario(allow)
		}()
	}
	wg.Wait()
	failed, warned := 0, 0
	for i, a := range actions {
		t.Run("without "+a, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			names := func(text string) bool {
				return strings.Contains(text, "AccessDenied") && strings.Contains(text, "not authorized to perform: "+a+" ")
			}
			var errored, warnedHere []string
			for _, s := range results[i] {
				if s.err != nil && names(s.err.Error()) {
					errored = append(errored, s.step)
				}
				for _, w := range s.warnings {
					if names(w) {
						warnedHere = append(warnedHere, s.step)
					}
				}
			}
			last := results[i][len(results[i])-1]
			switch {
			case slices.Contains(warningOnlyActions, a):
				if len(warnedHere) == 0 || len(errored) > 0 || len(results[i]) != scenarioSteps {
					t.Errorf("without %s every step should complete and a warning name it; steps: %s", a, describeSteps(results[i]))
				}
				warned++
				t.Logf("denied %s reported as a warning in: %v", a, warnedHere)
			case slices.Contains(bestEffortActions, a):
				if len(warnedHere) == 0 && len(errored) == 0 {
					t.Errorf("no warning or error names the denied %s; steps: %s", a, describeSteps(results[i]))
				}
				if len(results[i]) <= plainSteps || results[i][plainSteps-1].err != nil {
					t.Errorf("without the best-effort %s the steps without a load balancer should still complete; steps: %s", a, describeSteps(results[i]))
				}
				if len(errored) == 0 || len(results[i]) != plainSteps+1 || !names(last.err.Error()) {
					t.Errorf("without %s the load-balanced deployment should fail with an error naming it; steps: %s", a, describeSteps(results[i]))
				}
				warned++
				t.Logf("denied %s reported as a warning in: %v", a, warnedHere)
			default:
				if len(errored) == 0 {
					t.Errorf("no step failed with an AccessDenied error naming %s; steps: %s", a, describeSteps(results[i]))
					return
				}
				failed++
				t.Logf("denied %s failed: %v", a, errored)
			}
		})
	}
	t.Logf("least privilege, engine-driven: %d actions in least-privilege-actions.txt; 1 baseline run with exactly that allow-list (8 steps, no denial, every callable action called); %d runs with one action removed: %d failed with an AccessDenied error naming the action, %d best-effort or warning-only actions reported as a warning naming it; %s",
		len(actions), len(actions), failed, warned, time.Since(started).Round(time.Millisecond))
}

func describeSteps(steps []stepOutcome) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "\n  %s: err=%v warnings=%q", s.step, s.err, s.warnings)
	}
	return b.String()
}
