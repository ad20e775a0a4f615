package ecslocal

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// CloudWatch: metric alarms, custom metrics and metric math, on ecslocal's clock. The operations
// follow the CloudWatch API reference, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
// (one page per action, cited beside each handler); the wire protocols are in cloudwatch_wire.go,
// alarm evaluation and the metrics ecslocal synthesizes from tasks in cloudwatch_eval.go, metric
// math in cloudwatch_math.go.

// cwOps maps the CloudWatch operations ecslocal serves to their handlers.
var cwOps = map[string]cwHandler{
	"PutMetricAlarm": (*Server).cwPutMetricAlarm,
	"DescribeAlarms": (*Server).cwDescribeAlarms,
	"DeleteAlarms":   (*Server).cwDeleteAlarms,
	"SetAlarmState":  (*Server).cwSetAlarmState,
	"PutMetricData":  (*Server).cwPutMetricData,
	"GetMetricData":  (*Server).cwGetMetricData,
}

// The awsQuery error codes CloudWatch returns (the "Errors" section of each action's page and
// the "Common errors" page, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
const (
	cwCodeInvalidValue       = "InvalidParameterValue"
	cwCodeMissing            = "MissingParameter"
	cwCodeCombination        = "InvalidParameterCombination"
	cwCodeNotFound           = "ResourceNotFound"
	cwCodeInvalidNextToken   = "InvalidNextToken"
	cwCodeValidation         = "ValidationError"
	cwCodeInvalidFormat      = "InvalidFormat"
	cwStateOK                = "OK"
	cwStateAlarm             = "ALARM"
	cwStateInsufficient      = "INSUFFICIENT_DATA"
	cwDefaultDescribeRecords = 50
)

