package provider

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// ModifyPlan shows in the plan what apply will do (DESIGN.md §11). The engine's preview decides
// it from the configuration, state and what the last refresh saw (kept in private state), and
// makes no call of its own: Terraform plans again at apply time and rejects a plan that differs,
// and an invalid configuration must not reach AWS. The one exception is an adopting create,
// which has no refresh before it and reads the service it takes over (adoptionView). A create's plan therefore cannot know whether
// an interrupted earlier apply left services of this deployment holding tasks, and shows the old
// service's counts as known after apply. Certain values are known in the plan; uncertain ones are unknown, with a warning
// that says what they are now. Apply decides again on what is live and refuses, before any
// write, when a known value no longer holds.
func (r *phasedDeploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw) {
		// Nothing changes: planned_action and planned_phases keep the last apply's values;
		// unless the refresh found production's auto scaling left suspended by an interrupted
		// apply, which this one lifts (DESIGN.md §5.6.1).
		if v := readView(ctx, req.Private.GetKey, &resp.Diagnostics); v == nil || v.LeftSuspended == "" {
			return
		}
	}
	var plan phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The gates depend on the configuration alone, so the plan shows them even when the
	// rollout itself is known only at apply.
	plan.PlannedGates = plannedGates(ctx, plan.Analysis)
	if plan.Cluster.IsUnknown() || plan.Name.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if plan.DeploymentID.IsUnknown() {
		plan.DeploymentID = types.StringValue(defaultDeploymentID(plan.Cluster.ValueString(), plan.Name.ValueString()))
	}
	plan.ID = types.StringValue(defaultDeploymentID(plan.Cluster.ValueString(), plan.Name.ValueString()))
	create := req.State.Raw.IsNull()
	if configUnknown(&plan) || (create && !isFullyKnown(plan.Adopt)) {
		unknownRollout(&plan)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state *phasedDeploymentModel
	if !create {
		state = &phasedDeploymentModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	in := previewInput(ctx, &plan, state, &resp.Diagnostics)
	if state != nil {
		in.Fingerprints = readFingerprints(ctx, req.Private.GetKey, &resp.Diagnostics)
		in.State.Adopted = readAdoption(ctx, req.Private.GetKey, &resp.Diagnostics)
		in.View = readView(ctx, req.Private.GetKey, &resp.Diagnostics)
		warnAdoptChanged(&resp.Diagnostics, plan.Adopt, state.Adopt)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if create && in.Config.Adopt != "" {
		in.View = r.adoptionView(ctx, in.Config, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	pv, err := deploy.PreviewOperation(in)
	if err != nil {
		engineError(&resp.Diagnostics, "plan", err)
		return
	}
	for _, n := range pv.Notes {
		addNote(&resp.Diagnostics, n)
	}
	setPreview(&plan, state, pv)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// adoptionView reads, for the plan of an adopting create, what apply will find of the service it
// takes over (DESIGN.md §16.3), so that the plan shows the rollout exactly: the only plan that
// reads AWS, since a create has no refresh before it. A service that cannot be adopted is an
// error on adopt.service_name. A cluster that does not exist yet (created in the same apply)
// leaves the plan without a view: the rollout's values are known after apply, which checks the
// service before any write.
func (r *phasedDeploymentResource) adoptionView(ctx context.Context, cfg deploy.Config, diags *diag.Diagnostics) *deploy.View {
	if r.clients == nil {
		diags.AddAttributeWarning(path.Root("adopt"), "Adopted Service Not Read",
			"The provider is not configured yet, so the plan could not read the service to adopt; the rollout's values are known after apply.")
		return nil
	}
	v, err := r.engine().PreviewAdoption(ctx, cfg)
	var ie *deploy.InputError
	switch {
	case err == nil:
		return v
	case deploy.IsNotFound(err):
		diags.AddAttributeWarning(path.Root("adopt"), "Adopted Service Not Read",
			"The plan could not read the service to adopt, so the rollout's values are known after apply, which checks the service before any write: "+err.Error()+".")
	case errors.As(err, &ie):
		engineError(diags, "plan", err)
	default:
		addError(diags, "Unable to Read the Service to Adopt",
			"The plan of an adopting create reads the service it takes over, and that read failed. Nothing was changed.", err)
	}
	return nil
}

// warnAdoptChanged warns that a change of the adopt block after create does nothing: the
// service was adopted (or not) when the resource was created.
func warnAdoptChanged(diags *diag.Diagnostics, planned, prior types.Object) {
	if planned.Equal(prior) {
		return
	}
	diags.AddAttributeWarning(path.Root("adopt"), "Adopt Is Used Only on Create",
		"The adopt block takes over a running service when the resource is created. This resource exists already, so a change of the block only changes state: nothing is adopted, and a service adopted earlier stays this deployment's.")
}

// previewInput is what the engine previews from: the planned configuration, and on update the
// configuration and services that state holds.
func previewInput(ctx context.Context, plan, state *phasedDeploymentModel, diags *diag.Diagnostics) deploy.PreviewInput {
	in := deploy.PreviewInput{Config: engineConfig(ctx, plan, diags)}
	if state != nil {
		prior := engineConfig(ctx, state, diags)
		in.Prior = &prior
		in.State = engineState(ctx, state, diags)
	}
	return in
}

// configUnknown reports whether something the preview depends on is known only at apply.
func configUnknown(plan *phasedDeploymentModel) bool {
	// Values inside the blocks count too: a target group ARN or a schedule that another
	// resource creates in the same apply is unknown while its block is known.
	return plan.TaskDefinition.IsUnknown() || !isFullyKnown(plan.Service) || plan.DesiredCount.IsUnknown() ||
		!isFullyKnown(plan.AutoScaling) || !fullyKnownList(plan.Phases)
}

func fullyKnownList(l types.List) bool {
	if l.IsUnknown() {
		return false
	}
	for _, el := range l.Elements() {
		if !isFullyKnown(el) {
			return false
		}
	}
	return true
}

// addNote turns a preview's note into a plan warning on its attribute.
func addNote(diags *diag.Diagnostics, n deploy.Note) {
	switch n.Field {
	case "":
		diags.AddWarning(n.Summary, n.Detail)
	case "phase":
		diags.AddAttributeWarning(path.Root("phase").AtListIndex(n.Index), n.Summary, n.Detail)
	default:
		diags.AddAttributeWarning(path.Root(n.Field), n.Summary, n.Detail)
	}
}

// setPreview writes a preview into the plan's computed attributes: certain values known,
// uncertain ones unknown. What the operation leaves alone keeps its state value.
func setPreview(plan, state *phasedDeploymentModel, pv *deploy.Preview) {
	plan.PlannedAction = types.StringValue(string(pv.Action))
	plan.Current = serviceObject(pv.Current)
	plan.Revision = promisedInt(pv.Current.Revision)
	plan.ServiceName = promisedString(pv.Current.Name)
	plan.ServiceARN = promisedString(pv.Current.ARN)
	switch {
	case !pv.Previous.Certain:
		plan.Previous = types.ObjectUnknown(serviceRefAttrTypes)
	default:
		plan.Previous = serviceObject(pv.Previous.Value)
	}
	plan.HighestRevision = promisedInt(pv.HighestRevision)
	switch {
	case pv.Phases != nil:
		plan.PlannedPhases = plannedPhasesList(pv.Phases)
	case state != nil:
		plan.PlannedPhases = state.PlannedPhases
	default:
		plan.PlannedPhases = types.ListUnknown(types.ObjectType{AttrTypes: phaseCountsAttrTypes})
	}
	switch {
	case pv.RollsOut:
		plan.LastRollout = types.ObjectUnknown(lastRolloutAttrTypes)
	case state != nil:
		plan.LastRollout = state.LastRollout
	default:
		plan.LastRollout = types.ObjectNull(lastRolloutAttrTypes)
	}
}

func promisedInt(k deploy.Known[int]) types.Int64 {
	if !k.Certain {
		return types.Int64Unknown()
	}
	return types.Int64Value(int64(k.Value))
}

func promisedString(k deploy.Known[string]) types.String {
	if !k.Certain {
		return types.StringUnknown()
	}
	return types.StringValue(k.Value)
}

// serviceObject is current or previous as the plan shows it; null for no service.
func serviceObject(s *deploy.PlannedService) types.Object {
	if s == nil {
		return types.ObjectNull(serviceRefAttrTypes)
	}
	return types.ObjectValueMust(serviceRefAttrTypes, map[string]attr.Value{
		"service_name": promisedString(s.Name), "service_arn": promisedString(s.ARN), "revision": promisedInt(s.Revision),
		"task_definition": promisedString(s.TaskDefinition), "desired_count": promisedInt(s.DesiredCount),
	})
}

func plannedPhasesList(phases []deploy.PlannedPhase) types.List {
	vals := make([]attr.Value, 0, len(phases))
	for _, p := range phases {
		vals = append(vals, types.ObjectValueMust(phaseCountsAttrTypes, map[string]attr.Value{
			"new_count": promisedInt(p.New), "old_count": promisedInt(p.Old),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: phaseCountsAttrTypes}, vals)
}

// plannedPreview reads back from a plan what it promised: every known value is certain. Apply
// hands it to the engine, which refuses when a promise no longer holds.
func plannedPreview(ctx context.Context, plan *phasedDeploymentModel, diags *diag.Diagnostics) *deploy.Preview {
	if plan.PlannedAction.IsUnknown() {
		return nil // the plan promised nothing
	}
	pv := &deploy.Preview{
		Action:          deploy.Action(plan.PlannedAction.ValueString()),
		Current:         plannedService(ctx, plan.Current, diags),
		HighestRevision: intFrom(plan.HighestRevision),
	}
	if !plan.Previous.IsUnknown() {
		pv.Previous = deploy.Known[*deploy.PlannedService]{Value: plannedService(ctx, plan.Previous, diags), Certain: true}
	}
	if !plan.PlannedPhases.IsUnknown() && !plan.PlannedPhases.IsNull() {
		pv.Phases = []deploy.PlannedPhase{}
		for _, p := range listOf[phaseCountsModel](ctx, plan.PlannedPhases, diags) {
			pv.Phases = append(pv.Phases, deploy.PlannedPhase{New: intFrom(p.NewCount), Old: intFrom(p.OldCount)})
		}
	}
	return pv
}

func plannedService(ctx context.Context, o types.Object, diags *diag.Diagnostics) *deploy.PlannedService {
	if o.IsNull() {
		return nil
	}
	if o.IsUnknown() {
		return &deploy.PlannedService{}
	}
	m := objectOf[serviceRefModel](ctx, o, diags)
	if m == nil {
		return nil
	}
	return &deploy.PlannedService{
		Name: stringFrom(m.ServiceName), ARN: stringFrom(m.ServiceARN), TaskDefinition: stringFrom(m.TaskDefinition),
		Revision: intFrom(m.Revision), DesiredCount: intFrom(m.DesiredCount),
	}
}

func intFrom(v types.Int64) deploy.Known[int] {
	return deploy.Known[int]{Value: int(v.ValueInt64()), Certain: !v.IsUnknown() && !v.IsNull()}
}

func stringFrom(v types.String) deploy.Known[string] {
	return deploy.Known[string]{Value: v.ValueString(), Certain: !v.IsUnknown() && !v.IsNull()}
}

// unknownRollout marks everything an apply may change as known only after apply.
func unknownRollout(plan *phasedDeploymentModel) {
	plan.PlannedAction = types.StringUnknown()
	plan.Revision, plan.ServiceName, plan.ServiceARN = types.Int64Unknown(), types.StringUnknown(), types.StringUnknown()
	plan.Current, plan.Previous = types.ObjectUnknown(serviceRefAttrTypes), types.ObjectUnknown(serviceRefAttrTypes)
	plan.HighestRevision = types.Int64Unknown()
	plan.LastRollout = types.ObjectUnknown(lastRolloutAttrTypes)
	plan.PlannedPhases = types.ListUnknown(types.ObjectType{AttrTypes: phaseCountsAttrTypes})
}
