package ecslocal

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Metrics ecslocal synthesizes from what tasks do. A container of a task definition that carries
// the docker label
//
//	ecslocal.metric.<MetricName>=<value>/<period>     e.g. ecslocal.metric.Errors=5/min
//
// makes every task of a service running that task definition emit <value> of <MetricName> per
// <period> (s, min, h, or a Go duration such as 30s) for as long as it runs (from RUNNING until
// ECS decides to stop it), into the custom namespace "ecslocal" with the dimensions ClusterName
// and ServiceName, unit Count. Within each period of a query, each task that ran in it is one
// sample (its emission in that period, prorated to the part of the period it ran), so Sum is the
// service's total, SampleCount the number of its tasks that ran, Average the mean per task. A
// service with no running task has no datapoint (missing data); 0/min emits zeros. The label's
// period is a CloudWatch period and scales with Options.TimeScale like an alarm's Period, so
// Errors=5/min always reads as a Sum of 5 per 60-second period and per task. A label that does not
// parse is ignored. PutMetricData into the same metric adds to what tasks emit.
const (
	cwSynthNamespace   = "ecslocal"
	labelMetricPrefix  = "ecslocal.metric."
	cwMaxAlarmCatchUps = 1000
)

// cwBucketStart is the start of the period holding t; periods are aligned to the epoch.
func cwBucketStart(t time.Time, period time.Duration) time.Time {
	if period <= 0 {
		return t
	}
	n := t.UnixNano()
	r := n % int64(period)
	if r < 0 {
		r += int64(period)
	}
	return time.Unix(0, n-r).UTC()
}

// parseMetricLabel reads an ecslocal.metric label's value: <number>/<period>.
func parseMetricLabel(v string) (value float64, per time.Duration, err error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return 0, 0, fmt.Errorf("want <value>/<period>")
	}
	value, err = strconv.ParseFloat(num, 64)
	if err != nil || bad(value) {
		return 0, 0, fmt.Errorf("%q is not a number", num)
	}
	switch unit {
	case "s", "sec", "second":
		per = time.Second
	case "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		if per, err = time.ParseDuration(unit); err != nil || per <= 0 {
			return 0, 0, fmt.Errorf("%q is not a period", unit)
		}
	}
	return value, per, nil
}

// cwAgg aggregates samples into the statistics of one period.
type cwAgg struct {
	count, sum, min, max float64
	values, counts       []float64
	noPercentile         bool
}

func (a *cwAgg) add(sm cwSample) {
	if a.count == 0 {
		a.min, a.max = sm.min, sm.max
	}
	a.count += sm.count
	a.sum += sm.sum
	a.min, a.max = math.Min(a.min, sm.min), math.Max(a.max, sm.max)
	if sm.values == nil {
		a.noPercentile = true
	}
	a.values = append(a.values, sm.values...)
	a.counts = append(a.counts, sm.counts...)
}

// stat computes a statistic ("Statistics" in the CloudWatch concepts,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html);
// a percentile needs the raw values, so a period with StatisticValues samples has none.
func (a *cwAgg) stat(name string) (float64, bool) {
	if a.count == 0 {
		return 0, false
	}
	switch name {
	case "SampleCount":
		return a.count, true
	case "Sum":
		return a.sum, true
	case "Average":
		return a.sum / a.count, true
	case "Minimum":
		return a.min, true
	case "Maximum":
		return a.max, true
	}
	p, err := strconv.ParseFloat(strings.TrimPrefix(name, "p"), 64)
	if err != nil || a.noPercentile || len(a.values) == 0 {
		return 0, false
	}
	idx := make([]int, len(a.values))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return a.values[idx[i]] < a.values[idx[j]] })
	var total float64
	for _, c := range a.counts {
		total += c
	}
	rank, seen := p/100*total, 0.0
	for _, i := range idx {
		seen += a.counts[i]
		if seen >= rank {
			return a.values[i], true
		}
	}
	return a.values[idx[len(idx)-1]], true
}