func cwErr(code, format string, args ...any) *apiError {
	status := http.StatusBadRequest
	if code == cwCodeNotFound {
		// ResourceNotFound is HTTP 404 in the CloudWatch model (its "error" trait).
		status = http.StatusNotFound
	}
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func cwInvalidValue(param, value string) *apiError {
	return cwErr(cwCodeInvalidValue, "The value %s for parameter %s is invalid.", value, param)
}

func cwMissing(param string) *apiError {
	return cwErr(cwCodeMissing, "The parameter %s is required.", param)
}

// cwConstraint is the validation message of a member outside its model constraints.
func cwConstraint(value, member, constraint string) *apiError {
	return cwErr(cwCodeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// Dimension, Metric, MetricStat and MetricDataQuery are the API reference's data types of the same
// names (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
type cwDimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type cwMetric struct {
	Namespace  string        `json:"Namespace,omitempty"`
	MetricName string        `json:"MetricName,omitempty"`
	Dimensions []cwDimension `json:"Dimensions,omitempty"`
}

type cwMetricStat struct {
	Metric *cwMetric `json:"Metric,omitempty"`
	Period *int32    `json:"Period,omitempty"`
	Stat   string    `json:"Stat,omitempty"`
	Unit   string    `json:"Unit,omitempty"`
}

type cwMetricDataQuery struct {
	Id         string        `json:"Id"`
	MetricStat *cwMetricStat `json:"MetricStat,omitempty"`
	Expression string        `json:"Expression,omitempty"`
	Label      string        `json:"Label,omitempty"`
	ReturnData *bool         `json:"ReturnData,omitempty"`
	Period     *int32        `json:"Period,omitempty"`
	AccountId  string        `json:"AccountId,omitempty"`
}

func (q cwMetricDataQuery) returns() bool { return q.ReturnData == nil || *q.ReturnData }

// cwAlarmConfig is PutMetricAlarm's input
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
type cwAlarmConfig struct {
	AlarmName                        string              `json:"AlarmName"`
	AlarmDescription                 string              `json:"AlarmDescription,omitempty"`
	ActionsEnabled                   *bool               `json:"ActionsEnabled,omitempty"`
	OKActions                        []string            `json:"OKActions,omitempty"`
	AlarmActions                     []string            `json:"AlarmActions,omitempty"`
	InsufficientDataActions          []string            `json:"InsufficientDataActions,omitempty"`
	MetricName                       string              `json:"MetricName,omitempty"`
	Namespace                        string              `json:"Namespace,omitempty"`
	Statistic                        string              `json:"Statistic,omitempty"`
	ExtendedStatistic                string              `json:"ExtendedStatistic,omitempty"`
	Dimensions                       []cwDimension       `json:"Dimensions,omitempty"`
	Period                           *int32              `json:"Period,omitempty"`
	Unit                             string              `json:"Unit,omitempty"`
	EvaluationPeriods                *int32              `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm                *int32              `json:"DatapointsToAlarm,omitempty"`
	Threshold                        *float64            `json:"Threshold,omitempty"`
	ComparisonOperator               string              `json:"ComparisonOperator,omitempty"`
	TreatMissingData                 string              `json:"TreatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile string              `json:"EvaluateLowSampleCountPercentile,omitempty"`
	Metrics                          []cwMetricDataQuery `json:"Metrics,omitempty"`
	ThresholdMetricId                string              `json:"ThresholdMetricId,omitempty"`
	Tags                             []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags,omitempty"`
}

// cwMetricAlarmOut is the MetricAlarm data type
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html).
type cwMetricAlarmOut struct {
	AlarmName                          string              `json:"AlarmName"`
	AlarmArn                           string              `json:"AlarmArn"`
	AlarmDescription                   string              `json:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp *cwTime             `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	ActionsEnabled                     bool                `json:"ActionsEnabled"`
	OKActions                          []string            `json:"OKActions"`
	AlarmActions                       []string            `json:"AlarmActions"`
	InsufficientDataActions            []string            `json:"InsufficientDataActions"`
	StateValue                         string              `json:"StateValue"`
	StateReason                        string              `json:"StateReason"`
	StateReasonData                    string              `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              *cwTime             `json:"StateUpdatedTimestamp,omitempty"`
	MetricName                         string              `json:"MetricName,omitempty"`
	Namespace                          string              `json:"Namespace,omitempty"`
	Statistic                          string              `json:"Statistic,omitempty"`
	ExtendedStatistic                  string              `json:"ExtendedStatistic,omitempty"`
	Dimensions                         []cwDimension       `json:"Dimensions"`
	Period                             *int32              `json:"Period,omitempty"`
	Unit                               string              `json:"Unit,omitempty"`
	EvaluationPeriods                  *int32              `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm                  *int32              `json:"DatapointsToAlarm,omitempty"`
	Threshold                          *float64            `json:"Threshold,omitempty"`
	ComparisonOperator                 string              `json:"ComparisonOperator,omitempty"`
	TreatMissingData                   string              `json:"TreatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile   string              `json:"EvaluateLowSampleCountPercentile,omitempty"`
	Metrics                            []cwMetricDataQuery `json:"Metrics,omitempty"`
	ThresholdMetricId                  string              `json:"ThresholdMetricId,omitempty"`
	StateTransitionedTimestamp         *cwTime             `json:"StateTransitionedTimestamp,omitempty"`
}

// cwAlarm is a metric alarm: its configuration and its state.
type cwAlarm struct {
	cfg           cwAlarmConfig
	arn           string
	configUpdated time.Time
	state         string
	reason        string
	reasonData    string
	stateUpdated  time.Time
	// seconds is the alarm's period as configured, period the same on ecslocal's clock (scaled
	// by the time scale); nextEval the next instant it is evaluated (the end of a period).
	seconds  int32
	period   time.Duration
	nextEval time.Time
}

// cwSample is one PutMetricData value or statistic set at a timestamp.
type cwSample struct {
	at                   time.Time
	unit                 string
	count, sum, min, max float64
	// values and counts, for percentiles (absent for a StatisticValues sample).
	values, counts []float64
}

// cwSeries is a metric: a namespace, a name and a set of dimensions, with its samples.
type cwSeries struct {
	namespace, name string
	dims            []cwDimension
	samples         []cwSample
}

// cwState is CloudWatch's state: alarms by name and metrics by key.
type cwState struct {
	alarms  map[string]*cwAlarm
	metrics map[string]*cwSeries
}

func newCWState() *cwState {
	return &cwState{alarms: map[string]*cwAlarm{}, metrics: map[string]*cwSeries{}}
}

// metricKey identifies a metric: CloudWatch treats each unique combination of namespace, name and
// dimensions as a separate metric ("Dimensions" in the CloudWatch concepts,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
func metricKey(ns, name string, dims []cwDimension) string {
	d := slices.Clone(dims)
	sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
	var b strings.Builder
	b.WriteString(ns + "\x00" + name)
	for _, x := range d {
		b.WriteString("\x00" + x.Name + "=" + x.Value)
	}
	return b.String()
}

var (
	cwComparisons = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
	cwStatistics  = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
	cwUnits       = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}
	cwStates      = []string{cwStateOK, cwStateAlarm, cwStateInsufficient}
	cwMissingData = []string{"breaching", "notBreaching", "ignore", "missing"}
	cwPercentile  = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100)$`)
	cwQueryID     = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
)

func enumConstraint(values []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(values, ", ") + "]"
}

// checkDimensions checks a metric's dimensions: at most 30, names and values of 1–255
// characters (the Dimension data type).
func checkDimensions(param string, dims []cwDimension) *apiError {
	if len(dims) > 30 {
		return cwConstraint(fmt.Sprint(len(dims)), lowerFirst(param), "Member must have length less than or equal to 30")
	}
	for i, d := range dims {
		if d.Name == "" {
			return cwMissing(fmt.Sprintf("%s.member.%d.Name", param, i+1))
		}
		if d.Value == "" {
			return cwMissing(fmt.Sprintf("%s.member.%d.Value", param, i+1))
		}
		if len(d.Name) > 255 || len(d.Value) > 255 {
			return cwConstraint(d.Name+"="+d.Value, lowerFirst(param), "Member must have length less than or equal to 255")
		}
	}
	return nil
}

// validPeriod: "Valid values are 10, 20, 30, and any multiple of 60" for alarms (PutMetricAlarm);
// GetMetricData also takes 1 and 5 for high-resolution metrics (MetricStat).
func validPeriod(p int32, alarm bool) bool {
	switch p {
	case 10, 20, 30:
		return true
	case 1, 5:
		return !alarm
	}
	return p > 0 && p%60 == 0
}

// cwPutMetricAlarm creates or updates an alarm. "When this operation creates an alarm, the alarm
// state is immediately set to INSUFFICIENT_DATA. The alarm is then evaluated and its state is set
// appropriately. ... When you update an existing alarm, its state is left unchanged, but the update
// completely overwrites the previous configuration of the alarm."
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
func (s *Server) cwPutMetricAlarm(rc *reqCtx, dec cwDecoder) (any, *apiError) {
	var in cwAlarmConfig
	if err := dec(&in); err != nil {
		return nil, err
	}
	period, err := s.checkAlarmConfig(&in)
	if err != nil {
		return nil, err
	}
	a := s.cw.alarms[in.AlarmName]
	if a == nil {
		a = &cwAlarm{
			arn:   fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", rc.region, s.opts.AccountID, in.AlarmName),
			state: cwStateInsufficient, reason: "Unchecked: Initial alarm creation", stateUpdated: rc.now,
		}
		s.cw.alarms[in.AlarmName] = a
	}
	a.cfg = in
	a.configUpdated = rc.now
	a.seconds = period
	a.period = s.scaled(time.Duration(period) * time.Second)
	a.nextEval = cwBucketStart(rc.now, a.period).Add(a.period)
	return nil, nil
}

// checkAlarmConfig checks PutMetricAlarm's members and returns the alarm's period in seconds.
func (s *Server) checkAlarmConfig(in *cwAlarmConfig) (int32, *apiError) {
	switch {
	case in.AlarmName == "":
		return 0, cwMissing("AlarmName")
	case len(in.AlarmName) > 255:
		return 0, cwConstraint(in.AlarmName, "alarmName", "Member must have length less than or equal to 255")
	case in.EvaluationPeriods == nil:
		return 0, cwMissing("EvaluationPeriods")
	case *in.EvaluationPeriods < 1:
		return 0, cwConstraint(fmt.Sprint(*in.EvaluationPeriods), "evaluationPeriods", "Member must have value greater than or equal to 1")
	case in.ComparisonOperator == "":
		return 0, cwMissing("ComparisonOperator")
	case !slices.Contains(cwComparisons, in.ComparisonOperator):
		return 0, cwConstraint(in.ComparisonOperator, "comparisonOperator", enumConstraint(cwComparisons))
	case in.TreatMissingData != "" && !slices.Contains(cwMissingData, in.TreatMissingData):
		return 0, cwConstraint(in.TreatMissingData, "treatMissingData", enumConstraint(cwMissingData))
	case in.Unit != "" && !slices.Contains(cwUnits, in.Unit):
		return 0, cwConstraint(in.Unit, "unit", enumConstraint(cwUnits))
	case in.DatapointsToAlarm != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > *in.EvaluationPeriods):
		return 0, cwErr(cwCodeValidation, "DatapointsToAlarm must be between 1 and EvaluationPeriods.")
	}
	if in.ThresholdMetricId != "" || strings.Contains(in.ComparisonOperator, "Upper") || strings.Contains(in.ComparisonOperator, "Lower") {
		// Anomaly detection bands are not emulated.
		return 0, cwErr(cwCodeValidation, "ecslocal does not emulate anomaly detection alarms (ThresholdMetricId, %s).", in.ComparisonOperator)
	}
	if in.Threshold == nil {
		return 0, cwMissing("Threshold")
	}
	if err := checkDimensions("Dimensions", in.Dimensions); err != nil {
		return 0, err
	}
	single := in.MetricName != "" || in.Namespace != "" || in.Statistic != "" || in.ExtendedStatistic != "" || len(in.Dimensions) > 0
	if len(in.Metrics) > 0 {
		if single || in.Period != nil {
			return 0, cwErr(cwCodeValidation, "Metrics list cannot be set together with MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions or Period.")
		}
		return checkAlarmMetrics(in.Metrics)
	}
	switch {
	case in.MetricName == "":
		return 0, cwMissing("MetricName")
	case in.Namespace == "":
		return 0, cwMissing("Namespace")
	case in.Statistic == "" && in.ExtendedStatistic == "":
		return 0, cwMissing("Statistic")
	case in.Statistic != "" && in.ExtendedStatistic != "":
		return 0, cwErr(cwCodeCombination, "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")
	case in.Statistic != "" && !slices.Contains(cwStatistics, in.Statistic):
		return 0, cwConstraint(in.Statistic, "statistic", enumConstraint(cwStatistics))
	case in.ExtendedStatistic != "" && !cwPercentile.MatchString(in.ExtendedStatistic):
		return 0, cwInvalidValue("ExtendedStatistic", in.ExtendedStatistic)
	case in.Period == nil:
		return 0, cwMissing("Period")
	case !validPeriod(*in.Period, true):
		return 0, cwErr(cwCodeValidation, "Period must be 10, 20, 30 or a multiple of 60.")
	}
	return *in.Period, nil
}

