package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The validators of auto_scaling's scheduled actions. Each one mirrors a constraint of
// Application Auto Scaling's PutScheduledAction, so that a schedule AWS would refuse fails at
// plan, before a rollout moves auto scaling from one revision to the next, and not halfway
// through that hand-over.

// scheduledActionNamePattern is PutScheduledAction's ScheduledActionName pattern without its
// lookahead: no control character, colon, slash or vertical bar, and no space at either end.
var scheduledActionNamePattern = regexp.MustCompile(`^[^ \x00-\x1f\x7f-\x9f:/|]([^\x00-\x1f\x7f-\x9f:/|]*[^ \x00-\x1f\x7f-\x9f:/|])?$`)

var (
	atPattern   = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
	ratePattern = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|hour|day)(s?)\)$`)
	// cronFields checks the characters of each of a cron expression's six fields: AWS's cron
	// syntax (minutes, hours, day-of-month, month, day-of-week, year) with its wildcards
	// , - * / ? L W #. Values within each field are left to Application Auto Scaling.
	cronFields = [6]struct {
		name    string
		pattern *regexp.Regexp
	}{
		{"minutes", regexp.MustCompile(`^[0-9,*/-]+$`)},
		{"hours", regexp.MustCompile(`^[0-9,*/-]+$`)},
		{"day-of-month", regexp.MustCompile(`^([0-9,*/LW-]+|\?)$`)},
		{"month", regexp.MustCompile(`^[0-9A-Za-z,*/-]+$`)},
		{"day-of-week", regexp.MustCompile(`^([0-9A-Za-z,*/#-]+|\?)$`)},
		{"year", regexp.MustCompile(`^[0-9,*/-]+$`)},
	}
)

// scheduleExpression returns a validator of a scheduled action's schedule: at(…), rate(…) or
// cron(…), in the forms PutScheduledAction accepts.
func scheduleExpression() validator.String { return scheduleValidator{} }

type scheduleValidator struct{}

func (scheduleValidator) Description(_ context.Context) string {
	return "value must be at(yyyy-mm-ddThh:mm:ss), rate(value unit) with unit minute(s), hour(s) or day(s), " +
		"or cron(minutes hours day-of-month month day-of-week year)"
}

func (v scheduleValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v scheduleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if err := checkSchedule(s); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Schedule", fmt.Sprintf("%s: %q %s.", req.Path, s, err))
	}
}

// checkSchedule says what is wrong with a schedule expression, as the rest of a sentence that
// starts with the expression; nil when it is one PutScheduledAction accepts.
func checkSchedule(s string) error {
	switch {
	case strings.HasPrefix(s, "at("):
		m := atPattern.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("is not of the form at(yyyy-mm-ddThh:mm:ss), for example at(2027-03-01T06:00:00)")
		}
		if _, err := time.Parse("2006-01-02T15:04:05", m[1]); err != nil {
			return fmt.Errorf("names no date and time of day that exists (%s is out of range)", m[1])
		}
		return nil
	case strings.HasPrefix(s, "rate("):
		m := ratePattern.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("is not of the form rate(value unit), with value a positive whole number and unit minute(s), hour(s) or day(s), for example rate(6 hours)")
		}
		if n, _ := strconv.Atoi(m[1]); (n == 1) != (m[3] == "") {
			want := m[2] + "s"
			if n == 1 {
				want = m[2]
			}
			return fmt.Errorf("uses the unit %q with the value %d; write rate(%d %s): the unit is singular for 1 and plural otherwise", m[2]+m[3], n, n, want)
		}
		return nil
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		return checkCron(strings.TrimSuffix(strings.TrimPrefix(s, "cron("), ")"))
	}
	return fmt.Errorf("is not a schedule: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")
}

// checkCron checks the fields of a cron expression at the level of their characters, and AWS's
// rule that exactly one of day-of-month and day-of-week is ?.
func checkCron(body string) error {
	f := strings.Fields(body)
	if len(f) != len(cronFields) {
		return fmt.Errorf("has %d fields; a cron expression has six: minutes hours day-of-month month day-of-week year, for example cron(0 8 ? * MON-FRI *)", len(f))
	}
	for i, field := range f {
		if !cronFields[i].pattern.MatchString(field) {
			return fmt.Errorf("has %q as its %s field (field %d), which is not a cron field", field, cronFields[i].name, i+1)
		}
	}
	if (f[2] == "?") == (f[4] == "?") {
		return fmt.Errorf("must have ? in exactly one of day-of-month (field 3) and day-of-week (field 5), for example cron(0 8 ? * MON-FRI *) or cron(0 8 1 * ? *)")
	}
	return nil
}

// atLeastOneOf returns an object validator that requires at least one of two attributes of the
// object, such as a scheduled action's min_capacity and max_capacity. The framework-validators
// equivalent counts the attribute it is set on and names the other as an unresolved expression;
// this one names both by their paths, as exactlyOneOf does.
func atLeastOneOf(a, b string) validator.Object { return atLeastOneOfValidator{a: a, b: b} }

