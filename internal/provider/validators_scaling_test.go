package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// stringCase is one value for a string validator: wantErr is a phrase the error detail must
// contain, "" when the value is valid.
type stringCase struct {
	name, value, wantErr string
}

// runStringCases validates each case's value at p and checks the outcome.
func runStringCases(t *testing.T, v validator.String, p path.Path, cases []stringCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.StringResponse
			v.ValidateString(t.Context(), validator.StringRequest{Path: p, ConfigValue: types.StringValue(tc.value)}, &resp)
			checkDiags(t, resp.Diagnostics, p, tc.wantErr)
		})
	}
}

// checkDiags checks that diags hold no error when wantErr is "", and otherwise exactly one,
// on p, whose detail contains wantErr.
func checkDiags(t *testing.T, diags diag.Diagnostics, p path.Path, wantErr string) {
	t.Helper()
	errs := diags.Errors()
	if wantErr == "" {
		if len(errs) > 0 {
			t.Fatalf("got errors %v, want none", errs)
		}
		return
	}
	if len(errs) != 1 {
		t.Fatalf("got %d errors %v, want one containing %q", len(errs), errs, wantErr)
	}
	if withPath, ok := errs[0].(diag.DiagnosticWithPath); !ok || !withPath.Path().Equal(p) {
		t.Errorf("error %v is not on %s", errs[0], p)
	}
	if !strings.Contains(errs[0].Detail(), wantErr) {
		t.Errorf("error detail %q does not contain %q", errs[0].Detail(), wantErr)
	}
}

func TestScheduleExpression(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action").AtListIndex(0).AtName("schedule")
	runStringCases(t, scheduleExpression(), p, []stringCase{
		{name: "a weekday morning in cron", value: "cron(0 8 ? * MON-FRI *)"},
		{name: "the first of each month in cron", value: "cron(0 8 1 * ? *)"},
		{name: "the last Friday of the month in cron", value: "cron(30 17 ? * 6L 2027)"},
		{name: "the nearest weekday to the 15th in cron", value: "cron(0/15 8-18 15W JAN-JUN ? 2027-2030)"},
		{name: "the second Monday in cron", value: "cron(0 6 ? * MON#2 *)"},
		{name: "a cron expression with five fields", value: "cron(0 8 * * MON-FRI)", wantErr: "has 5 fields; a cron expression has six"},
		{name: "a cron expression with both day fields set", value: "cron(0 8 1 * MON *)", wantErr: "must have ? in exactly one of day-of-month (field 3) and day-of-week (field 5)"},
		{name: "a cron expression with neither day field set", value: "cron(0 8 ? * ? *)", wantErr: "must have ? in exactly one of day-of-month"},
		{name: "a cron expression with a letter in the hours", value: "cron(0 8h ? * MON *)", wantErr: `has "8h" as its hours field (field 2)`},
		{name: "a cron expression with ? in the minutes", value: "cron(? 8 ? * MON *)", wantErr: `has "?" as its minutes field (field 1)`},
		{name: "a rate of one hour", value: "rate(1 hour)"},
		{name: "a rate of six hours", value: "rate(6 hours)"},
		{name: "a rate of 30 minutes", value: "rate(30 minutes)"},
		{name: "a rate of one day", value: "rate(1 day)"},
		{name: "a rate of 6 hour in the singular", value: "rate(6 hour)", wantErr: `uses the unit "hour" with the value 6; write rate(6 hours)`},
		{name: "a rate of 1 minutes in the plural", value: "rate(1 minutes)", wantErr: `uses the unit "minutes" with the value 1; write rate(1 minute)`},
		{name: "a rate of 0 minutes", value: "rate(0 minutes)", wantErr: "is not of the form rate(value unit)"},
		{name: "a rate in seconds", value: "rate(30 seconds)", wantErr: "unit minute(s), hour(s) or day(s)"},
		{name: "a rate in weeks", value: "rate(2 weeks)", wantErr: "is not of the form rate(value unit)"},
		{name: "a rate with a fraction", value: "rate(1.5 hours)", wantErr: "a positive whole number"},
		{name: "a time of day", value: "at(2027-03-01T06:00:00)"},
		{name: "a time of day with a zone suffix", value: "at(2027-03-01T06:00:00Z)", wantErr: "is not of the form at(yyyy-mm-ddThh:mm:ss)"},
		{name: "a date without a time", value: "at(2027-03-01)", wantErr: "is not of the form at(yyyy-mm-ddThh:mm:ss)"},
		{name: "the 30th of February", value: "at(2027-02-30T06:00:00)", wantErr: "names no date and time of day that exists"},
		{name: "an hour of 24", value: "at(2027-03-01T24:00:00)", wantErr: "names no date and time of day that exists"},
		{name: "an unknown form", value: "every(1 hour)", wantErr: "is not a schedule: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron("},
		{name: "a bare cron body", value: "0 8 ? * MON-FRI *", wantErr: "is not a schedule"},
		{name: "an empty schedule", value: "", wantErr: "is not a schedule"},
	})
}

