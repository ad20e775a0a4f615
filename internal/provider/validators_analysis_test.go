package provider

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var metricPath = path.Root("analysis").AtName("metric").AtListIndex(0)

func TestAnalysisInterval(t *testing.T) {
	runStringCases(t, durationBetween(time.Second, time.Hour), path.Root("analysis").AtName("interval"), []stringCase{
		{name: "one second, the shortest", value: "1s"},
		{name: "the default of ten seconds", value: "10s"},
		{name: "one hour, the longest", value: "1h"},
		{name: "half a second is too short", value: "500ms", wantErr: `"500ms" is not one (value must be a duration such as "30s" or "2m", from 1s to 1h)`},
		{name: "zero is too short", value: "0s", wantErr: "from 1s to 1h"},
		{name: "an hour and a second is too long", value: "1h0m1s", wantErr: "from 1s to 1h"},
		{name: "a number without a unit", value: "10", wantErr: `"10" is not one`},
	})
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 30 * time.Second: "30s", 10 * time.Minute: "10m", 90 * time.Second: "1m30s",
		time.Hour: "1h", 90 * time.Minute: "1h30m", 500 * time.Millisecond: "500ms",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestMetricPeriod(t *testing.T) {
	p := metricPath.AtName("period")
	for _, tc := range []struct {
		name    string
		value   int64
		wantErr string
	}{
		{"one second for a high-resolution metric", 1, ""},
		{"five seconds", 5, ""},
		{"ten seconds", 10, ""},
		{"twenty seconds", 20, ""},
		{"thirty seconds", 30, ""},
		{"one minute", 60, ""},
		{"five minutes", 300, ""},
		{"a day", 86400, ""},
		{"zero", 0, "period is 0; GetMetricData takes 1, 5, 10, 20 or 30 seconds"},
		{"two seconds", 2, "period is 2"},
		{"forty-five seconds", 45, "otherwise a multiple of 60"},
		{"ninety seconds", 90, "period is 90"},
		{"a negative period", -60, "period is -60"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.Int64Response
			metricPeriod().ValidateInt64(t.Context(), validator.Int64Request{Path: p, ConfigValue: types.Int64Value(tc.value)}, &resp)
			checkDiags(t, resp.Diagnostics, p, tc.wantErr)
		})
	}
}

func TestPositive(t *testing.T) {
	p := metricPath.AtName("baseline_ratio")
	for _, tc := range []struct {
		name    string
		value   float64
		wantErr string
	}{
		{"a ratio of 1.2", 1.2, ""},
		{"a ratio below 1", 0.5, ""},
		{"zero", 0, "baseline_ratio is 0; it must be greater than 0"},
		{"a negative ratio", -1, "is -1; it must be greater than 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.Float64Response
			positive().ValidateFloat64(t.Context(), validator.Float64Request{Path: p, ConfigValue: types.Float64Value(tc.value)}, &resp)
			checkDiags(t, resp.Diagnostics, p, tc.wantErr)
		})
	}
}

func TestDimensionPlaceholders(t *testing.T) {
	runStringCases(t, dimensionPlaceholders(), metricPath.AtName("dimensions").AtMapKey("ServiceName"), []stringCase{
		{name: "a literal value", value: "web__7"},
		{name: "the new revision's service", value: "{{service}}"},
		{name: "the previous revision's service", value: "{{previous_service}}"},
		{name: "a placeholder inside other text", value: "prod/{{service}}/api"},
		{name: "single braces are text", value: "{service}"},
		{name: "a misspelt placeholder", value: "{{services}}", wantErr: "contains {{services}}, which is no placeholder; use {{service}}"},
		{name: "a placeholder with spaces", value: "{{ service }}", wantErr: "contains {{ service }}"},
		{name: "a Terraform-style name", value: "{{previous}}", wantErr: "contains {{previous}}"},
	})
}

func TestExpressionIDs(t *testing.T) {
	for expr, want := range map[string][]string{
		"100 * errors / requests":                   {"errors", "requests"},
		"errors / requests + errors":                {"errors", "requests"},
		"FILL(m1, 0)":                               {"m1"},
		"METRICS()":                                 nil,
		"SUM(METRICS('errors'))":                    nil,
		`SEARCH('{ecslocal,ServiceName} x', 'Sum')`: nil,
		"IF(latency_p99 > 1, 1, 0)":                 {"latency_p99"},
		"1e3 * errors":                              {"errors"},
	} {
		if got := expressionIDs(expr); !slices.Equal(got, want) {
			t.Errorf("expressionIDs(%q) = %q, want %q", expr, got, want)
		}
	}
}

