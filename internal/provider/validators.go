package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
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

type durationValidator struct{}

func (durationValidator) Description(_ context.Context) string {
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
	if err != nil || d < 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Duration",
			fmt.Sprintf("%s: %q is not one (%s).", req.Path, req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}
