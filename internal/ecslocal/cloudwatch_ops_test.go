package ecslocal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// cwT0 is where newEnv's fake clock starts.
var cwT0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// cwClient is the real aws-sdk-go-v2 CloudWatch client (Smithy RPC v2 CBOR) pointed at e, with
// retries off so that injected faults show as they are.
func cwClient(e *env) *cloudwatch.Client {
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.BaseEndpoint = aws.String(e.url)
		o.RetryMaxAttempts = 1
	})
}

func errorsCodeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func putAlarm(t *testing.T, cw *cloudwatch.Client, in *cloudwatch.PutMetricAlarmInput) {
	t.Helper()
	if _, err := cw.PutMetricAlarm(context.Background(), in); err != nil {
		t.Fatalf("PutMetricAlarm %s: %v", aws.ToString(in.AlarmName), err)
	}
}

// errorsAlarm is a one-period alarm on the Sum of Errors of app/web above 5.
func errorsAlarm(name string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("app"), MetricName: aws.String("Errors"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}
}

func alarm(t *testing.T, cw *cloudwatch.Client, name string) cwtypes.MetricAlarm {
	t.Helper()
	out, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

func putValue(t *testing.T, cw *cloudwatch.Client, name string, v float64, at time.Time) {
	t.Helper()
	_, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("app"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(name), Value: aws.Float64(v), Timestamp: aws.Time(at),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCloudWatch_putDescribeDeleteAlarms(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	ctx := context.Background()
	for _, n := range []string{"web-errors", "web-latency", "api-errors"} {
		putAlarm(t, cw, errorsAlarm(n))
	}
	a := alarm(t, cw, "web-errors")
	if aws.ToString(a.AlarmArn) != "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:web-errors" ||
		a.StateValue != cwtypes.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" ||
		!aws.ToTime(a.StateUpdatedTimestamp).Equal(cwT0) || !aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).Equal(cwT0) ||
		aws.ToFloat64(a.Threshold) != 5 || aws.ToInt32(a.Period) != 60 || a.Statistic != cwtypes.StatisticSum ||
		len(a.Dimensions) != 1 || !aws.ToBool(a.ActionsEnabled) {
		t.Fatalf("new alarm: %+v", a)
	}

	prefix, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-")})
	if err != nil || len(prefix.MetricAlarms) != 2 || aws.ToString(prefix.MetricAlarms[0].AlarmName) != "web-errors" {
		t.Fatalf("prefix: %v %+v", err, prefix)
	}
	composite, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeCompositeAlarm}})
	if err != nil || len(composite.MetricAlarms) != 0 {
		t.Fatalf("composite only: %v %+v", err, composite)
	}
	ok, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueOk})
	if err != nil || len(ok.MetricAlarms) != 0 {
		t.Fatalf("state OK: %v %+v", err, ok)
	}
	var names []string
	pages := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	for n := 0; pages.HasMorePages(); n++ {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && (len(page.MetricAlarms) != 2 || page.NextToken == nil) {
			t.Fatalf("first page: %+v", page)
		}
		for _, a := range page.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	if strings.Join(names, ",") != "api-errors,web-errors,web-latency" {
		t.Fatalf("paginated: %v", names)
	}

	// An update overwrites the configuration and keeps the state.
	e.clock.Advance(10 * time.Second)
	upd := errorsAlarm("web-errors")
	upd.Threshold = aws.Float64(50)
	putAlarm(t, cw, upd)
	a = alarm(t, cw, "web-errors")
	if aws.ToFloat64(a.Threshold) != 50 || !aws.ToTime(a.StateUpdatedTimestamp).Equal(cwT0) || !aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).Equal(cwT0.Add(10*time.Second)) {
		t.Fatalf("updated alarm: %+v", a)
	}

	// A name that does not exist deletes nothing.
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-errors", "nope"}})
	var nf *cwtypes.ResourceNotFound
	if !errors.As(err, &nf) || errorsCodeOf(err) != "ResourceNotFound" {
		t.Fatalf("delete with a missing name: %v", err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-errors", "api-errors"}}); err != nil {
		t.Fatal(err)
	}
	all, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(all.MetricAlarms) != 1 || aws.ToString(all.MetricAlarms[0].AlarmName) != "web-latency" {
		t.Fatalf("after delete: %v %+v", err, all)
	}
}

