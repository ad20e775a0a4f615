package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
)

const importIDForm = "<cluster>/<name> or <cluster>/<name>/<deployment_id>, where <cluster> is a cluster name or ARN"

// parseImportID splits an import ID into cluster, name and deployment ID (default
// "<cluster name>/<name>"). A deployment ID may itself contain slashes. Every error names the
// expected form.
func parseImportID(id string) (cluster, name, deploymentID string, err error) {
	var rest string
	if strings.HasPrefix(id, "arn:") {
		i := strings.Index(id, ":cluster/")
		if i < 0 {
			return "", "", "", importIDError(id, "starts with an ARN that is not a cluster ARN (…:cluster/<name>)")
		}
		j := strings.Index(id[i+len(":cluster/"):], "/")
		if j < 0 {
			return "", "", "", importIDError(id, "has no <name> after the cluster")
		}
		cluster, rest = id[:i+len(":cluster/")+j], id[i+len(":cluster/")+j+1:]
	} else {
		var ok bool
		cluster, rest, ok = strings.Cut(id, "/")
		if !ok {
			return "", "", "", importIDError(id, "has no <name> after the cluster")
		}
	}
	name, deploymentID, _ = strings.Cut(rest, "/")
	if !clusterPattern.MatchString(cluster) {
		return "", "", "", importIDError(id, fmt.Sprintf("names the cluster %q, which is not a cluster name or ARN", cluster))
	}
	if name == "" || len(name) > maxBaseNameLength || !baseNamePattern.MatchString(name) {
		return "", "", "", importIDError(id, fmt.Sprintf("names %q, which is not a valid name (1–%d letters, digits, hyphens and underscores)", name, maxBaseNameLength))
	}
	if deploymentID == "" {
		if strings.HasSuffix(rest, "/") {
			return "", "", "", importIDError(id, "ends with an empty deployment ID")
		}
		deploymentID = defaultDeploymentID(cluster, name)
	}
	if !deploymentIDPattern.MatchString(deploymentID) {
		return "", "", "", importIDError(id, fmt.Sprintf("names the deployment ID %q, which is not a valid tag value", deploymentID))
	}
	return cluster, name, deploymentID, nil
}

// importIDError says what is wrong with an import ID and which form is expected.
func importIDError(id, problem string) error {
	return fmt.Errorf("import ID %q %s; expected %s, for example prod/web", id, problem, importIDForm)
}

// ImportState discovers a deployment's services (SPEC §2.7): the production service is the
// highest revision with a non-zero count.
func (r *phasedDeploymentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, name, deploymentID, err := parseImportID(req.ID)
	if err != nil {
		addError(&resp.Diagnostics, "Invalid Import ID", "The import ID does not name a phased deployment; nothing was imported.", err)
		return
	}
	imp, err := r.engine().Import(ctx, cluster, name, deploymentID)
	if err != nil {
		addError(&resp.Diagnostics, "Unable to Import Phased Deployment",
			fmt.Sprintf("No deployment %s with deployment ID %q was found in cluster %s.", name, deploymentID, cluster), err)
		return
	}
	cur := imp.Current
	m := phasedDeploymentModel{
		ID: types.StringValue(defaultDeploymentID(cluster, name)), Cluster: types.StringValue(cluster),
		Name: types.StringValue(name), TaskDefinition: types.StringValue(deploy.FamilyRevision(cur.TaskDefinition)),
		DesiredCount: types.Int64Value(int64(cur.DesiredCount)), DeploymentID: types.StringValue(deploymentID),
		Service:           types.ObjectNull(objectAttrTypes(serviceBlock())),
		Phases:            types.ListNull(types.ObjectType{AttrTypes: objectAttrTypes(phaseBlock())}),
		Rollback:          types.ObjectNull(objectAttrTypes(rollbackBlock())),
		AutoScaling:       autoScalingObject(imp.AutoScaling),
		RetainOldServices: types.Int64Value(3), SteadyStateTimeout: types.StringValue("10m"),
		FailedTaskThreshold: types.Int64Null(),
		Timeouts:            timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType})},
		PlannedAction:       types.StringValue(string(deploy.ActionNone)), PlannedPhases: phasesList(nil),
		LastRollout: types.ObjectNull(lastRolloutAttrTypes),
	}
	setResult(&m, &deploy.Result{State: imp.State})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// objectAttrTypes returns the attribute types of a block's object.
func objectAttrTypes(b interface {
	Type() attr.Type
}) map[string]attr.Type {
	t := b.Type()
	if lt, ok := t.(basetypes.ListType); ok {
		t = lt.ElemType
	}
	ot, _ := t.(basetypes.ObjectType)
	return ot.AttrTypes
}

// autoScalingObject builds the auto_scaling block's value from engine settings.
func autoScalingObject(a *deploy.AutoScaling) types.Object {
	attrTypes := objectAttrTypes(autoScalingBlock())
	if a == nil {
		return types.ObjectNull(attrTypes)
	}
	block, _ := autoScalingBlock().(schema.SingleNestedBlock)
	ttTypes := objectAttrTypes(block.Blocks["target_tracking"])
	var tts []attr.Value
	for _, t := range a.TargetTracking {
		label := types.StringNull()
		if t.ResourceLabel != "" {
			label = types.StringValue(t.ResourceLabel)
		}
		tts = append(tts, types.ObjectValueMust(ttTypes, map[string]attr.Value{
			"name": types.StringValue(t.Name), "predefined_metric_type": types.StringValue(t.PredefinedMetricType),
			"resource_label": label, "target_value": types.Float64Value(t.TargetValue),
			"scale_in_cooldown": int64OrNull(t.ScaleInCooldown), "scale_out_cooldown": int64OrNull(t.ScaleOutCooldown),
			"disable_scale_in": boolOrNull(t.DisableScaleIn),
		}))
	}
	list := types.ListValueMust(types.ObjectType{AttrTypes: ttTypes}, tts)
	if len(tts) == 0 {
		list = types.ListNull(types.ObjectType{AttrTypes: ttTypes})
	}
	return types.ObjectValueMust(attrTypes, map[string]attr.Value{
		"min_capacity": types.Int64Value(int64(a.Min)), "max_capacity": types.Int64Value(int64(a.Max)),
		"target_tracking": list,
	})
}

func int64OrNull(p *int) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(int64(*p))
}

func boolOrNull(b bool) types.Bool {
	if !b {
		return types.BoolNull()
	}
	return types.BoolValue(true)
}
