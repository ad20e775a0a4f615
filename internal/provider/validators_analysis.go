package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// The validators of the analysis block. Each one stops at plan a metric check that GetMetricData
// would refuse, or that could never do what it says, so that it does not fail a rollout halfway
// through its phases.

// metricPeriod returns a validator of a metric check's period in seconds: "1, 5, 10, 20, 30, 60,
// or any multiple of 60" (CloudWatch API reference, MetricStat.Period).
func metricPeriod() validator.Int64 { return metricPeriodValidator{} }

type metricPeriodValidator struct{}

func (metricPeriodValidator) Description(_ context.Context) string {
	return "value must be 1, 5, 10, 20, 30 or a multiple of 60"
}

func (v metricPeriodValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v metricPeriodValidator) ValidateInt64(ctx context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if n := req.ConfigValue.ValueInt64(); !validMetricPeriod(n) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Period",
			fmt.Sprintf("%s is %d; GetMetricData takes 1, 5, 10, 20 or 30 seconds for high-resolution metrics and otherwise a multiple of 60, such as 60 or 300.", req.Path, n))
	}
}

func validMetricPeriod(n int64) bool {
	return slices.Contains([]int64{1, 5, 10, 20, 30}, n) || n > 0 && n%60 == 0
}

// positive returns a validator of numbers greater than 0, such as a baseline ratio.
func positive() validator.Float64 { return positiveValidator{} }

type positiveValidator struct{}

func (positiveValidator) Description(_ context.Context) string { return "value must be greater than 0" }

func (v positiveValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v positiveValidator) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if f := req.ConfigValue.ValueFloat64(); !(f > 0) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Value",
			fmt.Sprintf("%s is %g; it must be greater than 0.", req.Path, f))
	}
}

// placeholderPattern finds what looks like a placeholder in a dimension value.
var placeholderPattern = regexp.MustCompile(`\{\{[^{}]*\}\}`)

// dimensionPlaceholders returns a validator of dimension values: every {{…}} in one must be
// {{service}} or {{previous_service}}. A misspelt placeholder would otherwise be sent as it is
// and read a metric that nothing emits.
func dimensionPlaceholders() validator.String { return placeholderValidator{} }

type placeholderValidator struct{}

func (placeholderValidator) Description(_ context.Context) string {
	return "placeholders must be " + deploy.ServicePlaceholder + " or " + deploy.PreviousServicePlaceholder
}

func (v placeholderValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v placeholderValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, p := range placeholderPattern.FindAllString(req.ConfigValue.ValueString(), -1) {
		if p != deploy.ServicePlaceholder && p != deploy.PreviousServicePlaceholder {
			resp.Diagnostics.AddAttributeError(req.Path, "Unknown Placeholder",
				fmt.Sprintf("%s contains %s, which is no placeholder; use %s for the new revision's service name or %s for the previous revision's.",
					req.Path, p, deploy.ServicePlaceholder, deploy.PreviousServicePlaceholder))
		}
	}
}

// metricCheckForm returns an object validator of a metric block's two forms: a single metric
// (namespace and metric_name, with dimensions and statistic) or an expression over query
// blocks, whose identifiers must all be query IDs.
func metricCheckForm() validator.Object { return metricCheckFormValidator{} }

type metricCheckFormValidator struct{}

func (metricCheckFormValidator) Description(_ context.Context) string {
	return "set namespace and metric_name for a single metric, or expression with query blocks, not both"
}

func (v metricCheckFormValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

// singleMetricAttributes are the attributes of a metric block's single-metric form.
var singleMetricAttributes = []string{"namespace", "metric_name", "dimensions", "statistic"}

func (metricCheckFormValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	expr, ok := attrs["expression"].(types.String)
	queries, okQ := attrs["query"].(types.List)
	if !ok || !okQ || expr.IsUnknown() || queries.IsUnknown() {
		return
	}
	if expr.IsNull() {
		if len(queries.Elements()) > 0 {
			p := req.Path.AtName("query")
			resp.Diagnostics.AddAttributeError(p, "Invalid Attribute Combination",
				fmt.Sprintf("%s sets query blocks but no %s; query blocks name the metrics of an expression.", req.Path, req.Path.AtName("expression")))
		}
		ns, name := attrs["namespace"], attrs["metric_name"]
		switch {
		case ns == nil || name == nil:
		case ns.IsNull() && name.IsNull():
			resp.Diagnostics.AddAttributeError(req.Path, "Missing Metric",
				fmt.Sprintf("%s names no metric. Set namespace and metric_name for a single metric, or expression with query blocks.", req.Path))
		case ns.IsNull() || name.IsNull():
			missing := "namespace"
			if name.IsNull() {
				missing = "metric_name"
			}
			resp.Diagnostics.AddAttributeError(req.Path.AtName(missing), "Missing Metric",
				fmt.Sprintf("%s sets no %s; a single metric needs namespace and metric_name.", req.Path, req.Path.AtName(missing)))
		}
		return
	}
	for _, name := range singleMetricAttributes {
		if a := attrs[name]; a != nil && !a.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtName(name), "Invalid Attribute Combination",
				fmt.Sprintf("%s sets both %s and %s; with an expression, give each metric's %s in a query block.", req.Path, req.Path.AtName("expression"), req.Path.AtName(name), name))
		}
	}
	ids, known := queryIDs(queries)
	if !known {
		return
	}
	if len(ids) == 0 {
		resp.Diagnostics.AddAttributeError(req.Path.AtName("query"), "Missing Query",
			fmt.Sprintf("%s sets an expression but no query block; add one query block for each metric the expression uses.", req.Path))
		return
	}
	for _, id := range expressionIDs(expr.ValueString()) {
		if !slices.Contains(ids, id) {
			resp.Diagnostics.AddAttributeError(req.Path.AtName("expression"), "Unknown Query ID",
				fmt.Sprintf("%s refers to %s, which no query block's id names (ids: %s).", req.Path.AtName("expression"), id, strings.Join(ids, ", ")))
		}
	}
}