func TestCloudWatch_errors(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	ctx := context.Background()
	putAlarm(t, cw, errorsAlarm("web-errors"))
	both := errorsAlarm("x")
	both.ExtendedStatistic = aws.String("p99")
	badPeriod := errorsAlarm("x")
	badPeriod.Period = aws.Int32(45)
	tooMany := errorsAlarm("x")
	tooMany.DatapointsToAlarm = aws.Int32(2)
	badExpr := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("x"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		Metrics:            []cwtypes.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("NOPE(m1)"), Period: aws.Int32(60)}},
	}
	datum := func(d cwtypes.MetricDatum) *cloudwatch.PutMetricDataInput {
		d.MetricName = aws.String("Errors")
		return &cloudwatch.PutMetricDataInput{Namespace: aws.String("app"), MetricData: []cwtypes.MetricDatum{d}}
	}
	stat := &cwtypes.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}
	query := func(expr string) *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(cwT0.Add(-time.Hour)), EndTime: aws.Time(cwT0),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String(expr), Period: aws.Int32(60)}},
		}
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
		want any
	}{
		{"Statistic and ExtendedStatistic", func() error { _, err := cw.PutMetricAlarm(ctx, both); return err }, "InvalidParameterCombination", &cwtypes.InvalidParameterCombinationException{}},
		{"period 45", func() error { _, err := cw.PutMetricAlarm(ctx, badPeriod); return err }, "ValidationError", nil},
		{"DatapointsToAlarm > EvaluationPeriods", func() error { _, err := cw.PutMetricAlarm(ctx, tooMany); return err }, "ValidationError", nil},
		{"unknown function", func() error { _, err := cw.PutMetricAlarm(ctx, badExpr); return err }, "ValidationError", nil},
		{"AWS/ namespace", func() error {
			_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/ECS"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
			return err
		}, "InvalidParameterValue", &cwtypes.InvalidParameterValueException{}},
		{"Value and StatisticValues", func() error {
			_, err := cw.PutMetricData(ctx, datum(cwtypes.MetricDatum{Value: aws.Float64(1), StatisticValues: stat}))
			return err
		}, "InvalidParameterCombination", &cwtypes.InvalidParameterCombinationException{}},
		{"Values and Counts of different sizes", func() error {
			_, err := cw.PutMetricData(ctx, datum(cwtypes.MetricDatum{Values: []float64{1, 2}, Counts: []float64{1}}))
			return err
		}, "InvalidParameterValue", &cwtypes.InvalidParameterValueException{}},
		{"no value", func() error { _, err := cw.PutMetricData(ctx, datum(cwtypes.MetricDatum{})); return err }, "MissingParameter", &cwtypes.MissingRequiredParameterException{}},
		{"timestamp in 3 hours", func() error {
			_, err := cw.PutMetricData(ctx, datum(cwtypes.MetricDatum{Value: aws.Float64(1), Timestamp: aws.Time(cwT0.Add(3 * time.Hour))}))
			return err
		}, "InvalidParameterValue", &cwtypes.InvalidParameterValueException{}},
		{"StartTime after EndTime", func() error {
			in := query("1")
			in.StartTime, in.EndTime = in.EndTime, in.StartTime
			_, err := cw.GetMetricData(ctx, in)
			return err
		}, "InvalidParameterValue", &cwtypes.InvalidParameterValueException{}},
		{"expression syntax", func() error { _, err := cw.GetMetricData(ctx, query("m1 +")); return err }, "ValidationError", nil},
		{"unknown id", func() error { _, err := cw.GetMetricData(ctx, query("m9 * 2")); return err }, "ValidationError", nil},
		{"bad next token", func() error {
			_, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("garbage!")})
			return err
		}, "InvalidNextToken", &cwtypes.InvalidNextToken{}},
		{"SetAlarmState of a missing alarm", func() error {
			_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")})
			return err
		}, "ResourceNotFound", &cwtypes.ResourceNotFound{}},
		{"StateReasonData not JSON", func() error {
			_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("web-errors"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test"), StateReasonData: aws.String("{nope")})
			return err
		}, "InvalidFormat", &cwtypes.InvalidFormatFault{}},
	} {
		err := tc.call()
		if errorsCodeOf(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
			continue
		}
		if tc.want != nil && !errors.As(err, &tc.want) {
			t.Errorf("%s: %T is not %T", tc.name, err, tc.want)
		}
	}
	if n := e.srv.CallCounts()["cloudwatch:PutMetricData"]; n != 5 {
		t.Errorf("call log: %d PutMetricData calls, want 5", n)
	}
}