var (
	dimensionsType = types.MapType{ElemType: types.StringType}
	queryAttrTypes = map[string]attr.Type{
		"id": types.StringType, "namespace": types.StringType, "metric_name": types.StringType,
		"dimensions": dimensionsType, "statistic": types.StringType,
	}
	metricAttrTypes = map[string]attr.Type{
		"name": types.StringType, "namespace": types.StringType, "metric_name": types.StringType,
		"dimensions": dimensionsType, "statistic": types.StringType, "expression": types.StringType,
		"query": types.ListType{ElemType: types.ObjectType{AttrTypes: queryAttrTypes}}, "period": types.Int64Type,
		"threshold": types.Float64Type, "comparison": types.StringType, "baseline_ratio": types.Float64Type,
		"failure_limit": types.Int64Type, "no_data": types.StringType,
	}
)

// metricBlock is a metric block as configured: the given attributes, every other one null and
// no query block.
func metricBlock(set map[string]attr.Value) types.Object {
	vals := map[string]attr.Value{}
	for name, typ := range metricAttrTypes {
		switch tt := typ.(type) {
		case types.ListType:
			vals[name] = types.ListValueMust(tt.ElemType, nil)
		case types.MapType:
			vals[name] = types.MapNull(tt.ElemType)
		default:
			vals[name] = nullOf(typ)
		}
	}
	for name, v := range set {
		vals[name] = v
	}
	return types.ObjectValueMust(metricAttrTypes, vals)
}

func nullOf(t attr.Type) attr.Value {
	switch t {
	case types.Int64Type:
		return types.Int64Null()
	case types.Float64Type:
		return types.Float64Null()
	}
	return types.StringNull()
}

// queries is the query blocks with the given ids, each with a ServiceName dimension of value.
func queries(value string, ids ...string) types.List {
	var els []attr.Value
	for _, id := range ids {
		els = append(els, types.ObjectValueMust(queryAttrTypes, map[string]attr.Value{
			"id": types.StringValue(id), "namespace": types.StringValue("ecslocal"), "metric_name": types.StringValue(strings.ToUpper(id[:1]) + id[1:]),
			"dimensions": dims(value), "statistic": types.StringValue("Sum"),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: queryAttrTypes}, els)
}

func dims(service string) types.Map {
	return types.MapValueMust(types.StringType, map[string]attr.Value{"ClusterName": types.StringValue("prod"), "ServiceName": types.StringValue(service)})
}

// objectCase is one metric block for an object validator: wantErr is a phrase of the one
// error, on wantPath (relative to the block), or "" for none; wantWarning likewise.
type objectCase struct {
	name        string
	block       types.Object
	wantErr     string
	wantPath    string
	wantWarning string
}

func runObjectCases(t *testing.T, v validator.Object, cases []objectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.ObjectResponse
			v.ValidateObject(t.Context(), validator.ObjectRequest{Path: metricPath, ConfigValue: tc.block}, &resp)
			p := metricPath
			if tc.wantPath != "" {
				p = p.AtName(tc.wantPath)
			}
			checkDiags(t, resp.Diagnostics, p, tc.wantErr)
			warnings := resp.Diagnostics.Warnings()
			switch {
			case tc.wantWarning == "" && len(warnings) > 0:
				t.Errorf("got warnings %v, want none", warnings)
			case tc.wantWarning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0].Detail(), tc.wantWarning)):
				t.Errorf("got warnings %v, want one containing %q", warnings, tc.wantWarning)
			}
		})
	}
}

