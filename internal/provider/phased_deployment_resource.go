package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
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
	return &deploy.Engine{
		ECS: r.clients.ECS, AutoScaling: r.clients.AutoScaling, ELB: r.clients.ELB, CloudWatch: r.clients.CloudWatch,
		Log: tflogLogger{}, Poll: r.poll,
	}
}

// tflogLogger sends the engine's progress to tflog: TF_LOG_PROVIDER=INFO shows each step of a
// rollout as it happens, with structured fields (cluster, service, phase, counts).
type tflogLogger struct{}

func (tflogLogger) Info(ctx context.Context, msg string, f map[string]any)  { tflog.Info(ctx, msg, f) }
func (tflogLogger) Debug(ctx context.Context, msg string, f map[string]any) { tflog.Debug(ctx, msg, f) }
func (tflogLogger) Warn(ctx context.Context, msg string, f map[string]any)  { tflog.Warn(ctx, msg, f) }

// Create deploys the first revision.
func (r *phasedDeploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(d...)
	in := previewInput(ctx, &plan, nil, &resp.Diagnostics)
	planned := plannedPreview(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res, err := r.engine().Apply(ctx, in, planned)
	if err != nil {
		// Nothing is saved: a failed first deployment leaves no service behind.
		engineError(&resp.Diagnostics, "create", err)
		return
	}
	saveResult(ctx, &plan, in, res, map[string]string{}, resp.Private.SetKey, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// saveResult fills the computed values from what the engine did, and records in private state
// what each service was deployed with and what is live now. Values the plan made known are
// what the engine produced: it carried out the preview the plan showed.
func saveResult(ctx context.Context, m *phasedDeploymentModel, in deploy.PreviewInput, res *deploy.Result, fps map[string]string, set privateSetter, diags *diag.Diagnostics) {
	addWarnings(diags, res)
	m.ID = types.StringValue(defaultDeploymentID(in.Config.Cluster, in.Config.Name))
	m.DeploymentID = types.StringValue(in.Config.DeploymentID)
	setResult(m, res)
	m.PlannedGates = plannedGates(ctx, m.Analysis)
	if m.PlannedAction.IsUnknown() {
		m.PlannedAction = types.StringValue(string(res.Action))
	}
	if !fullyKnownList(m.PlannedPhases) {
		m.PlannedPhases = phasesList(res.Phases)
	}
	if res.Action == deploy.ActionCreate || res.Action == deploy.ActionDeploy || res.Action == deploy.ActionAdopt {
		recordFingerprint(fps, res.Current.Name, in.Config.TaskDefinition, in.Config.Service, diags)
	}
	if res.Action == deploy.ActionAdopt && res.Previous != nil {
		// The adopted service is revision 0, recorded as deployed with the task definition it
		// runs and this configuration's service block, so that re-applying that task definition
		// is a post-production rollback to it.
		recordFingerprint(fps, res.Previous.Name, deploy.FamilyRevision(res.Previous.TaskDefinition), in.Config.Service, diags)
	}
	saveFingerprints(ctx, set, fps, res, diags)
	saveAdoption(ctx, set, res.Adopted, diags)
	if res.View != nil { // nil: the operation touched nothing live, and the last view stands
		saveView(ctx, set, res.View, diags)
	}
}

// recordFingerprint records in fps what the named service was deployed with.
func recordFingerprint(fps map[string]string, name, taskDefinition string, t deploy.ServiceTemplate, diags *diag.Diagnostics) {
	fp, err := deploy.Fingerprint(taskDefinition, t)
	if err != nil {
		addError(diags, "Unable to Record the Deployment", "The provider could not record what the service "+name+" was deployed with, so re-applying its configuration later is not recognized as a rollback.", err)
		return
	}
	fps[name] = fp
}

// Read refreshes the recorded services (DESIGN.md §10), usually with one DescribeServices call,
// and records what it saw for the next plan to preview from.
func (r *phasedDeploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state phasedDeploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := engineConfig(ctx, &state, &resp.Diagnostics)
	st := engineState(ctx, &state, &resp.Diagnostics)
	st.Adopted = readAdoption(ctx, req.Private.GetKey, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	live, err := r.engine().Read(ctx, cfg, st)
	if err != nil {
		addError(&resp.Diagnostics, "Unable to Read ECS Services",
			fmt.Sprintf("Reading the production service of %s failed.", state.ID.ValueString()), err)
		return
	}
	if live.Current == nil {
		// NO-OP otherwise: removing the resource makes the next plan create it again.
		resp.Diagnostics.AddWarning("Production Service Not Found",
			fmt.Sprintf("The production service %s of %s is missing, not ACTIVE or no longer tagged as this deployment's, so the resource was removed from state. The next apply deploys it again.",
				st.Current.Name, state.ID.ValueString()))
		resp.State.RemoveResource(ctx)
		return
	}
	// Drift: the task definition the production service runs, and (without auto scaling, when
	// the count is configured) its desired count.
	if !deploy.SameTaskDefinition(state.TaskDefinition.ValueString(), live.Current.TaskDefinition) {
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
	// planned_gates follows the configuration in state; after an import, which leaves analysis
	// null, it is the empty list.
	state.PlannedGates = plannedGates(ctx, state.Analysis)
	saveView(ctx, resp.Private.SetKey, live.View, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update carries out what ModifyPlan planned: the engine decides the operation again on what is
// live and refuses, before any write, when the plan no longer holds.
func (r *phasedDeploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(d...)
	in := previewInput(ctx, &plan, &state, &resp.Diagnostics)
	in.Fingerprints = readFingerprints(ctx, req.Private.GetKey, &resp.Diagnostics)
	in.State.Adopted = readAdoption(ctx, req.Private.GetKey, &resp.Diagnostics)
	// The view the plan decided from: the action is decided again from it, as the plan was
	// (a suspension left on production makes an otherwise empty change an update in place).
	in.View = readView(ctx, req.Private.GetKey, &resp.Diagnostics)
	planned := plannedPreview(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res, err := r.engine().Apply(ctx, in, planned)
	if err != nil {
		engineError(&resp.Diagnostics, "update", err)
		if res != nil && res.Rollout != nil {
			// A rolled-back update: the prior state stays, with the raised highest revision and
			// the rollout's record, so the next plan offers the same deployment again; what is
			// live now, for that plan, has the failed revision holding its name.
			state.HighestRevision = types.Int64Value(int64(res.HighestRevision))
			state.LastRollout = rolloutObject(res.Rollout)
			saveView(ctx, resp.Private.SetKey, res.View, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		}
		return
	}
	saveResult(ctx, &plan, in, res, in.Fingerprints, resp.Private.SetKey, &resp.Diagnostics)
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
	st.Adopted = readAdoption(ctx, req.Private.GetKey, &resp.Diagnostics)
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
	return []resource.ConfigValidator{lastPhaseValidator{}, bakeTimeValidator{}}
}

// bakeTimeValidator rejects phases whose bake times alone, with the analysis block's final
// window, do not fit in the create or update timeout: such a rollout could only end in a timeout
// and a rollback.
type bakeTimeValidator struct{}

func (bakeTimeValidator) Description(_ context.Context) string {
	return "the phases' bake times and analysis.final_window together must fit in the create and update timeouts"
}

func (v bakeTimeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (bakeTimeValidator) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var phaseList types.List
	var finalWindow types.String
	var to timeouts.Value
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("phase"), &phaseList)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("analysis").AtName("final_window"), &finalWindow)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("timeouts"), &to)...)
	if resp.Diagnostics.HasError() || !fullyKnownList(phaseList) || finalWindow.IsUnknown() || to.IsUnknown() {
		return
	}
	var diags diag.Diagnostics // a bad duration is reported by its own validator
	var bakes time.Duration
	for _, p := range phases(ctx, phaseList, &diags) {
		bakes += p.BakeTime
	}
	window := parseDuration(path.Root("analysis").AtName("final_window"), finalWindow, 0, &diags)
	total := bakes + window
	if diags.HasError() || total == 0 {
		return
	}
	what := fmt.Sprintf("The phases' bake_time values add up to %s", bakes)
	switch {
	case bakes == 0:
		what = fmt.Sprintf("analysis.final_window is %s", window)
	case window > 0:
		what = fmt.Sprintf("The phases' bake_time values (%s) and analysis.final_window (%s) add up to %s", bakes, window, total)
	}
	for _, op := range []struct {
		name string
		get  func(context.Context, time.Duration) (time.Duration, diag.Diagnostics)
		def  time.Duration
	}{{"create", to.Create, defaultCreateTimeout}, {"update", to.Update, defaultUpdateTimeout}} {
		limit, d := op.get(ctx, op.def)
		if d.HasError() || total <= limit {
			continue
		}
		resp.Diagnostics.AddAttributeError(path.Root("timeouts"), "Bake Times Exceed the Timeout",
			fmt.Sprintf("%s, more than the %s timeout of %s, so every rollout would time out and roll back. Raise timeouts.%s above %s plus the time the phases take to start and stop tasks, or shorten the bake times or the final window.",
				what, op.name, limit, op.name, total))
		return
	}
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

// addLastPhaseError reports, on the last phase's path, that it does not reach the desired count.
func addLastPhaseError(diags *diag.Diagnostics, le *deploy.LastPhaseError) {
	p := path.Root("phase").AtListIndex(le.Phase - 1)
	diags.AddAttributeError(p, "Last Phase Falls Short", fmt.Sprintf("%s: %s.", p, le.Error()))
}

// isFullyKnown reports whether a value, and every value nested in it, is known.
func isFullyKnown(v attr.Value) bool {
	if v.IsUnknown() {
		return false
	}
	var nested []attr.Value
	switch t := v.(type) {
	case types.Object:
		for _, a := range t.Attributes() {
			nested = append(nested, a)
		}
	case types.List:
		nested = t.Elements()
	case types.Set:
		nested = t.Elements()
	case types.Map:
		for _, e := range t.Elements() {
			nested = append(nested, e)
		}
	}
	for _, n := range nested {
		if !isFullyKnown(n) {
			return false
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
	var le *deploy.LastPhaseError
	var se *deploy.StalePlanError
	switch {
	case errors.As(err, &re) && re.RolledBack:
		diags.AddError("Deployment Rolled Back", re.Error())
	case errors.As(err, &re) && re.Created:
		diags.AddError("Deployment Failed", re.Error())
	case errors.As(err, &re):
		diags.AddError("Deployment Failed and Rollback Incomplete", re.Error())
	case errors.As(err, &le):
		addLastPhaseError(diags, le)
	case errors.As(err, &ie) && ie.Field != "":
		diags.AddAttributeError(fieldPath(ie.Field), "Invalid "+titleField(ie.Field), ie.Error()+". Nothing was changed.")
	case errors.As(err, &se):
		diags.AddError("Plan Out of Date", "What is live changed after the plan was made, so applying it would not do what it showed. "+strings.ToUpper(se.Error()[:1])+se.Error()[1:])
	default:
		addError(diags, "Unable to "+strings.ToUpper(op[:1])+op[1:]+" Phased Deployment",
			"The ECS or Application Auto Scaling API failed. Nothing beyond what the error names was changed; applying again resumes from the recorded production service.", err)
	}
}

// fieldPath turns an engine field such as "service.load_balancer[1].target_group_arn" into the
// attribute's path.
func fieldPath(f string) path.Path {
	var p path.Path
	for i, part := range strings.Split(f, ".") {
		name, index, indexed := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		if i == 0 {
			p = path.Root(name)
		} else {
			p = p.AtName(name)
		}
		if n, err := strconv.Atoi(index); indexed && err == nil {
			p = p.AtListIndex(n)
		}
	}
	return p
}

// titleField is the last name of a field in title case: "Target Group Arn".
func titleField(f string) string {
	f = f[strings.LastIndex(f, ".")+1:]
	f, _, _ = strings.Cut(f, "[")
	words := strings.Split(f, "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