// metricSeries aggregates a MetricStat over [from, to): the samples of the metric (put with
// PutMetricData or synthesized from tasks) grouped by period and reduced to the statistic.
func (s *Server) metricSeries(ms *cwMetricStat, from, to, now time.Time) *mSeries {
	period := s.scaled(time.Duration(*ms.Period) * time.Second)
	// A StartTime inside a period takes in the whole period ("CloudWatch rounds the specified
	// time" down, GetMetricData).
	from = cwBucketStart(from, period)
	aggs := map[int64]*cwAgg{}
	add := func(sm cwSample) {
		if sm.at.Before(from) || !sm.at.Before(to) || ms.Unit != "" && sm.unit != ms.Unit {
			return
		}
		k := cwBucketStart(sm.at, period).UnixNano()
		if aggs[k] == nil {
			aggs[k] = &cwAgg{}
		}
		aggs[k].add(sm)
	}
	m := ms.Metric
	if ser := s.cw.metrics[metricKey(m.Namespace, m.MetricName, m.Dimensions)]; ser != nil {
		for _, sm := range ser.samples {
			add(sm)
		}
	}
	for _, sm := range s.synthesizedSamples(m, period, from, to, now) {
		add(sm)
	}
	out := &mSeries{period: period, pts: map[int64]float64{}, counts: map[int64]float64{}}
	for k, a := range aggs {
		if v, ok := a.stat(ms.Stat); ok {
			out.pts[k] = v
			out.counts[k] = a.count
		}
	}
	return out
}

// synthesizedSamples are the samples the tasks of a service emit by their ecslocal.metric
// labels within [from, min(to, now)): one per task and period, stamped at the period's start.
func (s *Server) synthesizedSamples(m *cwMetric, period time.Duration, from, to, now time.Time) []cwSample {
	if m.Namespace != cwSynthNamespace || len(m.Dimensions) != 2 {
		return nil
	}
	var clusterName, serviceName string
	for _, d := range m.Dimensions {
		switch d.Name {
		case "ClusterName":
			clusterName = d.Value
		case "ServiceName":
			serviceName = d.Value
		}
	}
	c := s.clusters[clusterName]
	if c == nil || c.services[serviceName] == nil {
		return nil
	}
	if now.Before(to) {
		to = now
	}
	var out []cwSample
	for _, t := range c.services[serviceName].tasks {
		if t.startedAt.IsZero() {
			continue
		}
		rate, ok := s.taskMetricRate(t, m.MetricName)
		if !ok {
			continue
		}
		end := to
		for _, e := range []time.Time{t.stoppingAt, t.stoppedAt} {
			if !e.IsZero() && e.Before(end) {
				end = e
			}
		}
		start := t.startedAt
		if start.Before(from) {
			start = from
		}
		for b := cwBucketStart(start, period); b.Before(end); b = b.Add(period) {
			lo, hi := b, b.Add(period)
			if lo.Before(start) {
				lo = start
			}
			if hi.After(end) {
				hi = end
			}
			if !hi.After(lo) {
				continue
			}
			v := rate * float64(hi.Sub(lo))
			out = append(out, cwSample{at: b, unit: "Count", count: 1, sum: v, min: v, max: v, values: []float64{v}, counts: []float64{1}})
		}
	}
	return out
}

// taskMetricRate is what a task emits of a metric per nanosecond of ecslocal's clock.
func (s *Server) taskMetricRate(t *task, name string) (float64, bool) {
	for _, cd := range t.taskDef.containers {
		if v, ok := cd.DockerLabels[labelMetricPrefix+name]; ok {
			value, per, err := parseMetricLabel(v)
			if err != nil {
				return 0, false
			}
			return value / float64(s.scaled(per)), true
		}
	}
	return 0, false
}

// advanceCloudWatchLocked evaluates every alarm at each end of its period up to now, in time
// order per alarm. After a long jump of the clock only the last cwMaxAlarmCatchUps evaluations
// run.
func (s *Server) advanceCloudWatchLocked(now time.Time) {
	if len(s.cw.alarms) == 0 {
		return
	}
	names := make([]string, 0, len(s.cw.alarms))
	for n := range s.cw.alarms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := s.cw.alarms[n]
		if p := s.scaled(time.Duration(a.seconds) * time.Second); p != a.period {
			// The time scale changed (Configure): evaluate at the ends of the new periods.
			a.period, a.nextEval = p, cwBucketStart(now, p).Add(p)
		}
		if a.period <= 0 {
			continue
		}
		if skip := int64(now.Sub(a.nextEval) / a.period); skip > cwMaxAlarmCatchUps {
			a.nextEval = a.nextEval.Add(time.Duration(skip-cwMaxAlarmCatchUps) * a.period)
		}
		for !a.nextEval.After(now) {
			s.evaluateAlarm(a, a.nextEval)
			a.nextEval = a.nextEval.Add(a.period)
		}
	}
}