func TestMetricCheckForm(t *testing.T) {
	str := types.StringValue
	runObjectCases(t, metricCheckForm(), []objectCase{
		{name: "a single metric", block: metricBlock(map[string]attr.Value{
			"namespace": str("ecslocal"), "metric_name": str("Errors"), "dimensions": dims("{{service}}"), "statistic": str("Sum"),
		})},
		{name: "an expression over its queries", block: metricBlock(map[string]attr.Value{
			"expression": str("100 * errors / requests"), "query": queries("{{service}}", "errors", "requests"),
		})},
		{name: "an expression that leaves a query out", block: metricBlock(map[string]attr.Value{
			"expression": str("errors"), "query": queries("{{service}}", "errors", "requests"),
		})},
		{name: "neither form", block: metricBlock(map[string]attr.Value{"name": str("x")}), wantErr: "names no metric. Set namespace and metric_name for a single metric, or expression with query blocks"},
		{name: "a namespace without a metric name", block: metricBlock(map[string]attr.Value{"namespace": str("ecslocal")}),
			wantErr: "sets no analysis.metric[0].metric_name", wantPath: "metric_name"},
		{name: "query blocks without an expression", block: metricBlock(map[string]attr.Value{
			"namespace": str("ecslocal"), "metric_name": str("Errors"), "query": queries("x", "errors"),
		}), wantErr: "sets query blocks but no analysis.metric[0].expression", wantPath: "query"},
		{name: "an expression and a metric name", block: metricBlock(map[string]attr.Value{
			"expression": str("errors"), "query": queries("x", "errors"), "metric_name": str("Errors"),
		}), wantErr: "sets both analysis.metric[0].expression and analysis.metric[0].metric_name", wantPath: "metric_name"},
		{name: "an expression and a statistic", block: metricBlock(map[string]attr.Value{
			"expression": str("errors"), "query": queries("x", "errors"), "statistic": str("Sum"),
		}), wantErr: "give each metric's statistic in a query block", wantPath: "statistic"},
		{name: "an expression without queries", block: metricBlock(map[string]attr.Value{"expression": str("errors / requests")}),
			wantErr: "sets an expression but no query block", wantPath: "query"},
		{name: "an expression with a misspelt query ID", block: metricBlock(map[string]attr.Value{
			"expression": str("100 * erors / requests"), "query": queries("x", "errors", "requests"),
		}), wantErr: "refers to erors, which no query block's id names (ids: errors, requests)", wantPath: "expression"},
		{name: "an unknown expression is left to apply", block: metricBlock(map[string]attr.Value{
			"expression": types.StringUnknown(), "namespace": str("ecslocal"),
		})},
	})
}

func TestBaselineComparison(t *testing.T) {
	str, ratio := types.StringValue, types.Float64Value(1.2)
	perService := map[string]attr.Value{"namespace": str("ecslocal"), "metric_name": str("Errors"), "dimensions": dims("{{service}}"), "baseline_ratio": ratio}
	with := func(base map[string]attr.Value, k string, v attr.Value) map[string]attr.Value {
		out := map[string]attr.Value{k: v}
		for key, val := range base {
			if key != k {
				out[key] = val
			}
		}
		return out
	}
	runObjectCases(t, baselineComparison(), []objectCase{
		{name: "a per-service metric with the default comparison", block: metricBlock(perService)},
		{name: "a per-service metric with GreaterThanOrEqualToThreshold", block: metricBlock(with(perService, "comparison", str("GreaterThanOrEqualToThreshold")))},
		{name: "a per-service expression", block: metricBlock(map[string]attr.Value{
			"expression": str("errors / requests"), "query": queries("{{service}}", "errors", "requests"), "baseline_ratio": ratio,
		})},
		{name: "a threshold alone is no baseline", block: metricBlock(map[string]attr.Value{
			"namespace": str("AWS/ApplicationELB"), "metric_name": str("HTTPCode_Target_5XX_Count"), "threshold": types.Float64Value(5),
			"comparison": str("LessThanThreshold"),
		})},
		{name: "a baseline with LessThanThreshold", block: metricBlock(with(perService, "comparison", str("LessThanThreshold"))),
			wantErr: "is LessThanThreshold, but analysis.metric[0].baseline_ratio fails a check", wantPath: "comparison"},
		{name: "a baseline with LessThanOrEqualToThreshold", block: metricBlock(with(perService, "comparison", str("LessThanOrEqualToThreshold"))),
			wantErr: "use GreaterThanThreshold or GreaterThanOrEqualToThreshold", wantPath: "comparison"},
		{name: "a baseline on a metric that names no service warns", block: metricBlock(with(perService, "dimensions", dims("web"))),
			wantWarning: "No dimension of analysis.metric[0] contains {{service}}"},
		{name: "a baseline on an expression whose queries name no service warns", block: metricBlock(map[string]attr.Value{
			"expression": str("errors / requests"), "query": queries("web", "errors", "requests"), "baseline_ratio": ratio,
		}), wantWarning: "the comparison never fails at a ratio of 1 or more"},
	})
}
