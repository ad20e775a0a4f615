package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

var (
	_ resource.Resource                     = &phasedDeploymentResource{}
	_ resource.ResourceWithConfigure        = &phasedDeploymentResource{}
	_ resource.ResourceWithModifyPlan       = &phasedDeploymentResource{}
	_ resource.ResourceWithImportState      = &phasedDeploymentResource{}
	_ resource.ResourceWithConfigValidators = &phasedDeploymentResource{}
)

// NewPhasedDeploymentResource returns the ecs_phased_deployment resource.
func NewPhasedDeploymentResource() resource.Resource { return &phasedDeploymentResource{} }

// phasedDeploymentResource maps Terraform's plan and state onto the deployment engine.
type phasedDeploymentResource struct {
	clients *Clients
	// poll overrides the engine's polling in tests; the zero value means the engine's defaults.
	poll deploy.PollConfig
}

// Default operation timeouts when the timeouts block sets none.
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultDeleteTimeout = 20 * time.Minute
)

// privateFingerprints is the private state key holding what each recorded service was deployed
// with, so that re-applying the previous configuration can be recognized as a rollback.
const privateFingerprints = "fingerprints"

// Metadata sets the resource type name.
func (r *phasedDeploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_phased_deployment"
}

// Configure receives the provider's client bundle.
func (r *phasedDeploymentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return // the provider is not configured yet (validation); Terraform calls again later
	}
	clients, ok := req.ProviderData.(*Clients)
	if !ok {
		resp.Diagnostics.AddError("Unexpected Provider Data",
			fmt.Sprintf("The ecs_phased_deployment resource expected *provider.Clients, got %T. This is a bug in the provider; please report it.", req.ProviderData))
		return
	}
	r.clients = clients
}

func (r *phasedDeploymentResource) engine() *deploy.Engine {
	return &deploy.Engine{ECS: r.clients.ECS, AutoScaling: r.clients.AutoScaling, Log: tflogLogger{}, Poll: r.poll}
}

// tflogLogger sends the engine's progress to tflog: TF_LOG_PROVIDER=INFO shows each step of a
// rollout as it happens, with structured fields (cluster, service, phase, counts).
type tflogLogger struct{}

func (tflogLogger) Info(ctx context.Context, msg string, f map[string]any)  { tflog.Info(ctx, msg, f) }
func (tflogLogger) Debug(ctx context.Context, msg string, f map[string]any) { tflog.Debug(ctx, msg, f) }
func (tflogLogger) Warn(ctx context.Context, msg string, f map[string]any)  { tflog.Warn(ctx, msg, f) }

// fingerprints reads the private state map of service name to fingerprint.
func fingerprints(ctx context.Context, get func(context.Context, string) ([]byte, diag.Diagnostics), diags *diag.Diagnostics) map[string]string {
	b, d := get(ctx, privateFingerprints)
	diags.Append(d...)
	fps := map[string]string{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &fps) // an unreadable map only loses rollback detection
	}
	return fps
}

func saveFingerprints(ctx context.Context, set func(context.Context, string, []byte) diag.Diagnostics, fps map[string]string, res *deploy.Result, diags *diag.Diagnostics) {
	keep := map[string]string{}
	for _, ref := range []*deploy.ServiceRef{res.Current, res.Previous} {
		if ref != nil && fps[ref.Name] != "" {
			keep[ref.Name] = fps[ref.Name]
		}
	}
	b, _ := json.Marshal(keep)
	diags.Append(set(ctx, privateFingerprints, b)...)
}

