package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// FailureAnalysis is a phase failed by its analysis gates: an alarm in ALARM, or a metric check
// that failed more often than it may (DESIGN.md §7.7).
const FailureAnalysis FailureKind = "analysis gate"

// Limits of one call, from the CloudWatch API reference: DescribeAlarms takes "a maximum of 100
// alarm names", GetMetricData "as many as 500" MetricDataQuery structures.
const (
	alarmNamesPerCall = 100
	queriesPerCall    = 500
)

// DescribeGates says in words what an analysis gates a rollout on: one line per alarm and per
// metric check, and one for when they are read. It is a pure function of the configuration, so
// a plan can show it.
func DescribeGates(a *Analysis) []string {
	if a == nil {
		return []string{}
	}
	out := make([]string, 0, len(a.AlarmNames)+len(a.Metrics)+1)
	for _, name := range a.AlarmNames {
		out = append(out, fmt.Sprintf("alarm %s must not be in ALARM", name))
	}
	for _, m := range a.Metrics {
		out = append(out, describeCheck(m))
	}
	if len(out) == 0 {
		return out
	}
	when := fmt.Sprintf("read every %s from each phase's scale-up through its bake", durationText(a.interval()))
	if a.FinalWindow > 0 {
		when += fmt.Sprintf(", and for %s after the last phase", durationText(a.FinalWindow))
	}
	return append(out, when)
}

func describeCheck(m MetricCheck) string {
	var what string
	if m.Metric != nil {
		what = fmt.Sprintf("%s of %s/%s%s", statistic(m.Metric.Statistic), m.Metric.Namespace, m.Metric.MetricName, dimensionsText(m.Metric.Dimensions))
	} else {
		what = m.Expression
	}
	s := fmt.Sprintf("metric %s: %s over %s", m.Name, what, durationText(m.period()))
	var limits []string
	if m.Threshold != nil {
		limits = append(limits, fmt.Sprintf("%s %s", comparisonSymbol(m.Comparison), formatValue(*m.Threshold)))
	}
	if m.BaselineRatio != nil {
		limits = append(limits, fmt.Sprintf("> %s × the previous revision's", formatValue(*m.BaselineRatio)))
	}
	s += " fails when " + strings.Join(limits, " and ")
	s += fmt.Sprintf("; %d failures tolerated; no data: %s", m.FailureLimit, m.noData())
	return s
}

