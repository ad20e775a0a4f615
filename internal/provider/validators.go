package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// httpURL returns a validator that accepts absolute http and https URLs, such as
// http://127.0.0.1:4599 or https://ecs.eu-west-1.amazonaws.com.
func httpURL() validator.String {
	return httpURLValidator{}
}

// httpURLValidator implements httpURL.
type httpURLValidator struct{}

var _ validator.String = httpURLValidator{}

// Description says what the validator accepts, for plain-text docs.
func (v httpURLValidator) Description(_ context.Context) string {
	return "value must be an http or https URL, such as http://127.0.0.1:4599"
}

// MarkdownDescription says what the validator accepts, for Markdown docs.
func (v httpURLValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

// ValidateString checks a known value; null and unknown values are left to Configure.
func (v httpURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	raw := req.ConfigValue.ValueString()
	if err := checkHTTPURL(raw); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Endpoint URL",
			fmt.Sprintf("%q is not an http or https URL: %s. Use a URL such as http://127.0.0.1:4599.", raw, err))
	}
}

// checkHTTPURL reports why raw is not an absolute http or https URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("the scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("it names no host")
	}
	return nil
}

// duration returns a validator of Go duration strings ("90s", "2m", "1h30m") that are not
// negative.
func duration() validator.String { return durationValidator{} }

// durationBetween returns a validator of Go duration strings from lo to hi, both included.
func durationBetween(lo, hi time.Duration) validator.String {
	return durationValidator{lo: lo, hi: hi}
}

// durationValidator implements duration and durationBetween; hi 0 means no upper bound.
type durationValidator struct{ lo, hi time.Duration }

func (v durationValidator) Description(_ context.Context) string {
	if v.hi > 0 {
		return fmt.Sprintf(`value must be a duration such as "30s" or "2m", from %s to %s`, durationText(v.lo), durationText(v.hi))
	}
	return `value must be a duration such as "30s", "2m" or "1h30m", not negative`
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v durationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.lo || v.hi > 0 && d > v.hi {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%s: %q is not one (%s).", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// durationText writes a duration the way a configuration does: "1h", "10m", "1m30s".
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

// exactlyOneOf returns an object validator that requires exactly one of two attributes of the
// object, such as a phase's percent and count. The framework-validators equivalent names the
// other attribute as an unresolved expression ("phase[0].percent.<.count"); this one names
// both by their paths.
func exactlyOneOf(a, b string) validator.Object { return exactlyOneOfValidator{a: a, b: b} }

type exactlyOneOfValidator struct{ a, b string }

func (v exactlyOneOfValidator) Description(_ context.Context) string {
	return fmt.Sprintf("exactly one of %s or %s must be set", v.a, v.b)
}

func (v exactlyOneOfValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v exactlyOneOfValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	a, b := attrs[v.a], attrs[v.b]
	if a == nil || b == nil || a.IsUnknown() || b.IsUnknown() {
		return
	}
	switch {
	case !a.IsNull() && !b.IsNull():
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Combination",
			fmt.Sprintf("%s sets both %s and %s; set exactly one of them.", req.Path, req.Path.AtName(v.a), req.Path.AtName(v.b)))
	case a.IsNull() && b.IsNull():
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Attribute Combination",
			fmt.Sprintf("%s sets neither %s nor %s; set exactly one of them.", req.Path, req.Path.AtName(v.a), req.Path.AtName(v.b)))
	}
}

// notAbove returns an object validator that requires the object's attribute lo to be at most
// its attribute hi, such as auto_scaling's min_capacity and max_capacity.
func notAbove(lo, hi string) validator.Object { return notAboveValidator{lo: lo, hi: hi} }

type notAboveValidator struct{ lo, hi string }

func (v notAboveValidator) Description(_ context.Context) string {
	return fmt.Sprintf("%s must be at most %s", v.lo, v.hi)
}

func (v notAboveValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v notAboveValidator) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	lo, okLo := req.ConfigValue.Attributes()[v.lo].(types.Int64)
	hi, okHi := req.ConfigValue.Attributes()[v.hi].(types.Int64)
	if !okLo || !okHi || lo.IsNull() || lo.IsUnknown() || hi.IsNull() || hi.IsUnknown() {
		return
	}
	if lo.ValueInt64() > hi.ValueInt64() {
		loPath, hiPath := req.Path.AtName(v.lo), req.Path.AtName(v.hi)
		resp.Diagnostics.AddAttributeError(hiPath, "Invalid Attribute Value",
			fmt.Sprintf("%s (%d) is below %s (%d); %s must be at least %s.", hiPath, hi.ValueInt64(), loPath, lo.ValueInt64(), v.hi, v.lo))
	}
}
