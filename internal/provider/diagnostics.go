package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// addError is the one place that words error diagnostics: a short Title Case summary, a detail of
// full sentences that says what failed and what to do, then the original error.
func addError(diags *diag.Diagnostics, summary, detail string, err error) {
	if err != nil {
		detail += "\n\n" + err.Error()
	}
	diags.AddError(summary, detail)
}