// checkAlarmMetrics checks a metric math alarm's Metrics: the queries must be valid, and exactly
// one of them returns data: "specify true for the one expression result to use as the alarm"
// (MetricDataQuery). Its period is the period of that query, or of its metrics.
func checkAlarmMetrics(qs []cwMetricDataQuery) (int32, *apiError) {
	if err := checkQueries(qs, "Metrics", true); err != nil {
		return 0, err
	}
	var ret []cwMetricDataQuery
	var maxPeriod int32
	for _, q := range qs {
		if q.returns() {
			ret = append(ret, q)
		}
		if q.MetricStat != nil && *q.MetricStat.Period > maxPeriod {
			maxPeriod = *q.MetricStat.Period
		}
	}
	if len(ret) != 1 {
		return 0, cwErr(cwCodeValidation, "Exactly one element of the metrics list should return data.")
	}
	switch {
	case ret[0].MetricStat != nil:
		return *ret[0].MetricStat.Period, nil
	case ret[0].Period != nil:
		return *ret[0].Period, nil
	case maxPeriod > 0:
		return maxPeriod, nil
	}
	return 0, cwMissing("Metrics.member.N.Period")
}

// checkQueries checks MetricDataQuery structures: "Id ... must start with a lowercase letter",
// unique; "Within one MetricDataQuery object, you must specify either Expression or MetricStat but
// not both" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html);
// expressions must parse.
func checkQueries(qs []cwMetricDataQuery, param string, alarm bool) *apiError {
	seen := map[string]bool{}
	for i, q := range qs {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		switch {
		case q.Id == "":
			return cwMissing(p + ".Id")
		case !cwQueryID.MatchString(q.Id) || len(q.Id) > 255:
			return cwErr(cwCodeValidation, "The value %s for parameter %s.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.", q.Id, p)
		case seen[q.Id]:
			return cwErr(cwCodeValidation, "The value %s for parameter %s.Id is not unique.", q.Id, p)
		case (q.MetricStat == nil) == (q.Expression == ""):
			return cwErr(cwCodeValidation, "Exactly one of MetricStat and Expression must be specified in %s.", p)
		}
		seen[q.Id] = true
		if ms := q.MetricStat; ms != nil {
			switch {
			case ms.Metric == nil || ms.Metric.MetricName == "":
				return cwMissing(p + ".MetricStat.Metric.MetricName")
			case ms.Metric.Namespace == "":
				return cwMissing(p + ".MetricStat.Metric.Namespace")
			case ms.Stat == "":
				return cwMissing(p + ".MetricStat.Stat")
			case !slices.Contains(cwStatistics, ms.Stat) && !cwPercentile.MatchString(ms.Stat):
				return cwInvalidValue(p+".MetricStat.Stat", ms.Stat)
			case ms.Period == nil:
				return cwMissing(p + ".MetricStat.Period")
			case !validPeriod(*ms.Period, alarm):
				return cwInvalidValue(p+".MetricStat.Period", fmt.Sprint(*ms.Period))
			case ms.Unit != "" && !slices.Contains(cwUnits, ms.Unit):
				return cwConstraint(ms.Unit, "unit", enumConstraint(cwUnits))
			}
			if err := checkDimensions(p+".MetricStat.Metric.Dimensions", ms.Metric.Dimensions); err != nil {
				return err
			}
			continue
		}
		if _, err := parseMathExpr(q.Expression); err != nil {
			return cwErr(cwCodeValidation, "Error in expression '%s': %v", q.Id, err)
		}
	}
	// Every identifier an expression names must be a query of the same request.
	for _, q := range qs {
		if q.Expression == "" {
			continue
		}
		e, _ := parseMathExpr(q.Expression)
		for _, id := range e.refs() {
			if !seen[id] {
				return cwErr(cwCodeValidation, "Error in expression '%s': Unrecognized identifier '%s'.", q.Id, id)
			}
			if id == q.Id {
				return cwErr(cwCodeValidation, "Error in expression '%s': circular reference.", q.Id)
			}
		}
	}
	return nil
}