func TestTimeZone(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action").AtListIndex(0).AtName("timezone")
	runStringCases(t, timeZone(), p, []stringCase{
		{name: "Europe/Berlin", value: "Europe/Berlin"},
		{name: "America/New_York", value: "America/New_York"},
		{name: "a fixed offset zone", value: "Etc/GMT+9"},
		{name: "UTC", value: "UTC"},
		{name: "an abbreviation", value: "CEST", wantErr: `"CEST" is not an IANA time zone name`},
		{name: "a city that is no zone", value: "Europe/Atlantis", wantErr: "is not an IANA time zone name"},
		{name: "an offset", value: "+01:00", wantErr: "is not an IANA time zone name"},
		{name: "the machine's local zone", value: "Local", wantErr: `"Local" is not an IANA time zone name`},
		{name: "an empty name", value: "", wantErr: "is not an IANA time zone name"},
	})
}

func TestRFC3339Time(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action").AtListIndex(0).AtName("start_time")
	runStringCases(t, rfc3339Time(), p, []stringCase{
		{name: "a UTC time", value: "2027-03-01T00:00:00Z"},
		{name: "a time with an offset", value: "2027-03-01T08:00:00+01:00"},
		{name: "a time with fractional seconds", value: "2027-03-01T08:00:00.5Z"},
		{name: "a time without a zone", value: "2027-03-01T08:00:00", wantErr: `"2027-03-01T08:00:00" is not an RFC 3339 time`},
		{name: "a date", value: "2027-03-01", wantErr: "is not an RFC 3339 time"},
		{name: "a time with a space", value: "2027-03-01 08:00:00Z", wantErr: "is not an RFC 3339 time"},
		{name: "the 13th month", value: "2027-13-01T00:00:00Z", wantErr: "is not an RFC 3339 time"},
	})
}

func TestScheduledActionNamePattern(t *testing.T) {
	for name, want := range map[string]bool{
		"morning-scale-out":      true,
		"weekday 08:00":          false,
		"scale out at 8":         true,
		"a":                      true,
		"out/in":                 false,
		"a|b":                    false,
		" leading space":         false,
		"trailing space ":        false,
		"tab\tinside":            false,
		"Frühschicht":            true,
		strings.Repeat("x", 256): true,
	} {
		if got := scheduledActionNamePattern.MatchString(name); got != want {
			t.Errorf("scheduledActionNamePattern.MatchString(%q) = %v, want %v", name, got, want)
		}
	}
}

// scheduledActionObject is a scheduled_action block with the given start_time and end_time
// ("" for null).
func scheduledActionObject(start, end string) types.Object {
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	return types.ObjectValueMust(
		map[string]attr.Type{"name": types.StringType, "start_time": types.StringType, "end_time": types.StringType},
		map[string]attr.Value{"name": types.StringValue("morning"), "start_time": str(start), "end_time": str(end)},
	)
}