// queryIDs returns the ids of the query blocks; false while one is unknown.
func queryIDs(queries types.List) ([]string, bool) {
	var ids []string
	for _, el := range queries.Elements() {
		o, ok := el.(types.Object)
		if !ok || o.IsUnknown() {
			return nil, false
		}
		id, ok := o.Attributes()["id"].(types.String)
		if !ok || id.IsUnknown() {
			return nil, false
		}
		ids = append(ids, id.ValueString())
	}
	return ids, true
}

var (
	// quotedPattern is a string literal of a metric math expression, such as a SEARCH term.
	quotedPattern = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	// expressionIDPattern is a query ID in an expression. Metric math functions are uppercase
	// (METRICS, FILL, IF), so they never match.
	expressionIDPattern = regexp.MustCompile(`\b[a-z][a-zA-Z0-9_]*\b`)
)

// expressionIDs lists the query IDs an expression refers to, outside string literals, once each.
func expressionIDs(expr string) []string {
	var out []string
	for _, id := range expressionIDPattern.FindAllString(quotedPattern.ReplaceAllString(expr, "''"), -1) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// baselineComparison returns an object validator of a metric block's baseline_ratio: it
// compares "more than ratio × the previous revision's", so it needs a Greater comparison, and
// it warns when no dimension names {{service}}, because the previous revision's value is then
// read from the very same metric.
func baselineComparison() validator.Object { return baselineValidator{} }

type baselineValidator struct{}

func (baselineValidator) Description(_ context.Context) string {
	return "baseline_ratio needs a comparison of GreaterThanThreshold or GreaterThanOrEqualToThreshold"
}

func (v baselineValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (baselineValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	ratio, ok := attrs["baseline_ratio"].(types.Float64)
	if !ok || ratio.IsNull() || ratio.IsUnknown() {
		return
	}
	if c, ok := attrs["comparison"].(types.String); ok && !c.IsNull() && !c.IsUnknown() && strings.HasPrefix(c.ValueString(), "Less") {
		p := req.Path.AtName("comparison")
		resp.Diagnostics.AddAttributeError(p, "Invalid Attribute Combination",
			fmt.Sprintf("%s is %s, but %s fails a check whose value is more than the ratio × the previous revision's; use GreaterThanThreshold or GreaterThanOrEqualToThreshold, or drop baseline_ratio.",
				p, c.ValueString(), req.Path.AtName("baseline_ratio")))
	}
	if !isFullyKnown(req.ConfigValue) || namesService(req.ConfigValue) {
		return
	}
	resp.Diagnostics.AddAttributeWarning(req.Path.AtName("baseline_ratio"), "Baseline Compares a Metric with Itself",
		fmt.Sprintf("%s compares the new revision's value with the previous revision's, read from the same metric with %s naming the previous revision's service. No dimension of %s contains %s, so both values come from one metric and the comparison never fails at a ratio of 1 or more. Use a per-service metric with a dimension such as ServiceName = %q.",
			req.Path.AtName("baseline_ratio"), deploy.ServicePlaceholder, req.Path, deploy.ServicePlaceholder, deploy.ServicePlaceholder))
}

// namesService reports whether a dimension of a metric block, or of one of its query blocks,
// contains {{service}}.
func namesService(o types.Object) bool {
	maps := []attr.Value{o.Attributes()["dimensions"]}
	if q, ok := o.Attributes()["query"].(types.List); ok {
		for _, el := range q.Elements() {
			if qo, ok := el.(types.Object); ok {
				maps = append(maps, qo.Attributes()["dimensions"])
			}
		}
	}
	for _, m := range maps {
		dims, ok := m.(types.Map)
		if !ok {
			continue
		}
		for _, v := range dims.Elements() {
			if s, ok := v.(types.String); ok && strings.Contains(s.ValueString(), deploy.ServicePlaceholder) {
				return true
			}
		}
	}
	return false
}