func TestCloudWatch_alarmEvaluatesPutMetricData(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	putAlarm(t, cw, errorsAlarm("web-errors"))
	putValue(t, cw, "Errors", 12, cwT0)

	// Evaluated at the end of the period that holds the datapoint.
	e.clock.Advance(59 * time.Second)
	if a := alarm(t, cw, "web-errors"); a.StateValue != cwtypes.StateValueInsufficientData {
		t.Fatalf("before the period ends: %s", a.StateValue)
	}
	e.clock.Advance(time.Second)
	a := alarm(t, cw, "web-errors")
	want := "Threshold Crossed: 1 datapoint [12.0 (26/11/26 12:00:00)] was greater than the threshold (5.0)."
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != want || !aws.ToTime(a.StateUpdatedTimestamp).Equal(cwT0.Add(time.Minute)) {
		t.Fatalf("ALARM: %s %q at %v", a.StateValue, aws.ToString(a.StateReason), a.StateUpdatedTimestamp)
	}
	if !strings.Contains(aws.ToString(a.StateReasonData), `"recentDatapoints":[12.0],"threshold":5.0`) {
		t.Fatalf("StateReasonData: %s", aws.ToString(a.StateReasonData))
	}

	// No datapoint in the next period: missing data (the default) is INSUFFICIENT_DATA.
	e.clock.Advance(time.Minute)
	a = alarm(t, cw, "web-errors")
	if a.StateValue != cwtypes.StateValueInsufficientData || aws.ToString(a.StateReason) != "Insufficient Data: 1 datapoint was unknown." {
		t.Fatalf("no data: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	putValue(t, cw, "Errors", 1, e.clock.Now())
	e.clock.Advance(time.Minute)
	a = alarm(t, cw, "web-errors")
	if a.StateValue != cwtypes.StateValueOk || aws.ToString(a.StateReason) != "Threshold Crossed: 1 datapoint [1.0 (26/11/26 12:02:00)] was not greater than the threshold (5.0)." {
		t.Fatalf("OK: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
}

func TestCloudWatch_datapointsToAlarmAndMissingData(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	mOfN := errorsAlarm("two-of-three")
	mOfN.EvaluationPeriods, mOfN.DatapointsToAlarm = aws.Int32(3), aws.Int32(2)
	mOfN.TreatMissingData = aws.String("notBreaching")
	breaching := errorsAlarm("missing-breaches")
	breaching.MetricName = aws.String("Heartbeats")
	breaching.TreatMissingData = aws.String("breaching")
	putAlarm(t, cw, mOfN)
	putAlarm(t, cw, breaching)

	putValue(t, cw, "Errors", 9, cwT0)
	e.clock.Advance(time.Minute)
	if a := alarm(t, cw, "two-of-three"); a.StateValue != cwtypes.StateValueOk {
		t.Fatalf("1 of 3 breaching: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	a := alarm(t, cw, "missing-breaches")
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]." {
		t.Fatalf("missing treated as breaching: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	putValue(t, cw, "Errors", 7, e.clock.Now())
	e.clock.Advance(time.Minute)
	a = alarm(t, cw, "two-of-three")
	want := "Threshold Crossed: 2 out of the last 3 datapoints [7.0 (26/11/26 12:01:00), 9.0 (26/11/26 12:00:00)] were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != want {
		t.Fatalf("2 of 3 breaching: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
}

func TestCloudWatch_setAlarmStateHoldsUntilNextEvaluation(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	ctx := context.Background()
	ignore := errorsAlarm("ignore")
	ignore.TreatMissingData = aws.String("ignore")
	quiet := errorsAlarm("quiet")
	quiet.TreatMissingData = aws.String("notBreaching")
	putAlarm(t, cw, ignore)
	putAlarm(t, cw, quiet)
	e.clock.Advance(30 * time.Second)
	for _, n := range []string{"ignore", "quiet"} {
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName: aws.String(n), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("testing actions"), StateReasonData: aws.String(`{"by":"test"}`),
		}); err != nil {
			t.Fatal(err)
		}
		a := alarm(t, cw, n)
		if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "testing actions" || aws.ToString(a.StateReasonData) != `{"by":"test"}` || !aws.ToTime(a.StateUpdatedTimestamp).Equal(cwT0.Add(30*time.Second)) {
			t.Fatalf("set %s: %+v", n, a)
		}
	}
	e.clock.Advance(30 * time.Second)
	// The evaluation finds no data: "ignore" keeps the state it was set to, "notBreaching" goes OK.
	if a := alarm(t, cw, "ignore"); a.StateValue != cwtypes.StateValueAlarm {
		t.Fatalf("ignore: %s", a.StateValue)
	}
	if a := alarm(t, cw, "quiet"); a.StateValue != cwtypes.StateValueOk || !aws.ToTime(a.StateUpdatedTimestamp).Equal(cwT0.Add(time.Minute)) {
		t.Fatalf("notBreaching: %s %v", a.StateValue, a.StateUpdatedTimestamp)
	}
}

// registerWithMetric registers web with an ecslocal.metric.Errors label.
func registerWithMetric(t *testing.T, e *env, errorsPerMin string) string {
	t.Helper()
	out, err := e.ecs.RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx"), Essential: aws.Bool(true),
			DockerLabels: map[string]string{"ecslocal.behavior": "healthy", "ecslocal.metric.Errors": errorsPerMin},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func serviceErrorsStat(service string) *cwtypes.MetricStat {
	return &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("ecslocal"), MetricName: aws.String("Errors"), Dimensions: []cwtypes.Dimension{
			{Name: aws.String("ClusterName"), Value: aws.String("prod")}, {Name: aws.String("ServiceName"), Value: aws.String(service)},
		}},
		Period: aws.Int32(60), Stat: aws.String("Sum"),
	}
}

func TestCloudWatch_serviceMetricsFromTaskLabels(t *testing.T) {
	// A time scale of 0.01 makes a 60-second period 600 ms; the label's "/min" scales with it.
	e := newEnvWith(t, ecslocal.Options{TimeScale: 0.01})
	cw := cwClient(e)
	ctx := context.Background()
	if _, err := e.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	rev1 := registerWithMetric(t, e, "0/min")
	rev2 := registerWithMetric(t, e, "5/min")
	e.createService(t, "web__1", rev1, 2)
	e.createService(t, "web__2", rev2, 2)
	for _, svc := range []string{"web__1", "web__2"} {
		ms := serviceErrorsStat(svc)
		putAlarm(t, cw, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(svc + "-errors"), Namespace: ms.Metric.Namespace, MetricName: ms.Metric.MetricName, Dimensions: ms.Metric.Dimensions,
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
	}
	e.clock.Advance(600 * time.Millisecond)
	a := alarm(t, cw, "web__2-errors")
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "Threshold Crossed: 1 datapoint [10.0 (26/11/26 12:00:00)] was greater than the threshold (0.0)." {
		t.Fatalf("new revision: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	if a := alarm(t, cw, "web__1-errors"); a.StateValue != cwtypes.StateValueOk {
		t.Fatalf("old revision: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}

	// Three periods later, with web__2 scaled in to 1 task after the first: 10, 5, 5 errors.
	if _, err := e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web__2"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(1200 * time.Millisecond)
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(cwT0), EndTime: aws.Time(e.clock.Now()), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("old"), MetricStat: serviceErrorsStat("web__1")},
			{Id: aws.String("new"), MetricStat: serviceErrorsStat("web__2")},
			{Id: aws.String("tasks"), MetricStat: &cwtypes.MetricStat{Metric: serviceErrorsStat("web__2").Metric, Period: aws.Int32(60), Stat: aws.String("SampleCount")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{}
	for _, r := range out.MetricDataResults {
		got[aws.ToString(r.Id)] = r.Values
		if aws.ToString(r.Label) != "Errors" || len(r.Timestamps) != 3 || !r.Timestamps[0].Equal(cwT0) || !r.Timestamps[1].Equal(cwT0.Add(600*time.Millisecond)) {
			t.Fatalf("result %s: %+v", aws.ToString(r.Id), r)
		}
	}
	if !floatsEq(got["old"], 0, 0, 0) || !floatsEq(got["new"], 10, 5, 5) || !floatsEq(got["tasks"], 2, 1, 1) {
		t.Fatalf("per-service metrics: %v", got)
	}
}

func floatsEq(got []float64, want ...float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
			return false
		}
	}
	return true
}

func TestCloudWatch_getMetricDataExpressions(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	ctx := context.Background()
	// Errors 1, -, 3 and Requests 10, 20, 30 in the three minutes from cwT0.
	putValue(t, cw, "Errors", 1, cwT0)
	putValue(t, cw, "Errors", 3, cwT0.Add(2*time.Minute))
	for i, v := range []float64{10, 20, 30} {
		putValue(t, cw, "Requests", v, cwT0.Add(time.Duration(i)*time.Minute+time.Second))
	}
	e.clock.Advance(3 * time.Minute)
	stat := func(name string) *cwtypes.MetricStat {
		return &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("app"), MetricName: aws.String(name), Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
			Period: aws.Int32(60), Stat: aws.String("Sum"),
		}
	}
	exprs := map[string]struct {
		expr string
		want []float64 // ascending, at cwT0, cwT0+1m, cwT0+2m where present
	}{
		"rate":    {"m1 / m2 * 100", []float64{10, 10}},
		"double":  {"m2 * 2 - 1", []float64{19, 39, 59}},
		"total":   {"SUM([m1, m2])", []float64{11, 20, 33}},
		"filled":  {"FILL(m1, 0)", []float64{1, 0, 3}},
		"repeat":  {"FILL(m1, REPEAT)", []float64{1, 1, 3}},
		"busy":    {"IF(m2 > 15, 1, 0)", []float64{0, 1, 1}},
		"maxall":  {"MAX(METRICS())", []float64{10, 20, 30}},
		"average": {"m2 - AVG(m2)", []float64{-10, 0, 10}},
		"either":  {"m1 > 2 OR m2 < 15", []float64{1, 1}},
	}
	qs := []cwtypes.MetricDataQuery{
		{Id: aws.String("m1"), MetricStat: stat("Errors"), ReturnData: aws.Bool(false)},
		{Id: aws.String("m2"), MetricStat: stat("Requests"), Label: aws.String("requests")},
	}
	for id, x := range exprs {
		qs = append(qs, cwtypes.MetricDataQuery{Id: aws.String(id), Expression: aws.String(x.expr)})
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(cwT0), EndTime: aws.Time(e.clock.Now()), MetricDataQueries: qs, ScanBy: cwtypes.ScanByTimestampAscending,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricDataResults) != len(exprs)+1 {
		t.Fatalf("%d results, want %d (m1 returns no data)", len(out.MetricDataResults), len(exprs)+1)
	}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		if r.StatusCode != cwtypes.StatusCodeComplete {
			t.Errorf("%s: status %s", id, r.StatusCode)
		}
		if id == "m2" {
			if aws.ToString(r.Label) != "requests" || !floatsEq(r.Values, 10, 20, 30) {
				t.Errorf("m2: %+v", r)
			}
			continue
		}
		if !floatsEq(r.Values, exprs[id].want...) {
			t.Errorf("%s = %s: %v, want %v", id, exprs[id].expr, r.Values, exprs[id].want)
		}
	}

	// Newest first by default.
	desc, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(cwT0), EndTime: aws.Time(e.clock.Now()), MetricDataQueries: qs[1:2],
	})
	if err != nil || !floatsEq(desc.MetricDataResults[0].Values, 30, 20, 10) || !desc.MetricDataResults[0].Timestamps[0].Equal(cwT0.Add(2*time.Minute)) {
		t.Fatalf("descending: %v %+v", err, desc)
	}
}

func TestCloudWatch_statistics(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	ctx := context.Background()
	dims := []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("app"),
		MetricData: []cwtypes.MetricDatum{
			{MetricName: aws.String("Latency"), Dimensions: dims, Values: []float64{100, 200, 900}, Counts: []float64{8, 1, 1}, Unit: cwtypes.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: dims, Value: aws.Float64(50), Unit: cwtypes.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: dims, Value: aws.Float64(7), Unit: cwtypes.StandardUnitSeconds},
		},
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	var qs []cwtypes.MetricDataQuery
	stats := []string{"SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p95"}
	for _, st := range stats {
		qs = append(qs, cwtypes.MetricDataQuery{Id: aws.String(strings.ToLower(st)), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("app"), MetricName: aws.String("Latency"), Dimensions: dims},
			Period: aws.Int32(60), Stat: aws.String(st), Unit: cwtypes.StandardUnitMilliseconds,
		}})
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(cwT0), EndTime: aws.Time(e.clock.Now()), MetricDataQueries: qs})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"samplecount": 11, "sum": 1950, "average": 1950.0 / 11, "minimum": 50, "maximum": 900, "p50": 100, "p95": 900}
	for _, r := range out.MetricDataResults {
		if !floatsEq(r.Values, want[aws.ToString(r.Id)]) {
			t.Errorf("%s: %v, want %v", aws.ToString(r.Id), r.Values, want[aws.ToString(r.Id)])
		}
	}
}