var cwOpPhrase = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

func breaches(op string, v, threshold float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "GreaterThanThreshold":
		return v > threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

// cwNum formats a number the way CloudWatch's state reasons do (Java's Double.toString): 12.0,
// 0.5.
func cwNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e7 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// evaluateAlarm evaluates an alarm at the end b of a period over its last EvaluationPeriods
// periods, by the rules of "Evaluating an alarm" and "Configuring how CloudWatch alarms treat
// missing data" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html):
// the alarm goes to ALARM when at least DatapointsToAlarm (default: EvaluationPeriods) of the
// datapoints breach the threshold, to OK otherwise; a missing datapoint counts as breaching with
// "breaching", as not breaching with "notBreaching", and is not considered with "missing" (the
// default) and "ignore"; when every datapoint is missing, "missing" goes to INSUFFICIENT_DATA and
// "ignore" keeps the current state. The state changes only when the evaluation's differs, so a
// state set with SetAlarmState holds until then.
func (s *Server) evaluateAlarm(a *cwAlarm, b time.Time) {
	c := a.cfg
	n := int(*c.EvaluationPeriods)
	m := n
	if c.DatapointsToAlarm != nil {
		m = int(*c.DatapointsToAlarm)
	}
	from := b.Add(-time.Duration(n) * a.period)
	var ser *mSeries
	if len(c.Metrics) > 0 {
		all, err := s.evalQueries(c.Metrics, from, b, b)
		if err != nil {
			return
		}
		for _, q := range c.Metrics {
			if q.returns() {
				ser = all[q.Id]
			}
		}
	} else {
		ser = s.metricSeries(&cwMetricStat{
			Metric: &cwMetric{Namespace: c.Namespace, MetricName: c.MetricName, Dimensions: c.Dimensions},
			Period: c.Period, Stat: c.Statistic + c.ExtendedStatistic, Unit: c.Unit,
		}, from, b, b)
	}
	var present, breaching, ok []cwPoint // newest first
	for _, p := range ser.points(true) {
		if p.at.Before(from) {
			continue
		}
		present = append(present, p)
		if breaches(c.ComparisonOperator, p.v, *c.Threshold) {
			breaching = append(breaching, p)
		} else {
			ok = append(ok, p)
		}
	}
	treat := c.TreatMissingData
	if treat == "" {
		treat = "missing"
	}
	missing := n - len(present)
	threshold := cwNum(*c.Threshold)
	phrase := cwOpPhrase[c.ComparisonOperator]
	list := func(ps []cwPoint) string {
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = cwNum(p.v) + " (" + p.at.UTC().Format("02/01/06 15:04:05") + ")"
		}
		return strings.Join(parts, ", ")
	}
	var state, reason string
	switch {
	case len(present) == 0 && treat == "ignore":
		return
	case len(present) == 0 && treat == "missing":
		state = cwStateInsufficient
		reason = fmt.Sprintf("Insufficient Data: %d %s %s unknown.", n, plural(n, "datapoint", "datapoints"), plural(n, "was", "were"))
	case len(present) == 0:
		how := "NonBreaching"
		state = cwStateOK
		if treat == "breaching" {
			state, how = cwStateAlarm, "Breaching"
		}
		reason = fmt.Sprintf("Threshold Crossed: no datapoints were received for %d %s and %d missing %s %s treated as [%s].",
			n, plural(n, "period", "periods"), n, plural(n, "datapoint", "datapoints"), plural(n, "was", "were"), how)
	default:
		count := len(breaching)
		if treat == "breaching" {
			count += missing
		}
		state = cwStateOK
		if count >= m {
			state = cwStateAlarm
		}
		switch {
		case state == cwStateAlarm && c.DatapointsToAlarm == nil:
			reason = fmt.Sprintf("Threshold Crossed: %d %s [%s] %s %s the threshold (%s).",
				len(breaching), plural(len(breaching), "datapoint", "datapoints"), list(breaching), plural(len(breaching), "was", "were"), phrase, threshold)
		case state == cwStateAlarm:
			reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %d %s for OK -> ALARM transition).",
				count, n, list(present), plural(count, "was", "were"), phrase, threshold, m, plural(m, "datapoint", "datapoints"))
		case c.DatapointsToAlarm == nil:
			reason = fmt.Sprintf("Threshold Crossed: %d %s [%s] %s not %s the threshold (%s).",
				len(ok), plural(len(ok), "datapoint", "datapoints"), list(ok), plural(len(ok), "was", "were"), phrase, threshold)
		default:
			need := n - m + 1
			reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s not %s the threshold (%s) (minimum %d %s for ALARM -> OK transition).",
				len(ok), n, list(present), plural(len(ok), "was", "were"), phrase, threshold, need, plural(need, "datapoint", "datapoints"))
		}
	}
	if state == a.state {
		return
	}
	a.state, a.reason, a.stateUpdated = state, reason, b
	a.reasonData = alarmReasonData(c, b, from, present)
}