func TestBefore(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action").AtListIndex(0)
	cases := []struct {
		name, start, end, wantErr string
	}{
		{name: "a start before the end", start: "2027-03-01T00:00:00Z", end: "2027-04-01T00:00:00Z"},
		{name: "a start before the end in another offset", start: "2027-03-01T08:00:00+01:00", end: "2027-03-01T07:30:00Z"},
		{name: "only a start", start: "2027-03-01T00:00:00Z"},
		{name: "only an end", end: "2027-03-01T00:00:00Z"},
		{name: "neither", start: "", end: ""},
		{name: "an end that is no time is left to rfc3339Time", start: "2027-03-01T00:00:00Z", end: "soon"},
		{
			name: "an end before the start", start: "2027-04-01T00:00:00Z", end: "2027-03-01T00:00:00Z",
			wantErr: "auto_scaling.scheduled_action[0].end_time (2027-03-01T00:00:00Z) is not after auto_scaling.scheduled_action[0].start_time (2027-04-01T00:00:00Z)",
		},
		{
			name: "an end equal to the start in another offset", start: "2027-03-01T08:00:00+01:00", end: "2027-03-01T07:00:00Z",
			wantErr: "end_time must be later than start_time",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.ObjectResponse
			before("start_time", "end_time").ValidateObject(t.Context(),
				validator.ObjectRequest{Path: p, ConfigValue: scheduledActionObject(tc.start, tc.end)}, &resp)
			checkDiags(t, resp.Diagnostics, p.AtName("end_time"), tc.wantErr)
		})
	}
}

func TestUniqueNames(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action")
	list := func(names ...string) types.List {
		elemType := types.ObjectType{AttrTypes: map[string]attr.Type{"name": types.StringType, "start_time": types.StringType, "end_time": types.StringType}}
		vals := make([]attr.Value, 0, len(names))
		for _, n := range names {
			vals = append(vals, types.ObjectValueMust(elemType.AttrTypes, map[string]attr.Value{
				"name": types.StringValue(n), "start_time": types.StringNull(), "end_time": types.StringNull(),
			}))
		}
		return types.ListValueMust(elemType, vals)
	}
	cases := []struct {
		name     string
		list     types.List
		wantPath path.Path
		wantErr  string
	}{
		{name: "distinct names", list: list("morning", "evening")},
		{name: "one action", list: list("morning")},
		{name: "no actions", list: list()},
		{
			name: "a name given twice", list: list("morning", "evening", "morning"), wantPath: p.AtListIndex(2).AtName("name"),
			wantErr: `auto_scaling.scheduled_action[2].name is "morning", like auto_scaling.scheduled_action[0].name; each name must be unique`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.ListResponse
			uniqueNames("name").ValidateList(t.Context(), validator.ListRequest{Path: p, ConfigValue: tc.list}, &resp)
			checkDiags(t, resp.Diagnostics, tc.wantPath, tc.wantErr)
		})
	}
}

func TestAtLeastOneOf(t *testing.T) {
	p := path.Root("auto_scaling").AtName("scheduled_action").AtListIndex(0)
	attrTypes := map[string]attr.Type{"min_capacity": types.Int64Type, "max_capacity": types.Int64Type}
	object := func(lo, hi types.Int64) types.Object {
		return types.ObjectValueMust(attrTypes, map[string]attr.Value{"min_capacity": lo, "max_capacity": hi})
	}
	cases := []struct {
		name    string
		object  types.Object
		wantErr string
	}{
		{name: "only min_capacity", object: object(types.Int64Value(4), types.Int64Null())},
		{name: "only max_capacity", object: object(types.Int64Null(), types.Int64Value(3))},
		{name: "both", object: object(types.Int64Value(1), types.Int64Value(3))},
		{name: "a min_capacity known only at apply", object: object(types.Int64Unknown(), types.Int64Null())},
		{name: "no block", object: types.ObjectNull(attrTypes)},
		{
			name: "neither", object: object(types.Int64Null(), types.Int64Null()),
			wantErr: "auto_scaling.scheduled_action[0] sets neither auto_scaling.scheduled_action[0].min_capacity nor auto_scaling.scheduled_action[0].max_capacity; set at least one of them.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp validator.ObjectResponse
			atLeastOneOf("min_capacity", "max_capacity").ValidateObject(t.Context(), validator.ObjectRequest{Path: p, ConfigValue: tc.object}, &resp)
			checkDiags(t, resp.Diagnostics, p, tc.wantErr)
		})
	}
}