func TestCloudWatch_metricMathAlarm(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	stat := func(name string) *cwtypes.MetricStat {
		return &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("app"), MetricName: aws.String(name), Dimensions: []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
			Period: aws.Int32(60), Stat: aws.String("Sum"),
		}
	}
	putAlarm(t, cw, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("error-rate"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
		Metrics: []cwtypes.MetricDataQuery{
			{Id: aws.String("errors"), MetricStat: stat("Errors"), ReturnData: aws.Bool(false)},
			{Id: aws.String("requests"), MetricStat: stat("Requests"), ReturnData: aws.Bool(false)},
			{Id: aws.String("rate"), Expression: aws.String("100 * errors / requests"), Label: aws.String("error rate"), ReturnData: aws.Bool(true)},
		},
	})
	putValue(t, cw, "Errors", 3, cwT0)
	putValue(t, cw, "Requests", 20, cwT0)
	e.clock.Advance(time.Minute)
	a := alarm(t, cw, "error-rate")
	if a.StateValue != cwtypes.StateValueAlarm || aws.ToString(a.StateReason) != "Threshold Crossed: 1 datapoint [15.0 (26/11/26 12:00:00)] was greater than or equal to the threshold (10.0)." ||
		len(a.Metrics) != 3 || aws.ToString(a.Metrics[2].Expression) != "100 * errors / requests" {
		t.Fatalf("metric math alarm: %s %q %+v", a.StateValue, aws.ToString(a.StateReason), a.Metrics)
	}
	if _, err := cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("two-results"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		Metrics:            []cwtypes.MetricDataQuery{{Id: aws.String("a"), MetricStat: stat("Errors")}, {Id: aws.String("b"), MetricStat: stat("Requests")}},
	}); errorsCodeOf(err) != "ValidationError" {
		t.Fatalf("two queries returning data: %v", err)
	}
}

