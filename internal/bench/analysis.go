package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// gateInterval is how often the benchmark's gates are read: short, so that the runs are short;
// detection is measured against it.
const gateInterval = 500 * time.Millisecond

// bakeHook is the engine's log in an analysis run: it calls fire once when phase 1's bake
// begins, and records when the rollback began.
type bakeHook struct {
	*waitLog
	once sync.Once
	fire func()
}

func (h *bakeHook) Info(_ context.Context, msg string, _ map[string]any) {
	if strings.HasPrefix(msg, "phase 1: baking") {
		h.once.Do(func() { go h.fire() })
	}
}

// analysisEnv is a rollout environment whose engine reads CloudWatch on ecslocal, with alarm
// web-5xx in place (OK until set otherwise; missing data keeps its state).
func analysisEnv(ctx context.Context) (*local, deploy.State, *cloudwatch.Client, error) {
	l, st, _, _, err := rolloutEnv(ctx, 100*time.Millisecond, 50*time.Millisecond, "healthy", "healthy")
	if err != nil {
		return nil, deploy.State{}, nil, err
	}
	cw := cloudwatch.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", "")},
		func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(l.url) })
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), Namespace: aws.String("ecslocal"), MetricName: aws.String("Errors"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("ServiceName"), Value: aws.String("web__2")}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(100),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("ignore"),
	})
	if err != nil {
		l.hs.Close()
		return nil, deploy.State{}, nil, err
	}
	return l, st, cw, nil
}

// analysisConfig is the 3-phase release gated on alarm web-5xx and on a metric check of the new
// revision's errors (no data passes), with a bake of bake in phase 1.
func analysisConfig(bake time.Duration) deploy.Config {
	c := config(25, 50, 100)
	c.Phases[0].BakeTime = bake
	limit := 100.0
	c.Analysis = &deploy.Analysis{AlarmNames: []string{"web-5xx"}, Interval: gateInterval, Metrics: []deploy.MetricCheck{{
		Name: "errors", Threshold: &limit, NoData: deploy.NoDataPass,
		Metric: &deploy.MetricStat{Namespace: "ecslocal", MetricName: "Errors", Statistic: "Sum",
			Dimensions: map[string]string{"ServiceName": deploy.ServicePlaceholder}},
	}}}
	return c
}

// gateDetection runs one gated rollout whose alarm is set to ALARM offset into phase 1's bake,
// and returns the time from that state change to the start of the rollback.
func gateDetection(ctx context.Context, offset time.Duration) (time.Duration, error) {
	l, st, cw, err := analysisEnv(ctx)
	if err != nil {
		return 0, err
	}
	defer l.hs.Close()
	var changed time.Time
	var setErr error
	hook := &bakeHook{waitLog: &waitLog{}}
	hook.fire = func() {
		time.Sleep(offset)
		// The state changes while the call is served: its start is the earliest it can be.
		changed = time.Now()
		_, setErr = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String("web-5xx"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("bench: 5xx above 1 %"),
		})
	}
	eng := &deploy.Engine{ECS: l.ecs, AutoScaling: l.aas, CloudWatch: cw, Log: hook}
	_, err = eng.Deploy(ctx, analysisConfig(5*time.Second), st)
	var re *deploy.RolloutError
	switch {
	case setErr != nil:
		return 0, setErr
	case !errors.As(err, &re) || re.Failure.Kind != deploy.FailureAnalysis:
		return 0, fmt.Errorf("the gated rollout did not fail its analysis gate: %v", err)
	case hook.failedAt.IsZero():
		return 0, fmt.Errorf("no rollback was logged")
	}
	return hook.failedAt.Sub(changed), nil
}

// benchAnalysisGate measures how soon an alarm that goes to ALARM rolls a phase back (goal: one
// read interval), and what the gates cost in calls per minute of bake.
func benchAnalysisGate(ctx context.Context, rep *report) error {
	var lat []time.Duration
	// Offsets spread over a read interval, so that the state change falls at every point
	// between two reads.
	for i := range 6 {
		d, err := gateDetection(ctx, time.Second+time.Duration(i)*gateInterval/6)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	worst := lat[0]
	for _, d := range lat {
		worst = max(worst, d)
	}
	rep.add("gate_detect_latency_ms", fmt.Sprint(median(lat).Milliseconds()), fmt.Sprintf("≤ %d (1 read interval)", gateInterval.Milliseconds()),
		fmt.Sprintf("median of %d runs from SetAlarmState to the rollback's start, read interval %s; worst %d ms; all %v",
			len(lat), gateInterval, worst.Milliseconds(), roundAll(lat)))

	// Cost: a successful rollout with a 6 s bake in phase 1, gated on one alarm and one metric.
	l, st, cw, err := analysisEnv(ctx)
	if err != nil {
		return err
	}
	defer l.hs.Close()
	const bake = 6 * time.Second
	eng := &deploy.Engine{ECS: l.ecs, AutoScaling: l.aas, CloudWatch: cw, Log: &waitLog{}}
	t0 := time.Now()
	if _, err := eng.Deploy(ctx, analysisConfig(bake), st); err != nil {
		return fmt.Errorf("gated rollout: %w", err)
	}
	wall := time.Since(t0)
	counts := l.srv.CallCounts()
	gateCalls := counts["cloudwatch:DescribeAlarms"] + counts["cloudwatch:GetMetricData"]
	perMinute := float64(gateCalls) / wall.Minutes()
	atDefault := perMinute * gateInterval.Seconds() / deploy.DefaultAnalysisInterval.Seconds()
	rep.add("gate_calls_per_bake_minute", fmt.Sprintf("%.0f", perMinute), "report",
		fmt.Sprintf("%d CloudWatch calls (DescribeAlarms %d, GetMetricData %d: one of each per read of 1 alarm and 1 metric check) over the %.1f s gated rollout with a %s bake, read every %s; at the default %s interval that is %.0f calls a minute",
			gateCalls, counts["cloudwatch:DescribeAlarms"], counts["cloudwatch:GetMetricData"], wall.Seconds(), bake, gateInterval, deploy.DefaultAnalysisInterval, atDefault))
	return nil
}