type cwDescribeAlarmsInput struct {
	AlarmNames      []string `json:"AlarmNames"`
	AlarmNamePrefix string   `json:"AlarmNamePrefix"`
	AlarmTypes      []string `json:"AlarmTypes"`
	StateValue      string   `json:"StateValue"`
	ActionPrefix    string   `json:"ActionPrefix"`
	MaxRecords      *int32   `json:"MaxRecords"`
	NextToken       string   `json:"NextToken"`
}

type cwDescribeAlarmsOutput struct {
	MetricAlarms    []cwMetricAlarmOut `json:"MetricAlarms"`
	CompositeAlarms []struct{}         `json:"CompositeAlarms"`
	NextToken       string             `json:"NextToken,omitempty"`
}

// cwDescribeAlarms lists alarms by name: "AlarmNames: The names of the alarms to retrieve
// information about" (at most 100), "AlarmNamePrefix ... If this parameter is specified, you cannot
// specify AlarmNames", "If you omit [AlarmTypes], only metric alarms are returned", MaxRecords
// 1–100, and NextToken (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
func (s *Server) cwDescribeAlarms(_ *reqCtx, dec cwDecoder) (any, *apiError) {
	var in cwDescribeAlarmsInput
	if err := dec(&in); err != nil {
		return nil, err
	}
	switch {
	case len(in.AlarmNames) > 100:
		return nil, cwConstraint(fmt.Sprint(in.AlarmNames), "alarmNames", "Member must have length less than or equal to 100")
	case len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "":
		return nil, cwErr(cwCodeCombination, "AlarmNamePrefix and AlarmNames cannot both be specified.")
	case in.StateValue != "" && !slices.Contains(cwStates, in.StateValue):
		return nil, cwConstraint(in.StateValue, "stateValue", enumConstraint(cwStates))
	case in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 100):
		return nil, cwConstraint(fmt.Sprint(*in.MaxRecords), "maxRecords", "Member must have value between 1 and 100")
	}
	types := []string{"MetricAlarm", "CompositeAlarm"}
	for _, t := range in.AlarmTypes {
		if !slices.Contains(types, t) {
			return nil, cwConstraint(t, "alarmTypes", enumConstraint(types))
		}
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || !strings.HasPrefix(string(b), "alarm:") {
			return nil, cwErr(cwCodeInvalidNextToken, "The service returned an error: the next token is invalid.")
		}
		after = strings.TrimPrefix(string(b), "alarm:")
	}
	limit := cwDefaultDescribeRecords
	if in.MaxRecords != nil {
		limit = int(*in.MaxRecords)
	}
	out := cwDescribeAlarmsOutput{MetricAlarms: []cwMetricAlarmOut{}, CompositeAlarms: []struct{}{}}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, "MetricAlarm") {
		return out, nil
	}
	names := make([]string, 0, len(s.cw.alarms))
	for name := range s.cw.alarms {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := s.cw.alarms[name]
		switch {
		case name <= after && after != "":
			continue
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name):
			continue
		case !strings.HasPrefix(name, in.AlarmNamePrefix):
			continue
		case in.StateValue != "" && a.state != in.StateValue:
			continue
		case in.ActionPrefix != "" && !hasActionPrefix(a.cfg, in.ActionPrefix):
			continue
		}
		if len(out.MetricAlarms) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte("alarm:" + out.MetricAlarms[limit-1].AlarmName))
			break
		}
		out.MetricAlarms = append(out.MetricAlarms, a.render())
	}
	return out, nil
}