func TestCloudWatch_iamFaultsAndCallLog(t *testing.T) {
	e := newEnvWith(t, ecslocal.Options{AllowedActions: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:PutMetricData"}})
	cw := cwClient(e)
	ctx := context.Background()
	putAlarm(t, cw, errorsAlarm("web-errors"))
	_, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if errorsCodeOf(err) != "AccessDenied" || !strings.Contains(err.Error(), "cloudwatch:DescribeAlarms") {
		t.Fatalf("denied DescribeAlarms: %v", err)
	}
	e.srv.InjectFault(ecslocal.Fault{Operation: "cloudwatch:PutMetricData", Count: 1, Code: "InternalServiceError", Message: "boom", Status: 500})
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("app"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	var isf *cwtypes.InternalServiceFault
	if !errors.As(err, &isf) || errorsCodeOf(err) != "InternalServiceError" {
		t.Fatalf("injected fault: %v", err)
	}
	calls := e.srv.Calls()
	last := calls[len(calls)-1]
	if last.Service != "cloudwatch" || last.Operation != "PutMetricData" || last.ErrorCode != "InternalServiceError" || last.Action() != "cloudwatch:PutMetricData" || !last.Write {
		t.Fatalf("call log: %+v", last)
	}
	if calls[0].Resource != "web-errors" || calls[1].ErrorCode != "AccessDenied" {
		t.Fatalf("call log: %+v", calls)
	}
}

// cwQuery posts an awsQuery request, as Debian's AWS CLI v2 and other query clients do.
func cwQuery(t *testing.T, url_ string, params url.Values) (int, string) {
	t.Helper()
	params.Set("Version", "2010-08-01")
	req, _ := http.NewRequest(http.MethodPost, url_, strings.NewReader(params.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCloudWatch_awsQuery(t *testing.T) {
	e := newEnv(t, 0, 0)
	status, body := cwQuery(t, e.url, url.Values{
		"Action": {"PutMetricAlarm"}, "AlarmName": {"web-errors"}, "Namespace": {"app"}, "MetricName": {"Errors"},
		"Dimensions.member.1.Name": {"Service"}, "Dimensions.member.1.Value": {"web"},
		"Statistic": {"Sum"}, "Period": {"60"}, "EvaluationPeriods": {"1"}, "Threshold": {"5"},
		"ComparisonOperator": {"GreaterThanThreshold"}, "AlarmActions.member.1": {"arn:aws:sns:eu-west-1:000000000000:ops"},
	})
	if status != 200 || !strings.HasPrefix(body, `<PutMetricAlarmResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>`) {
		t.Fatalf("PutMetricAlarm: %d %s", status, body)
	}
	status, body = cwQuery(t, e.url, url.Values{
		"Action": {"PutMetricData"}, "Namespace": {"app"},
		"MetricData.member.1.MetricName": {"Errors"}, "MetricData.member.1.Value": {"12"},
		"MetricData.member.1.Timestamp":                {"2026-11-26T12:00:00Z"},
		"MetricData.member.1.Dimensions.member.1.Name": {"Service"}, "MetricData.member.1.Dimensions.member.1.Value": {"web"},
	})
	if status != 200 {
		t.Fatalf("PutMetricData: %d %s", status, body)
	}
	e.clock.Advance(time.Minute)
	status, body = cwQuery(t, e.url, url.Values{"Action": {"DescribeAlarms"}, "AlarmNames.member.1": {"web-errors"}})
	for _, want := range []string{
		`<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member><AlarmName>web-errors</AlarmName>`,
		`<StateValue>ALARM</StateValue>`, `<StateReason>Threshold Crossed: 1 datapoint [12.0 (26/11/26 12:00:00)] was greater than the threshold (5.0).</StateReason>`,
		`<AlarmActions><member>arn:aws:sns:eu-west-1:000000000000:ops</member></AlarmActions>`, `<StateUpdatedTimestamp>2026-11-26T12:01:00.000Z</StateUpdatedTimestamp>`,
		`<Dimensions><member><Name>Service</Name><Value>web</Value></member></Dimensions>`, `<Threshold>5</Threshold>`, `<CompositeAlarms></CompositeAlarms>`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("DescribeAlarms: %d, no %s in\n%s", status, want, body)
		}
	}
	status, body = cwQuery(t, e.url, url.Values{"Action": {"SetAlarmState"}, "AlarmName": {"nope"}, "StateValue": {"OK"}, "StateReason": {"x"}})
	if status != 404 || !strings.Contains(body, `<Error><Type>Sender</Type><Code>ResourceNotFound</Code>`) {
		t.Fatalf("SetAlarmState of a missing alarm: %d %s", status, body)
	}
	status, body = cwQuery(t, e.url, url.Values{
		"Action": {"GetMetricData"}, "StartTime": {"2026-11-26T12:00:00Z"}, "EndTime": {"2026-11-26T12:01:00Z"},
		"MetricDataQueries.member.1.Id": {"e1"}, "MetricDataQueries.member.1.Expression": {"m1 * 2"},
		"MetricDataQueries.member.2.Id": {"m1"}, "MetricDataQueries.member.2.ReturnData": {"false"},
		"MetricDataQueries.member.2.MetricStat.Metric.Namespace":                 {"app"},
		"MetricDataQueries.member.2.MetricStat.Metric.MetricName":                {"Errors"},
		"MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name":  {"Service"},
		"MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value": {"web"},
		"MetricDataQueries.member.2.MetricStat.Period":                           {"60"},
		"MetricDataQueries.member.2.MetricStat.Stat":                             {"Sum"},
	})
	if status != 200 || !strings.Contains(body, `<Id>e1</Id><Label>e1</Label><Timestamps><member>2026-11-26T12:00:00.000Z</member></Timestamps><Values><member>24</member></Values><StatusCode>Complete</StatusCode>`) {
		t.Fatalf("GetMetricData: %d %s", status, body)
	}
	// Elastic Load Balancing still answers its own version.
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader("Action=DescribeLoadBalancers&Version=2015-12-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ELB next to CloudWatch: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestCloudWatch_controlEndpoints(t *testing.T) {
	e := newEnv(t, 0, 0)
	cw := cwClient(e)
	putAlarm(t, cw, errorsAlarm("web-errors"))
	post := func(path, body string) (int, string) {
		resp, err := http.Post(e.url+ecslocal.ControlPrefix+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := post("metric", `{"namespace":"app","metricName":"Errors","dimensions":{"Service":"web"},"value":9}`); status != 200 {
		t.Fatalf("POST metric: %d %s", status, body)
	}
	if status, body := post("metric", `{"namespace":"AWS/ECS","metricName":"Errors","value":9}`); status != 400 || !strings.Contains(body, "InvalidParameterValue") {
		t.Fatalf("POST metric into AWS/: %d %s", status, body)
	}
	if err := e.srv.PutMetric(ecslocal.MetricValue{Namespace: "app", MetricName: "Errors", Dimensions: map[string]string{"Service": "web"}, Value: 1, Time: cwT0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	resp, err := http.Get(e.url + ecslocal.ControlPrefix + "alarms")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"state": "ALARM"`) || !strings.Contains(string(body), "[10.0 (26/11/26 12:00:00)]") {
		t.Fatalf("GET alarms: %s", body)
	}
	e.srv.Reset()
	if got := e.srv.Alarms(); len(got) != 0 {
		t.Fatalf("after Reset: %+v", got)
	}
}

// TestCloudWatch_json10Wire checks the JSON 1.0 envelope botocore reads: the error's shape ID in
// __type and its awsQuery code in x-amzn-query-error.
func TestCloudWatch_json10Wire(t *testing.T) {
	e := newEnv(t, 0, 0)
	post := func(op, body string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amzn-Query-Mode", "true")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post("SetAlarmState", `{"AlarmName":"nope","StateValue":"OK","StateReason":"x"}`)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Query-Error") != "ResourceNotFound;Sender" ||
		!strings.Contains(body, `"__type":"com.amazonaws.cloudwatch#ResourceNotFound"`) || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("error: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = post("DescribeAlarms", `{}`)
	if resp.StatusCode != 200 || body != `{"MetricAlarms":[],"CompositeAlarms":[]}` {
		t.Fatalf("DescribeAlarms: %d %s", resp.StatusCode, body)
	}
	resp, body = post("PutMetricAlarm", `{"AlarmName":"a","Namespace":"app","MetricName":"m","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"Sideways"}`)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Query-Error") != "ValidationError;Sender" || !strings.Contains(body, "failed to satisfy constraint: Member must satisfy enum value set") {
		t.Fatalf("invalid enum: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, _ = post("NoSuchOperation", `{}`)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown operation: %d", resp.StatusCode)
	}
}
