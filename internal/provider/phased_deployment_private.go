package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// Private state keys. Private state is saved with the resource but never shown.
const (
	// privateFingerprints holds what each recorded service was deployed with, so that
	// re-applying the previous configuration is recognized as a rollback.
	privateFingerprints = "fingerprints"
	// privateView holds what the last refresh or apply saw live, for the plan to preview from:
	// a plan makes no call of its own, so that Terraform's second planning at apply time
	// decides exactly what the first one did.
	privateView = "view"
	// privateAdoption holds the service the first deployment adopted and the service template
	// copied from it (deploy.Adoption): discovery finds the adopted service by that name, and
	// revisions are created from that template while the configuration has no service block.
	privateAdoption = "adoption"
)

type privateGetter func(context.Context, string) ([]byte, diag.Diagnostics)
type privateSetter func(context.Context, string, []byte) diag.Diagnostics

// readFingerprints reads the map of service name to fingerprint. A map that cannot be read is
// a warning: it loses only the recognition of a post-production rollback, which then deploys a
// new revision instead.
func readFingerprints(ctx context.Context, get privateGetter, diags *diag.Diagnostics) map[string]string {
	fps := map[string]string{}
	b, d := get(ctx, privateFingerprints)
	diags.Append(d...)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &fps); err != nil {
			diags.AddWarning("Unreadable Private State",
				"The record of what each service was deployed with could not be read, so re-applying the previous configuration deploys a new revision instead of rolling back to the previous service: "+err.Error())
			return map[string]string{}
		}
	}
	return fps
}

// saveFingerprints keeps the fingerprints of the services state records.
func saveFingerprints(ctx context.Context, set privateSetter, fps map[string]string, res *deploy.Result, diags *diag.Diagnostics) {
	keep := map[string]string{}
	for _, ref := range []*deploy.ServiceRef{res.Current, res.Previous} {
		if ref != nil && fps[ref.Name] != "" {
			keep[ref.Name] = fps[ref.Name]
		}
	}
	savePrivate(ctx, set, privateFingerprints, keep, diags)
}

// readView reads what the last refresh or apply saw live; nil when nothing was recorded or it
// cannot be read, which makes the plan show what depends on it as known after apply.
func readView(ctx context.Context, get privateGetter, diags *diag.Diagnostics) *deploy.View {
	b, d := get(ctx, privateView)
	diags.Append(d...)
	if len(b) == 0 {
		return nil
	}
	var v *deploy.View
	if err := json.Unmarshal(b, &v); err != nil {
		diags.AddWarning("Unreadable Private State",
			"What the last refresh saw could not be read, so the plan shows the rollout's values as known after apply: "+err.Error())
		return nil
	}
	return v
}

// saveView records what was seen live; nil forgets it.
func saveView(ctx context.Context, set privateSetter, v *deploy.View, diags *diag.Diagnostics) {
	savePrivate(ctx, set, privateView, v, diags)
}

// readAdoption reads the service the first deployment adopted; nil when it adopted none. A
// record that cannot be read is an error: without it the adopted service would no longer be
// found as previous, nor the revisions created with its settings.
func readAdoption(ctx context.Context, get privateGetter, diags *diag.Diagnostics) *deploy.Adoption {
	b, d := get(ctx, privateAdoption)
	diags.Append(d...)
	if len(b) == 0 {
		return nil
	}
	var a *deploy.Adoption
	if err := json.Unmarshal(b, &a); err != nil {
		diags.AddError("Unreadable Private State",
			"The record of the service this deployment adopted could not be read. This is a bug in the provider; please report it: "+err.Error())
		return nil
	}
	return a
}

// saveAdoption records the service the first deployment adopted; nil records none.
func saveAdoption(ctx context.Context, set privateSetter, a *deploy.Adoption, diags *diag.Diagnostics) {
	if a == nil {
		// Nothing to keep: an empty value leaves the key out of private state.
		diags.Append(set(ctx, privateAdoption, nil)...)
		return
	}
	savePrivate(ctx, set, privateAdoption, a, diags)
}

func savePrivate(ctx context.Context, set privateSetter, key string, v any, diags *diag.Diagnostics) {
	b, err := json.Marshal(v)
	if err != nil {
		diags.AddError("Unable to Save Private State", "The provider could not encode its private record "+key+". This is a bug in the provider; please report it: "+err.Error())
		return
	}
	diags.Append(set(ctx, key, b)...)
}
