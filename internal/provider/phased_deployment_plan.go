package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

// The values of planned_action.
const (
	actionCreate        = "create"
	actionDeploy        = "deploy"
	actionRollback      = "rollback"
	actionScale         = "scale"
	actionUpdateInPlace = "update-in-place"
	actionNone          = "none"
)

// ModifyPlan previews the rollout in the plan (SPEC §2, plan-time rules): planned_action,
// planned_phases, revision, service_name, current and previous are known whenever they can be
// made exact, with at most one DescribeServices call.
func (r *phasedDeploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if !req.State.Raw.IsNull() && req.Plan.Raw.Equal(req.State.Raw) {
		return // nothing changes: planned_action and planned_phases keep the last apply's values
	}
	var plan phasedDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Cluster.IsUnknown() || plan.Name.IsUnknown() {
		return
	}
	if plan.DeploymentID.IsUnknown() {
		plan.DeploymentID = types.StringValue(defaultDeploymentID(plan.Cluster.ValueString(), plan.Name.ValueString()))
	}
	plan.ID = types.StringValue(defaultDeploymentID(plan.Cluster.ValueString(), plan.Name.ValueString()))
	cfg := engineConfig(ctx, &plan, &resp.Diagnostics)
	if plan.DesiredCount.IsNull() && cfg.AutoScaling != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("desired_count"), "Auto Scaling Decides the Count",
			"desired_count is not set, so each new revision starts with the production service's live desired count, which ECS Service Auto Scaling may change at any time. The phase counts are therefore known only at apply.")
	}

	if req.State.Raw.IsNull() {
		r.previewCreate(&plan, cfg, &resp.Diagnostics)
	} else {
		var state phasedDeploymentModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		fps := fingerprints(ctx, req.Private.GetKey, &resp.Diagnostics)
		r.previewUpdate(ctx, &plan, &state, cfg, fps, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *phasedDeploymentResource) previewCreate(plan *phasedDeploymentModel, cfg deploy.Config, diags *diag.Diagnostics) {
	plan.PlannedAction = types.StringValue(actionCreate)
	if plan.DesiredCount.IsUnknown() || !phasesKnown(plan.Phases) {
		return
	}
	if cfg.DesiredCount == nil {
		diags.AddAttributeError(path.Root("desired_count"), "Missing Desired Count",
			"desired_count is required on the first deployment: there is no production service yet whose count could be kept.")
		return
	}
	previewPhases(plan, cfg, clampedDesired(cfg, *cfg.DesiredCount), 0, diags)
}

// previewPhases sets planned_phases from the arithmetic and reports ignored phases.
func previewPhases(plan *phasedDeploymentModel, cfg deploy.Config, desired, prev int, diags *diag.Diagnostics) {
	pcs, warnings, err := deploy.PlanPhases(desired, prev, cfg.Phases)
	for _, w := range warnings {
		diags.AddAttributeWarning(path.Root("phase").AtListIndex(w.Phase-1), "Phase Ignored", w.String()+".")
	}
	if err != nil {
		if le, ok := err.(*deploy.LastPhaseError); ok {
			addLastPhaseError(diags, le)
		} else {
			diags.AddError("Invalid Phases", err.Error())
		}
		return
	}
	plan.PlannedPhases = phasesList(pcs)
}

// addLastPhaseError reports, on the last phase's path, that it does not reach the desired count.
func addLastPhaseError(diags *diag.Diagnostics, le *deploy.LastPhaseError) {
	p := path.Root("phase").AtListIndex(le.Phase - 1)
	diags.AddAttributeError(p, "Last Phase Falls Short", fmt.Sprintf("%s: %s.", p, le.Error()))
}

// rollbackTarget is the previous service as a post-production rollback brings it back: at its
// recorded count, or at the configured desired_count when one is set, so that the configuration
// and the rolled-back service agree and the next plan is empty.
func rollbackTarget(cfg deploy.Config, prev deploy.ServiceRef) deploy.ServiceRef {
	if cfg.DesiredCount != nil {
		prev.DesiredCount = clampedDesired(cfg, *cfg.DesiredCount)
	}
	return prev
}

func clampedDesired(cfg deploy.Config, n int) int {
	if a := cfg.AutoScaling; a != nil {
		n = min(max(n, a.Min), a.Max)
	}
	return n
}

func phasesKnown(l types.List) bool {
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

// decideAction compares the plan with state (SPEC §2.2, §2.3, §2.6).
func decideAction(ctx context.Context, plan, state *phasedDeploymentModel, cfg deploy.Config, st deploy.State, fps map[string]string, diags *diag.Diagnostics) string {
	tmplOld := template(ctx, state.Service, diags)
	newFP := fingerprint(cfg.TaskDefinition, cfg.Service)
	changed := !sameTaskDefinition(plan.TaskDefinition.ValueString(), state.TaskDefinition.ValueString()) ||
		fingerprint("", cfg.Service) != fingerprint("", tmplOld)
	switch {
	case changed:
		if st.Previous != nil && fps[st.Previous.Name] == newFP {
			return actionRollback
		}
		return actionDeploy
	case !plan.DesiredCount.IsNull() && !plan.DesiredCount.Equal(state.DesiredCount):
		return actionScale
	case !plan.AutoScaling.Equal(state.AutoScaling):
		return actionUpdateInPlace
	}
	return actionNone
}

func (r *phasedDeploymentResource) previewUpdate(ctx context.Context, plan, state *phasedDeploymentModel, cfg deploy.Config, fps map[string]string, diags *diag.Diagnostics) {
	if plan.TaskDefinition.IsUnknown() || plan.Service.IsUnknown() || plan.DesiredCount.IsUnknown() || plan.AutoScaling.IsUnknown() || !phasesKnown(plan.Phases) {
		return // known after apply
	}
	st := engineState(ctx, state, diags)
	// Everything that no action changes keeps its state value.
	plan.Revision, plan.ServiceName, plan.ServiceARN = state.Revision, state.ServiceName, state.ServiceARN
	plan.Current, plan.Previous, plan.HighestRevision = state.Current, state.Previous, state.HighestRevision
	plan.LastRollout, plan.PlannedPhases = state.LastRollout, state.PlannedPhases
	if st.Current == nil {
		return
	}
	action := decideAction(ctx, plan, state, cfg, st, fps, diags)
	plan.PlannedAction = types.StringValue(action)
	switch action {
	case actionDeploy, actionRollback:
		r.previewRollout(ctx, plan, cfg, st, action, diags)
	case actionScale:
		cur := *st.Current
		cur.DesiredCount = clampedDesired(cfg, int(plan.DesiredCount.ValueInt64()))
		plan.Current = refObject(&cur)
		plan.PlannedPhases = phasesList(nil)
	case actionUpdateInPlace:
		plan.PlannedPhases = phasesList(nil)
		// Registering the new range moves the count into it.
		if cfg.AutoScaling != nil {
			cur := *st.Current
			cur.DesiredCount = clampedDesired(cfg, cur.DesiredCount)
			plan.Current = refObject(&cur)
		}
	}
}

// previewRollout fills the plan of a deployment or a post-production rollback. One
// DescribeServices call reads the production service's live count, whether the previous
// service still exists, and which of the next revision names are free.
func (r *phasedDeploymentResource) previewRollout(ctx context.Context, plan *phasedDeploymentModel, cfg deploy.Config, st deploy.State, action string, diags *diag.Diagnostics) {
	unknownRollout(plan)
	if r.clients == nil {
		return
	}
	cur := st.Current
	names := []string{cur.Name}
	if st.Previous != nil {
		names = append(names, st.Previous.Name)
	}
	h := max(st.HighestRevision, cur.Revision)
	var candidates []string
	for n := h + 1; len(names) < 10; n++ {
		candidates = append(candidates, deploy.RevisionName(cfg.Name, n))
		names = append(names, candidates[len(candidates)-1])
	}
	out, err := r.clients.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(clusterName(cfg.Cluster)), Services: names})
	if err != nil {
		diags.AddWarning("Rollout Preview Unavailable", "The plan could not read the services, so the rollout's values are known only after apply: "+err.Error())
		return
	}
	live := map[string]int{}
	active := map[string]bool{}
	for _, s := range out.Services {
		status := aws.ToString(s.Status)
		if status != "INACTIVE" {
			active[aws.ToString(s.ServiceName)] = true
		}
		if status == "ACTIVE" {
			live[aws.ToString(s.ServiceName)] = int(s.DesiredCount)
		}
	}
	liveCur, ok := live[cur.Name]
	if !ok {
		return // the engine will rediscover production; nothing can be exact here
	}
	// The old service's pre-setup count is read now. Should auto scaling move it before apply,
	// Terraform reports the plan as inconsistent and nothing is changed; planning again helps.
	countsKnown := true
	p := max(liveCur, cur.DesiredCount)

	if action == actionRollback {
		if _, ok := live[st.Previous.Name]; !ok {
			diags.AddWarning("Previous Service Gone",
				fmt.Sprintf("The configuration matches the previous revision %d, but its service %s no longer exists, so a new revision is deployed instead of a post-production rollback.", st.Previous.Revision, st.Previous.Name))
			plan.PlannedAction = types.StringValue(actionDeploy)
		} else {
			prev := rollbackTarget(cfg, *st.Previous)
			plan.Revision = types.Int64Value(int64(prev.Revision))
			plan.ServiceName, plan.ServiceARN = types.StringValue(prev.Name), types.StringValue(prev.ARN)
			plan.Current = refObject(&prev)
			plan.HighestRevision = types.Int64Value(int64(st.HighestRevision))
			plan.PlannedPhases = phasesList([]deploy.PhaseCounts{{New: prev.DesiredCount, Old: 0}})
			if countsKnown {
				old := *cur
				old.DesiredCount = p
				plan.Previous = refObject(&old)
			}
			return
		}
	}

	rev := 0
	for i, name := range candidates {
		if !active[name] {
			rev = h + 1 + i
			break
		}
	}
	desired := liveCur
	if cfg.DesiredCount != nil {
		desired = *cfg.DesiredCount
	} else if st.AutoScaling != nil || cfg.AutoScaling != nil {
		desired = -1 // auto scaling decides the count until the rollout takes it off
	}
	if desired >= 0 {
		desired = clampedDesired(cfg, desired)
	}
	if desired >= 0 && countsKnown {
		previewPhases(plan, cfg, desired, p, diags)
		old := *cur
		old.DesiredCount = p
		plan.Previous = refObject(&old)
	}
	if rev == 0 {
		return
	}
	name := deploy.RevisionName(cfg.Name, rev)
	arn := cur.ARN[:strings.LastIndex(cur.ARN, "/")+1] + name
	plan.Revision = types.Int64Value(int64(rev))
	plan.ServiceName, plan.ServiceARN = types.StringValue(name), types.StringValue(arn)
	plan.HighestRevision = types.Int64Value(int64(rev))
	plan.Current = types.ObjectValueMust(serviceRefAttrTypes, map[string]attr.Value{
		"service_name": types.StringValue(name), "service_arn": types.StringValue(arn),
		"revision":        types.Int64Value(int64(rev)),
		"task_definition": plannedTaskDefinitionARN(cfg.TaskDefinition, cur.TaskDefinition),
		"desired_count":   knownIf(desired >= 0, int64(desired)),
	})
}