// alarmReasonData is the StateReasonData of an evaluation: the JSON document CloudWatch attaches
// to a state change (version, queryDate, startDate, statistic, period, recentDatapoints,
// threshold, evaluatedDatapoints).
func alarmReasonData(c cwAlarmConfig, b, from time.Time, present []cwPoint) string {
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000+0000") }
	var sb strings.Builder
	sb.WriteString(`{"version":"1.0","queryDate":"` + stamp(b) + `","startDate":"` + stamp(from) + `"`)
	if st := c.Statistic + c.ExtendedStatistic; st != "" {
		sb.WriteString(`,"statistic":"` + st + `"`)
	}
	if c.Period != nil {
		sb.WriteString(`,"period":` + strconv.Itoa(int(*c.Period)))
	}
	recent := slices.Clone(present)
	slices.Reverse(recent)
	vals := make([]string, len(recent))
	for i, p := range recent {
		vals[i] = cwNum(p.v)
	}
	sb.WriteString(`,"recentDatapoints":[` + strings.Join(vals, ",") + `],"threshold":` + cwNum(*c.Threshold) + `,"evaluatedDatapoints":[`)
	for i, p := range present {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"timestamp":"` + stamp(p.at) + `"`)
		if p.count > 0 {
			sb.WriteString(`,"sampleCount":` + cwNum(p.count))
		}
		sb.WriteString(`,"value":` + cwNum(p.v) + `}`)
	}
	sb.WriteString("]}")
	return sb.String()
}

// MetricValue is one value of a metric, for PutMetric and POST /_ecslocal/metric.
type MetricValue struct {
	Namespace  string            `json:"namespace"`
	MetricName string            `json:"metricName"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Value      float64           `json:"value"`
	// Unit defaults to None; Time to now.
	Unit string    `json:"unit,omitempty"`
	Time time.Time `json:"time,omitzero"`
}

// PutMetric records one metric value as PutMetricData with a Value would, with the same checks,
// so that tests can feed alarms without a CloudWatch client.
func (s *Server) PutMetric(m MetricValue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advanceLocked(now)
	d := cwMetricDatum{MetricName: m.MetricName, Value: &m.Value, Unit: m.Unit}
	if !m.Time.IsZero() {
		d.Timestamp = cwTS(m.Time)
	}
	for k, v := range m.Dimensions {
		d.Dimensions = append(d.Dimensions, cwDimension{Name: k, Value: v})
	}
	if err := s.putMetricData(m.Namespace, []cwMetricDatum{d}, now); err != nil {
		return err
	}
	return nil
}

// AlarmState is an alarm's state as DescribeAlarms shows it.
type AlarmState struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Reason    string    `json:"reason"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Alarms returns every alarm's state, by name, after advancing the world to now.
func (s *Server) Alarms() []AlarmState {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	out := make([]AlarmState, 0, len(s.cw.alarms))
	for n, a := range s.cw.alarms {
		out = append(out, AlarmState{Name: n, State: a.state, Reason: a.reason, UpdatedAt: a.stateUpdated})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