// Create deploys the first revision.
func (r *phasedDeploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	cfg := engineConfig(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res, err := r.engine().Deploy(ctx, cfg, deploy.State{})
	if err != nil {
		// Nothing is saved: a failed first deployment leaves no service behind.
		engineError(&resp.Diagnostics, "create", err)
		return
	}
	addWarnings(&resp.Diagnostics, res)
	r.fillAfterApply(&plan, cfg, res, actionCreate)
	fps := map[string]string{res.Current.Name: fingerprint(cfg.TaskDefinition, cfg.Service)}
	saveFingerprints(ctx, resp.Private.SetKey, fps, res, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// fillAfterApply sets the computed values that only apply knows. action is what apply did, for
// a plan that could not say; the planned phases come from the engine when the plan could not
// compute them (the count auto scaling chose is read at apply).
func (r *phasedDeploymentResource) fillAfterApply(m *phasedDeploymentModel, cfg deploy.Config, res *deploy.Result, action string) {
	m.ID = types.StringValue(defaultDeploymentID(cfg.Cluster, cfg.Name))
	m.DeploymentID = types.StringValue(cfg.DeploymentID)
	setResult(m, res)
	if m.PlannedAction.IsUnknown() {
		m.PlannedAction = types.StringValue(action)
	}
	if m.PlannedPhases.IsUnknown() {
		m.PlannedPhases = phasesList(res.Phases)
	}
}

// Read refreshes the recorded services (SPEC §2.7): one DescribeServices call.
func (r *phasedDeploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state phasedDeploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	st := engineState(ctx, &state, &resp.Diagnostics)
	live, err := r.engine().Read(ctx, clusterName(state.Cluster.ValueString()), st)
	if err != nil {
		addError(&resp.Diagnostics, "Unable to Read ECS Services",
			fmt.Sprintf("Reading the production service of %s failed.", state.ID.ValueString()), err)
		return
	}
	if live.Current == nil {
		// NO-OP otherwise: removing the resource makes the next plan create it again.
		resp.Diagnostics.AddWarning("Production Service Not Found",
			fmt.Sprintf("The production service %s of %s is missing or not ACTIVE, so the resource was removed from state. The next apply deploys it again.",
				st.Current.Name, state.ID.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	// Drift: the task definition the production service runs, and (without auto scaling, when
	// the count is configured) its desired count.
	if !sameTaskDefinition(state.TaskDefinition.ValueString(), live.Current.TaskDefinition) {
		state.TaskDefinition = types.StringValue(deploy.FamilyRevision(live.Current.TaskDefinition))
	}
	if !state.DesiredCount.IsNull() && state.AutoScaling.IsNull() && int64(live.Current.DesiredCount) != state.DesiredCount.ValueInt64() {
		state.DesiredCount = types.Int64Value(int64(live.Current.DesiredCount))
	}
	// current and previous record the task definitions their services run now: apply reports
	// the live ones, so a plan built from stale ones would not match what apply produces.
	st.Current.TaskDefinition = live.Current.TaskDefinition
	state.Current = refObject(st.Current)
	if st.Previous != nil && live.Previous != nil {
		st.Previous.TaskDefinition = live.Previous.TaskDefinition
		state.Previous = refObject(st.Previous)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// sameTaskDefinition compares a configured task definition with the ARN a service runs:
// as family:revision, or as family alone when the configuration names only the family.
func sameTaskDefinition(configured, live string) bool {
	c, l := deploy.FamilyRevision(configured), deploy.FamilyRevision(live)
	if !strings.Contains(c, ":") {
		return c == deploy.Family(l)
	}
	return c == l
}

// Update performs what ModifyPlan planned: a deployment, a post-production rollback, a scale,
// an auto scaling update, or nothing but state.
func (r *phasedDeploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(d...)
	cfg := engineConfig(ctx, &plan, &resp.Diagnostics)
	st := engineState(ctx, &state, &resp.Diagnostics)
	fps := fingerprints(ctx, req.Private.GetKey, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	eng := r.engine()

	var res *deploy.Result
	var err error
	action := plan.PlannedAction.ValueString()
	switch action {
	case actionDeploy:
		res, err = eng.Deploy(ctx, cfg, st)
		if err == nil {
			fps[res.Current.Name] = fingerprint(cfg.TaskDefinition, cfg.Service)
		}
	case actionRollback:
		target := st
		if st.Previous != nil {
			prev := rollbackTarget(cfg, *st.Previous)
			target.Previous = &prev
		}
		res, err = eng.RollBackToPrevious(ctx, cfg, target)
		if errors.Is(err, deploy.ErrPreviousGone) {
			resp.Diagnostics.AddWarning("Previous Service Gone",
				fmt.Sprintf("The previous service %s was deleted since the plan, so a new revision is deployed instead of a rollback.", st.Previous.Name))
			res, err = eng.Deploy(ctx, cfg, st)
			if err == nil {
				fps[res.Current.Name] = fingerprint(cfg.TaskDefinition, cfg.Service)
			}
		}
	case actionScale:
		res, err = eng.Scale(ctx, cfg, st, int(plan.DesiredCount.ValueInt64()))
		if err == nil && !plan.AutoScaling.Equal(state.AutoScaling) {
			res, err = eng.UpdateAutoScaling(ctx, cfg, res.State)
		}
	case actionUpdateInPlace:
		res, err = eng.UpdateAutoScaling(ctx, cfg, st)
	default:
		res = &deploy.Result{State: st}
	}
	if err != nil {
		engineError(&resp.Diagnostics, "update", err)
		if res != nil && res.Rollout != nil {
			// A rolled-back update: the prior state stays, with the raised highest revision and
			// the rollout's record, so the next plan offers the same deployment again.
			state.HighestRevision = types.Int64Value(int64(res.HighestRevision))
			state.LastRollout = rolloutObject(res.Rollout)
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		}
		return
	}
	addWarnings(&resp.Diagnostics, res)
	r.fillAfterApply(&plan, cfg, res, action)
	saveFingerprints(ctx, resp.Private.SetKey, fps, res, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete removes every owned service.
func (r *phasedDeploymentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state phasedDeploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(d...)
	cfg := engineConfig(ctx, &state, &resp.Diagnostics)
	st := engineState(ctx, &state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.engine().Delete(ctx, cfg, st); err != nil {
		addError(&resp.Diagnostics, "Unable to Delete Phased Deployment",
			fmt.Sprintf("Deleting the services of %s failed. Services already deleted stay deleted; applying the destroy again continues.", state.ID.ValueString()), err)
	}
}

// ConfigValidators are the rules that span attributes.
func (r *phasedDeploymentResource) ConfigValidators(_ context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{lastPhaseValidator{}}
}

// lastPhaseValidator rejects phases whose last one does not reach the desired count, when the
// count is known.
type lastPhaseValidator struct{}

func (lastPhaseValidator) Description(_ context.Context) string {
	return "the last phase must reach desired_count"
}

func (v lastPhaseValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (lastPhaseValidator) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var desired types.Int64
	var phaseList types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("desired_count"), &desired)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("phase"), &phaseList)...)
	if resp.Diagnostics.HasError() || desired.IsNull() || desired.IsUnknown() || phaseList.IsUnknown() {
		return
	}
	for _, el := range phaseList.Elements() {
		if !isFullyKnown(el) {
			return
		}
	}
	ps := phases(ctx, phaseList, &resp.Diagnostics)
	for _, p := range ps {
		if p.Percent == 0 && p.Count == 0 {
			return // exactly-one-of is reported by the phase's own validator
		}
	}
	_, _, err := deploy.PlanPhases(int(desired.ValueInt64()), 0, ps)
	var le *deploy.LastPhaseError
	if errors.As(err, &le) {
		addLastPhaseError(&resp.Diagnostics, le)
	}
}

func isFullyKnown(v attr.Value) bool {
	if v.IsUnknown() {
		return false
	}
	if o, ok := v.(types.Object); ok {
		for _, a := range o.Attributes() {
			if a.IsUnknown() {
				return false
			}
		}
	}
	return true
}

// addWarnings turns engine warnings (ignored phases, failed pruning) into diagnostics.
func addWarnings(diags *diag.Diagnostics, res *deploy.Result) {
	for _, w := range res.Warnings {
		diags.AddWarning("Phased Deployment Warning", w)
	}
}

// engineError is the one place that turns engine errors into diagnostics a person can act on.
func engineError(diags *diag.Diagnostics, op string, err error) {
	var re *deploy.RolloutError
	var ie *deploy.InputError
	switch {
	case errors.As(err, &re) && re.RolledBack:
		diags.AddError("Deployment rolled back", re.Error())
	case errors.As(err, &re) && re.Created:
		diags.AddError("Deployment Failed", re.Error())
	case errors.As(err, &re):
		diags.AddError("Deployment Failed and Rollback Incomplete", re.Error())
	case errors.As(err, &ie) && ie.Field != "":
		diags.AddAttributeError(path.Root(ie.Field), "Invalid "+titleField(ie.Field), ie.Error()+". Nothing was changed.")
	default:
		addError(diags, "Unable to "+strings.ToUpper(op[:1])+op[1:]+" Phased Deployment",
			"The ECS or Application Auto Scaling API failed. Nothing beyond what the error names was changed; applying again resumes from the recorded production service.", err)
	}
}

func titleField(f string) string {
	words := strings.Split(f, "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