// plannedTaskDefinitionARN is the ARN ECS will report for the configured task definition, when
// it can be derived: from an ARN, or from family:revision and the ARN prefix production uses.
func plannedTaskDefinitionARN(configured, productionARN string) types.String {
	if strings.HasPrefix(configured, "arn:") {
		return types.StringValue(configured)
	}
	i := strings.Index(productionARN, "task-definition/")
	if !strings.Contains(configured, ":") || i < 0 {
		return types.StringUnknown()
	}
	return types.StringValue(productionARN[:i+len("task-definition/")] + configured)
}

func knownIf(known bool, v int64) types.Int64 {
	if !known {
		return types.Int64Unknown()
	}
	return types.Int64Value(v)
}

// unknownRollout marks what a rollout changes as known only after apply.
func unknownRollout(plan *phasedDeploymentModel) {
	plan.Revision, plan.ServiceName, plan.ServiceARN = types.Int64Unknown(), types.StringUnknown(), types.StringUnknown()
	plan.Current, plan.Previous = types.ObjectUnknown(serviceRefAttrTypes), types.ObjectUnknown(serviceRefAttrTypes)
	plan.HighestRevision = types.Int64Unknown()
	plan.LastRollout = types.ObjectUnknown(lastRolloutAttrTypes)
	plan.PlannedPhases = types.ListUnknown(types.ObjectType{AttrTypes: phaseCountsAttrTypes})
}