func dimensionsText(d map[string]string) string {
	if len(d) == 0 {
		return ""
	}
	parts := make([]string, 0, len(d))
	for _, k := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, k+"="+d[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// durationText writes a duration as Terraform users write one: "30s", "2m", "1h30m".
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func statistic(s string) string {
	if s == "" {
		return "Average"
	}
	return s
}

func (a *Analysis) interval() time.Duration {
	if a.Interval <= 0 {
		return DefaultAnalysisInterval
	}
	return a.Interval
}

func (m MetricCheck) period() time.Duration {
	if m.Period <= 0 {
		return time.Minute
	}
	return m.Period
}

func (m MetricCheck) noData() string {
	if m.NoData == "" {
		return NoDataWait
	}
	return m.NoData
}

func comparisonSymbol(c string) string {
	switch c {
	case "GreaterThanOrEqualToThreshold":
		return ">="
	case "LessThanThreshold":
		return "<"
	case "LessThanOrEqualToThreshold":
		return "<="
	}
	return ">"
}

// crosses reports whether v crosses the threshold by the comparison.
func crosses(c string, v, threshold float64) bool {
	switch c {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return v > threshold
}

// gate reads the analysis gates of one rollout: its alarms with DescribeAlarms, its metric checks
// with GetMetricData, each batched into as few calls as the API allows, every interval.
type gate struct {
	e        *Engine
	a        *Analysis
	service  string // the new revision's service
	previous string // the previous revision's service; "" on a first deployment
	next     time.Time
	// failures counts each metric check's failed evaluations over the rollout; passed holds
	// the checks that passed with data (or without, with no_data = pass) in the current phase.
	failures map[string]int
	passed   map[string]bool
	// running is when the new revision's first tasks ran: metrics are read from then on, and a
	// check's missing data counts only once a full period has passed since.
	running time.Time
	calls   int
}

func newGate(e *Engine, a *Analysis, service, previous string) *gate {
	return &gate{e: e, a: a, service: service, previous: previous, failures: map[string]int{}, passed: map[string]bool{}}
}

// startPhase begins a phase's watch: the gates are read at once, and the checks must pass anew.
func (g *gate) startPhase(now time.Time) {
	g.next = now
	clear(g.passed)
}

// tasksRunning notes that the new revision's tasks of a phase run: from the first phase's on,
// its metrics can have data.
func (g *gate) tasksRunning(now time.Time) {
	if g != nil && g.running.IsZero() {
		g.running = now
		g.next = now
	}
}

// until is how long until the gates are due to be read.
func (g *gate) until(now time.Time) time.Duration {
	if g == nil {
		return time.Duration(1<<63 - 1)
	}
	return max(0, g.next.Sub(now))
}

// poll reads the gates when they are due. A breach is a *PhaseFailure of kind FailureAnalysis.
func (g *gate) poll(ctx context.Context) error {
	if g == nil {
		return nil
	}
	now := g.e.clock().Now()
	if now.Before(g.next) {
		return nil
	}
	g.next = now.Add(g.a.interval())
	if err := g.checkAlarms(ctx); err != nil {
		return err
	}
	return g.checkMetrics(ctx, now)
}

// pending lists the metric checks with no_data = wait that have not passed in this phase.
func (g *gate) pending() []string {
	var out []string
	for _, m := range g.a.Metrics {
		if m.noData() == NoDataWait && !g.passed[m.Name] {
			out = append(out, m.Name)
		}
	}
	return out
}

// describeAlarms reads the named alarms, metric and composite, 100 names a call.
func (e *Engine) describeAlarms(ctx context.Context, names []string) (map[string]alarmState, int, error) {
	found := map[string]alarmState{}
	calls := 0
	for batch := range slices.Chunk(names, alarmNamesPerCall) {
		in := &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
			MaxRecords: aws.Int32(alarmNamesPerCall),
		}
		for {
			calls++
			out, err := e.CloudWatch.DescribeAlarms(ctx, in)
			if err != nil {
				return nil, calls, fmt.Errorf("describing CloudWatch alarms %s: %w", strings.Join(batch, ", "), err)
			}
			for _, a := range out.MetricAlarms {
				found[aws.ToString(a.AlarmName)] = alarmState{state: a.StateValue, reason: aws.ToString(a.StateReason), since: a.StateUpdatedTimestamp}
			}
			for _, a := range out.CompositeAlarms {
				found[aws.ToString(a.AlarmName)] = alarmState{state: a.StateValue, reason: aws.ToString(a.StateReason), since: a.StateUpdatedTimestamp}
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return found, calls, nil
}

type alarmState struct {
	state  cwtypes.StateValue
	reason string
	since  *time.Time
}

func (s alarmState) String() string {
	at := ""
	if s.since != nil {
		at = " since " + s.since.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s%s: %s", s.state, at, s.reason)
}

// checkAlarms fails the phase when an alarm is in ALARM, or is gone.
func (g *gate) checkAlarms(ctx context.Context) error {
	if len(g.a.AlarmNames) == 0 {
		return nil
	}
	found, calls, err := g.e.describeAlarms(ctx, g.a.AlarmNames)
	g.calls += calls
	if err != nil {
		return apiPhaseFailure(ctx, err)
	}
	var breached []string
	for _, name := range g.a.AlarmNames {
		s, ok := found[name]
		switch {
		case !ok:
			breached = append(breached, fmt.Sprintf("alarm %s no longer exists, so it cannot gate the rollout", name))
		case s.state == cwtypes.StateValueAlarm:
			breached = append(breached, fmt.Sprintf("alarm %s is %s", name, s))
		}
	}
	if len(breached) == 0 {
		return nil
	}
	return &PhaseFailure{Kind: FailureAnalysis, Message: breached[0], Evidence: breached}
}

// queryIDPattern matches the query IDs of an expression: a lowercase letter, then letters,
// digits and underscores (GetMetricData's MetricDataQuery Id). Metric math functions are
// uppercase, so they never match.
var queryIDPattern = regexp.MustCompile(`\b[a-z][a-zA-Z0-9_]*\b`)

// queries builds the GetMetricData queries of one metric check for a service: its value under
// id, the queries an expression refers to under id_<theirs>.
func (m MetricCheck) queries(id, service, previous string) []cwtypes.MetricDataQuery {
	period := aws.Int32(int32(m.period() / time.Second))
	stat := func(s MetricStat) *cwtypes.MetricStat {
		ms := &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(s.Namespace), MetricName: aws.String(s.MetricName)},
			Period: period, Stat: aws.String(statistic(s.Statistic)),
		}
		for _, k := range slices.Sorted(maps.Keys(s.Dimensions)) {
			v := strings.ReplaceAll(s.Dimensions[k], ServicePlaceholder, service)
			v = strings.ReplaceAll(v, PreviousServicePlaceholder, previous)
			ms.Metric.Dimensions = append(ms.Metric.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
		}
		return ms
	}
	if m.Metric != nil {
		return []cwtypes.MetricDataQuery{{Id: aws.String(id), MetricStat: stat(*m.Metric), ReturnData: aws.Bool(true)}}
	}
	ids := map[string]bool{}
	out := make([]cwtypes.MetricDataQuery, 0, len(m.Queries)+1)
	for _, q := range m.Queries {
		ids[q.ID] = true
		out = append(out, cwtypes.MetricDataQuery{Id: aws.String(id + "_" + q.ID), MetricStat: stat(q.MetricStat), ReturnData: aws.Bool(false)})
	}
	expr := queryIDPattern.ReplaceAllStringFunc(m.Expression, func(w string) string {
		if ids[w] {
			return id + "_" + w
		}
		return w
	})
	return append(out, cwtypes.MetricDataQuery{Id: aws.String(id), Expression: aws.String(expr), Period: period, ReturnData: aws.Bool(true)})
}

// checkMetrics evaluates every metric check once, over the last two periods up to now, from the
// newest datapoint: the new revision's, and the previous revision's for a baseline.
func (g *gate) checkMetrics(ctx context.Context, now time.Time) error {
	if len(g.a.Metrics) == 0 || g.running.IsZero() {
		return nil
	}
	var all []cwtypes.MetricDataQuery
	longest := time.Duration(0)
	for i, m := range g.a.Metrics {
		all = append(all, m.queries(fmt.Sprintf("n%d", i), g.service, g.previous)...)
		if m.BaselineRatio != nil && g.previous != "" {
			all = append(all, m.queries(fmt.Sprintf("b%d", i), g.previous, g.previous)...)
		}
		longest = max(longest, m.period())
	}
	values := map[string]float64{}
	for batch := range slices.Chunk(all, queriesPerCall) {
		in := &cloudwatch.GetMetricDataInput{
			MetricDataQueries: batch, StartTime: aws.Time(now.Add(-2 * longest)), EndTime: aws.Time(now),
			ScanBy: cwtypes.ScanByTimestampDescending,
		}
		for {
			g.calls++
			out, err := g.e.CloudWatch.GetMetricData(ctx, in)
			if err != nil {
				return apiPhaseFailure(ctx, fmt.Errorf("reading the analysis metrics: %w", err))
			}
			for _, r := range out.MetricDataResults {
				if _, seen := values[aws.ToString(r.Id)]; !seen && len(r.Values) > 0 {
					values[aws.ToString(r.Id)] = r.Values[0]
				}
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	for i, m := range g.a.Metrics {
		if err := g.evaluate(ctx, m, values, fmt.Sprintf("n%d", i), fmt.Sprintf("b%d", i), now); err != nil {
			return err
		}
	}
	return nil
}

// evaluate judges one metric check from the values read, and fails the phase when the check has
// failed more than failure_limit times.
func (g *gate) evaluate(ctx context.Context, m MetricCheck, values map[string]float64, id, baseID string, now time.Time) error {
	v, ok := values[id]
	var why string
	switch {
	case !ok && now.Sub(g.running) < m.period():
		return nil // the revision's tasks have not run a full period yet: no data is no verdict
	case !ok && m.noData() == NoDataFail:
		why = fmt.Sprintf("no data for %s over the last %s", g.service, durationText(2*m.period()))
	case !ok && m.noData() == NoDataPass:
		g.passed[m.Name] = true
		return nil
	case !ok:
		return nil // inconclusive: the phase waits for data
	default:
		why = g.breach(m, v, values, baseID)
	}
	if why == "" {
		g.passed[m.Name] = true
		return nil
	}
	g.failures[m.Name]++
	g.e.log().Warn(ctx, "analysis metric check failed", map[string]any{"check": m.Name, "reason": why, "failures": g.failures[m.Name]})
	if g.failures[m.Name] <= m.FailureLimit {
		return nil
	}
	msg := fmt.Sprintf("metric check %s failed: %s", m.Name, why)
	if m.FailureLimit > 0 {
		msg += fmt.Sprintf(" (%d failed evaluations, %d tolerated)", g.failures[m.Name], m.FailureLimit)
	}
	return &PhaseFailure{Kind: FailureAnalysis, Message: msg, Evidence: []string{describeCheck(m)}}
}

// breach says how a value fails a check, or "" when it passes. With a threshold and a baseline
// ratio, both must be exceeded: the threshold is an absolute floor under the comparison. On a
// first deployment there is no previous revision, and the baseline part passes.
func (g *gate) breach(m MetricCheck, v float64, values map[string]float64, baseID string) string {
	var parts []string
	if m.Threshold != nil {
		if !crosses(m.Comparison, v, *m.Threshold) {
			return ""
		}
		parts = append(parts, fmt.Sprintf("%s is %s %s %s (threshold)", g.service, formatValue(v), comparisonSymbol(m.Comparison), formatValue(*m.Threshold)))
	}
	if m.BaselineRatio != nil {
		if g.previous == "" {
			return ""
		}
		base := values[baseID] // no data from the previous revision reads as 0
		limit := *m.BaselineRatio * base
		if !(v > limit) {
			return ""
		}
		parts = append(parts, fmt.Sprintf("%s is %s, more than %s × %s's %s = %s", g.service, formatValue(v), formatValue(*m.BaselineRatio),
			g.previous, formatValue(base), formatValue(limit)))
	}
	return strings.Join(parts, "; ")
}

// checkAnalysisPreflight refuses a rollout, before any write, whose alarms do not exist or are
// already in ALARM: a typo would be a gate that never fires, and an alarm already firing would
// fail the first phase for a reason the new revision did not cause.
func (e *Engine) checkAnalysisPreflight(ctx context.Context, a *Analysis) error {
	if a == nil {
		return nil
	}
	if e.CloudWatch == nil {
		return errors.New("analysis is configured, but the engine has no CloudWatch client")
	}
	if len(a.AlarmNames) == 0 {
		return nil
	}
	found, _, err := e.describeAlarms(ctx, a.AlarmNames)
	if err != nil {
		return err
	}
	var missing, firing []string
	for _, name := range a.AlarmNames {
		s, ok := found[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case s.state == cwtypes.StateValueAlarm:
			firing = append(firing, fmt.Sprintf("%s is %s", name, s))
		}
	}
	switch {
	case len(missing) > 0:
		return &InputError{Field: "analysis.alarm_names", Message: fmt.Sprintf(
			"CloudWatch alarm %s does not exist; a gate on an alarm that does not exist would never fire", strings.Join(missing, ", "))}
	case len(firing) > 0:
		return &InputError{Field: "analysis.alarm_names", Message: fmt.Sprintf(
			"the rollout did not start, because alarm %s; a phase would fail at once for a reason the new revision did not cause", strings.Join(firing, "; alarm "))}
	}
	return nil
}