func hasActionPrefix(c cwAlarmConfig, prefix string) bool {
	for _, list := range [][]string{c.OKActions, c.AlarmActions, c.InsufficientDataActions} {
		for _, a := range list {
			if strings.HasPrefix(a, prefix) {
				return true
			}
		}
	}
	return false
}

func cwList[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func (a *cwAlarm) render() cwMetricAlarmOut {
	c := a.cfg
	enabled := c.ActionsEnabled == nil || *c.ActionsEnabled
	out := cwMetricAlarmOut{
		AlarmName: c.AlarmName, AlarmArn: a.arn, AlarmDescription: c.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: cwTS(a.configUpdated), ActionsEnabled: enabled,
		OKActions: cwList(c.OKActions), AlarmActions: cwList(c.AlarmActions), InsufficientDataActions: cwList(c.InsufficientDataActions),
		StateValue: a.state, StateReason: a.reason, StateReasonData: a.reasonData,
		StateUpdatedTimestamp: cwTS(a.stateUpdated), StateTransitionedTimestamp: cwTS(a.stateUpdated),
		MetricName: c.MetricName, Namespace: c.Namespace, Statistic: c.Statistic, ExtendedStatistic: c.ExtendedStatistic,
		Dimensions: cwList(c.Dimensions), Period: c.Period, Unit: c.Unit, EvaluationPeriods: c.EvaluationPeriods,
		DatapointsToAlarm: c.DatapointsToAlarm, Threshold: c.Threshold, ComparisonOperator: c.ComparisonOperator,
		TreatMissingData: c.TreatMissingData, EvaluateLowSampleCountPercentile: c.EvaluateLowSampleCountPercentile,
		Metrics: c.Metrics, ThresholdMetricId: c.ThresholdMetricId,
	}
	return out
}

// cwDeleteAlarms deletes alarms: "In the event of an error, no alarms are deleted", with
// ResourceNotFound "The named resource does not exist"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html).
func (s *Server) cwDeleteAlarms(_ *reqCtx, dec cwDecoder) (any, *apiError) {
	var in struct {
		AlarmNames []string `json:"AlarmNames"`
	}
	if err := dec(&in); err != nil {
		return nil, err
	}
	if len(in.AlarmNames) == 0 {
		return nil, cwMissing("AlarmNames")
	}
	if len(in.AlarmNames) > 100 {
		return nil, cwConstraint(fmt.Sprint(in.AlarmNames), "alarmNames", "Member must have length less than or equal to 100")
	}
	var missing []string
	for _, n := range in.AlarmNames {
		if s.cw.alarms[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, cwErr(cwCodeNotFound, "%d alarm(s) not found: [%s]", len(missing), strings.Join(missing, ", "))
	}
	for _, n := range in.AlarmNames {
		delete(s.cw.alarms, n)
	}
	return nil, nil
}

// cwSetAlarmState sets an alarm's state "temporarily ... When the alarm's next evaluation
// happens, the alarm state is set to what the evaluation computes"; StateReasonData must be JSON
// (InvalidFormat), an unknown alarm is ResourceNotFound
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html).
func (s *Server) cwSetAlarmState(rc *reqCtx, dec cwDecoder) (any, *apiError) {
	var in struct {
		AlarmName       string `json:"AlarmName"`
		StateValue      string `json:"StateValue"`
		StateReason     string `json:"StateReason"`
		StateReasonData string `json:"StateReasonData"`
	}
	if err := dec(&in); err != nil {
		return nil, err
	}
	switch {
	case in.AlarmName == "":
		return nil, cwMissing("AlarmName")
	case in.StateValue == "":
		return nil, cwMissing("StateValue")
	case !slices.Contains(cwStates, in.StateValue):
		return nil, cwConstraint(in.StateValue, "stateValue", enumConstraint(cwStates))
	case in.StateReason == "":
		return nil, cwMissing("StateReason")
	case len(in.StateReason) > 1023:
		return nil, cwConstraint(in.StateReason, "stateReason", "Member must have length less than or equal to 1023")
	case in.StateReasonData != "" && !jsonValid(in.StateReasonData):
		return nil, cwErr(cwCodeInvalidFormat, "Data format is invalid: StateReasonData is not valid JSON.")
	}
	a := s.cw.alarms[in.AlarmName]
	if a == nil {
		return nil, cwErr(cwCodeNotFound, "Alarm %s not found", in.AlarmName)
	}
	if a.state != in.StateValue {
		a.state = in.StateValue
		a.stateUpdated = rc.now
	}
	a.reason, a.reasonData = in.StateReason, in.StateReasonData
	return nil, nil
}

type cwStatisticSet struct {
	SampleCount *float64 `json:"SampleCount"`
	Sum         *float64 `json:"Sum"`
	Minimum     *float64 `json:"Minimum"`
	Maximum     *float64 `json:"Maximum"`
}

type cwMetricDatum struct {
	MetricName        string          `json:"MetricName"`
	Dimensions        []cwDimension   `json:"Dimensions"`
	Timestamp         *cwTime         `json:"Timestamp"`
	Value             *float64        `json:"Value"`
	StatisticValues   *cwStatisticSet `json:"StatisticValues"`
	Values            []float64       `json:"Values"`
	Counts            []float64       `json:"Counts"`
	Unit              string          `json:"Unit"`
	StorageResolution *int32          `json:"StorageResolution"`
}

// cwPutMetricData stores metric values: a Namespace that must not begin with "AWS/", up to 1000
// MetricData each with Value, StatisticValues or Values (up to 150) with Counts; "The Value and
// StatisticValues ... are mutually exclusive"; Timestamps up to two weeks in the past and two
// hours in the future (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
func (s *Server) cwPutMetricData(rc *reqCtx, dec cwDecoder) (any, *apiError) {
	var in struct {
		Namespace  string          `json:"Namespace"`
		MetricData []cwMetricDatum `json:"MetricData"`
	}
	if err := dec(&in); err != nil {
		return nil, err
	}
	if err := s.putMetricData(in.Namespace, in.MetricData, rc.now); err != nil {
		return nil, err
	}
	return nil, nil
}

// cwRetention is how long ecslocal keeps metric samples: "Data points with a period of 60
// seconds (1 minute) are available for 15 days" (GetMetricStatistics,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
const cwRetention = 15 * 24 * time.Hour

// putMetricData checks and stores PutMetricData's MetricData; nothing is stored if any fails.
func (s *Server) putMetricData(namespace string, data []cwMetricDatum, now time.Time) *apiError {
	switch {
	case namespace == "":
		return cwMissing("Namespace")
	case strings.HasPrefix(namespace, "AWS/"):
		return cwErr(cwCodeInvalidValue, "The value AWS/ for parameter Namespace is invalid.")
	case len(data) == 0:
		return cwMissing("MetricData")
	case len(data) > 1000:
		return cwConstraint(fmt.Sprint(len(data)), "metricData", "Member must have length less than or equal to 1000")
	}
	samples := make([]cwSample, 0, len(data))
	for i, d := range data {
		p := fmt.Sprintf("MetricData.member.%d", i+1)
		sm, err := datumSample(p, d, now)
		if err != nil {
			return err
		}
		samples = append(samples, sm)
	}
	for i, d := range data {
		key := metricKey(namespace, d.MetricName, d.Dimensions)
		ser := s.cw.metrics[key]
		if ser == nil {
			ser = &cwSeries{namespace: namespace, name: d.MetricName, dims: slices.Clone(d.Dimensions)}
			s.cw.metrics[key] = ser
		}
		if len(ser.samples) > 0 && ser.samples[0].at.Before(now.Add(-cwRetention)) {
			ser.samples = slices.DeleteFunc(ser.samples, func(x cwSample) bool { return x.at.Before(now.Add(-cwRetention)) })
		}
		ser.samples = append(ser.samples, samples[i])
	}
	return nil
}

func datumSample(p string, d cwMetricDatum, now time.Time) (cwSample, *apiError) {
	if d.MetricName == "" {
		return cwSample{}, cwMissing(p + ".MetricName")
	}
	if err := checkDimensions(p+".Dimensions", d.Dimensions); err != nil {
		return cwSample{}, err
	}
	if d.Unit != "" && !slices.Contains(cwUnits, d.Unit) {
		return cwSample{}, cwConstraint(d.Unit, "metricData.member.unit", enumConstraint(cwUnits))
	}
	at := now
	if d.Timestamp != nil {
		at = time.Time(*d.Timestamp)
		if at.After(now.Add(2 * time.Hour)) {
			return cwSample{}, cwErr(cwCodeInvalidValue, "The parameter %s.Timestamp must specify a time no more than two hours in the future.", p)
		}
		if at.Before(now.Add(-14 * 24 * time.Hour)) {
			return cwSample{}, cwErr(cwCodeInvalidValue, "The parameter %s.Timestamp must specify a time no more than two weeks in the past.", p)
		}
	}
	unit := d.Unit
	if unit == "" {
		unit = "None"
	}
	sm := cwSample{at: at, unit: unit}
	n := 0
	for _, set := range []bool{d.Value != nil, d.StatisticValues != nil, len(d.Values) > 0} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return sm, cwErr(cwCodeCombination, "The parameters %s.Value, %s.StatisticValues and %s.Values are mutually exclusive and you have specified more than one.", p, p, p)
	case d.Value != nil:
		if bad(*d.Value) {
			return sm, cwInvalidValue(p+".Value", fmt.Sprint(*d.Value))
		}
		sm.count, sm.sum, sm.min, sm.max = 1, *d.Value, *d.Value, *d.Value
		sm.values, sm.counts = []float64{*d.Value}, []float64{1}
	case d.StatisticValues != nil:
		sv := d.StatisticValues
		for name, v := range map[string]*float64{"SampleCount": sv.SampleCount, "Sum": sv.Sum, "Minimum": sv.Minimum, "Maximum": sv.Maximum} {
			if v == nil {
				return sm, cwMissing(p + ".StatisticValues." + name)
			}
		}
		if *sv.SampleCount <= 0 || *sv.Minimum > *sv.Maximum {
			return sm, cwInvalidValue(p+".StatisticValues", fmt.Sprintf("{SampleCount=%g, Sum=%g, Minimum=%g, Maximum=%g}", *sv.SampleCount, *sv.Sum, *sv.Minimum, *sv.Maximum))
		}
		sm.count, sm.sum, sm.min, sm.max = *sv.SampleCount, *sv.Sum, *sv.Minimum, *sv.Maximum
	case len(d.Values) > 0:
		if len(d.Values) > 150 {
			return sm, cwConstraint(fmt.Sprint(len(d.Values)), "metricData.member.values", "Member must have length less than or equal to 150")
		}
		counts := d.Counts
		if len(counts) == 0 {
			counts = make([]float64, len(d.Values))
			for i := range counts {
				counts[i] = 1
			}
		} else if len(counts) != len(d.Values) {
			return sm, cwErr(cwCodeInvalidValue, "The parameters %s.Values and %s.Counts must be of the same size.", p, p)
		}
		sm.min, sm.max = math.Inf(1), math.Inf(-1)
		for i, v := range d.Values {
			if bad(v) || counts[i] < 0 {
				return sm, cwInvalidValue(p+".Values", fmt.Sprint(v))
			}
			sm.count += counts[i]
			sm.sum += v * counts[i]
			sm.min, sm.max = math.Min(sm.min, v), math.Max(sm.max, v)
		}
		sm.values, sm.counts = slices.Clone(d.Values), slices.Clone(counts)
	default:
		return sm, cwMissing(p + ".Value")
	}
	return sm, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

type cwGetMetricDataInput struct {
	MetricDataQueries []cwMetricDataQuery `json:"MetricDataQueries"`
	StartTime         *cwTime             `json:"StartTime"`
	EndTime           *cwTime             `json:"EndTime"`
	NextToken         string              `json:"NextToken"`
	ScanBy            string              `json:"ScanBy"`
	MaxDatapoints     *int32              `json:"MaxDatapoints"`
}

type cwMessage struct {
	Code  string `json:"Code,omitempty"`
	Value string `json:"Value,omitempty"`
}

type cwMetricDataResult struct {
	Id         string      `json:"Id"`
	Label      string      `json:"Label"`
	Timestamps []cwTime    `json:"Timestamps"`
	Values     []float64   `json:"Values"`
	StatusCode string      `json:"StatusCode"`
	Messages   []cwMessage `json:"Messages"`
}

type cwGetMetricDataOutput struct {
	MetricDataResults []cwMetricDataResult `json:"MetricDataResults"`
	Messages          []cwMessage          `json:"Messages"`
	NextToken         string               `json:"NextToken,omitempty"`
}

// cwGetMetricData answers up to 500 MetricDataQueries over [StartTime, EndTime): each MetricStat
// aggregated per Period, each Expression computed with metric math; only queries whose ReturnData
// is not false are returned, newest first unless ScanBy is TimestampAscending
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
func (s *Server) cwGetMetricData(rc *reqCtx, dec cwDecoder) (any, *apiError) {
	var in cwGetMetricDataInput
	if err := dec(&in); err != nil {
		return nil, err
	}
	switch {
	case len(in.MetricDataQueries) == 0:
		return nil, cwMissing("MetricDataQueries")
	case len(in.MetricDataQueries) > 500:
		return nil, cwConstraint(fmt.Sprint(len(in.MetricDataQueries)), "metricDataQueries", "Member must have length less than or equal to 500")
	case in.StartTime == nil:
		return nil, cwMissing("StartTime")
	case in.EndTime == nil:
		return nil, cwMissing("EndTime")
	case !time.Time(*in.StartTime).Before(time.Time(*in.EndTime)):
		return nil, cwErr(cwCodeInvalidValue, "The parameter StartTime must be less than the parameter EndTime.")
	case in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending":
		return nil, cwConstraint(in.ScanBy, "scanBy", enumConstraint([]string{"TimestampDescending", "TimestampAscending"}))
	case in.NextToken != "":
		// ecslocal answers every query in one page, so it never hands out a token.
		return nil, cwErr(cwCodeInvalidNextToken, "The service returned an error: the next token is invalid.")
	}
	if err := checkQueries(in.MetricDataQueries, "MetricDataQueries", false); err != nil {
		return nil, err
	}
	series, err := s.evalQueries(in.MetricDataQueries, time.Time(*in.StartTime), time.Time(*in.EndTime), rc.now)
	if err != nil {
		return nil, err
	}
	out := cwGetMetricDataOutput{MetricDataResults: []cwMetricDataResult{}, Messages: []cwMessage{}}
	for _, q := range in.MetricDataQueries {
		if !q.returns() {
			continue
		}
		label := q.Label
		if label == "" {
			label = q.Id
			if q.MetricStat != nil {
				label = q.MetricStat.Metric.MetricName
			}
		}
		r := cwMetricDataResult{Id: q.Id, Label: label, Timestamps: []cwTime{}, Values: []float64{}, StatusCode: "Complete", Messages: []cwMessage{}}
		for _, p := range series[q.Id].points(in.ScanBy != "TimestampAscending") {
			r.Timestamps = append(r.Timestamps, cwTime(p.at))
			r.Values = append(r.Values, p.v)
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func jsonValid(s string) bool {
	var v any
	return decode([]byte(s), &v) == nil
}