type atLeastOneOfValidator struct{ a, b string }

func (v atLeastOneOfValidator) Description(_ context.Context) string {
	return fmt.Sprintf("at least one of %s and %s must be set", v.a, v.b)
}

func (v atLeastOneOfValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v atLeastOneOfValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	a, b := req.ConfigValue.Attributes()[v.a], req.ConfigValue.Attributes()[v.b]
	if a == nil || b == nil || !a.IsNull() || !b.IsNull() {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Combination",
		fmt.Sprintf("%s sets neither %s nor %s; set at least one of them.", req.Path, req.Path.AtName(v.a), req.Path.AtName(v.b)))
}

// timeZone returns a validator of IANA time zone names, such as Europe/Berlin.
func timeZone() validator.String { return timeZoneValidator{} }

type timeZoneValidator struct{}

func (timeZoneValidator) Description(_ context.Context) string {
	return "value must be an IANA time zone name, such as Europe/Berlin or Etc/GMT+9"
}

func (v timeZoneValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v timeZoneValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	name := req.ConfigValue.ValueString()
	// time.LoadLocation takes "" and "Local" for UTC and the machine's own zone; neither
	// is a zone AWS knows.
	if _, err := time.LoadLocation(name); err != nil || name == "" || name == "Local" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Time Zone",
			fmt.Sprintf("%s: %q is not an IANA time zone name; use one such as Europe/Berlin, America/New_York or Etc/GMT+9.", req.Path, name))
	}
}

// rfc3339Time returns a validator of RFC 3339 times, such as 2027-03-01T00:00:00Z.
func rfc3339Time() validator.String { return rfc3339Validator{} }

type rfc3339Validator struct{}

func (rfc3339Validator) Description(_ context.Context) string {
	return "value must be an RFC 3339 time, such as 2027-03-01T00:00:00Z or 2027-03-01T08:00:00+01:00"
}

func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v rfc3339Validator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Time",
			fmt.Sprintf("%s: %q is not an RFC 3339 time (%s).", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// before returns an object validator that requires the object's RFC 3339 time attribute
// earlier to be before its attribute later, such as a scheduled action's start_time and
// end_time. Values that are not RFC 3339 times are left to rfc3339Time.
func before(earlier, later string) validator.Object {
	return beforeValidator{earlier: earlier, later: later}
}

type beforeValidator struct{ earlier, later string }

func (v beforeValidator) Description(_ context.Context) string {
	return fmt.Sprintf("%s must be before %s", v.earlier, v.later)
}

func (v beforeValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v beforeValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	a, okA := knownTime(req.ConfigValue.Attributes()[v.earlier])
	b, okB := knownTime(req.ConfigValue.Attributes()[v.later])
	if !okA || !okB || a.Before(b) {
		return
	}
	earlierPath, laterPath := req.Path.AtName(v.earlier), req.Path.AtName(v.later)
	resp.Diagnostics.AddAttributeError(laterPath, "Invalid Attribute Value",
		fmt.Sprintf("%s (%s) is not after %s (%s); %s must be later than %s.",
			laterPath, b.Format(time.RFC3339), earlierPath, a.Format(time.RFC3339), v.later, v.earlier))
}

// knownTime reads a known string attribute as an RFC 3339 time.
func knownTime(v attr.Value) (time.Time, bool) {
	s, ok := v.(types.String)
	if !ok || s.IsNull() || s.IsUnknown() {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s.ValueString())
	return t, err == nil
}

// uniqueNames returns a list validator that requires the string attribute key to differ
// between the list's objects, such as the names of scheduled actions, which AWS keys by name.
func uniqueNames(key string) validator.List { return uniqueNamesValidator{key: key} }

type uniqueNamesValidator struct{ key string }

func (v uniqueNamesValidator) Description(_ context.Context) string {
	return fmt.Sprintf("each element's %s must be unique", v.key)
}

func (v uniqueNamesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v uniqueNamesValidator) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	first := map[string]int{}
	for i, el := range req.ConfigValue.Elements() {
		o, ok := el.(types.Object)
		if !ok || o.IsNull() || o.IsUnknown() {
			continue
		}
		s, ok := o.Attributes()[v.key].(types.String)
		if !ok || s.IsNull() || s.IsUnknown() {
			continue
		}
		j, seen := first[s.ValueString()]
		if !seen {
			first[s.ValueString()] = i
			continue
		}
		p := req.Path.AtListIndex(i).AtName(v.key)
		resp.Diagnostics.AddAttributeError(p, "Duplicate Name",
			fmt.Sprintf("%s is %q, like %s; each %s must be unique.", p, s.ValueString(), req.Path.AtListIndex(j).AtName(v.key), v.key))
	}
}
