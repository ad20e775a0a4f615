package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

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

// ImportState discovers a deployment's services (DESIGN.md §10.4): the production service is the
// highest revision with a non-zero count. Each attribute is set on its own; the blocks that only
// steer rollouts (service, phase, rollback, analysis, timeouts) stay null, which an import
// cannot know, and planned_gates is empty.
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
	var m phasedDeploymentModel
	setResult(&m, &deploy.Result{State: imp.State})
	for _, a := range []struct {
		name  string
		value any
	}{
		{"id", defaultDeploymentID(cluster, name)}, {"cluster", cluster}, {"name", name},
		{"deployment_id", deploymentID},
		{"task_definition", deploy.FamilyRevision(imp.Current.TaskDefinition)},
		{"desired_count", int64(imp.Current.DesiredCount)},
		{"auto_scaling", importedScaling(imp.AutoScaling)},
		{"retain_old_services", int64(deploy.DefaultRetainOldServices)},
		{"steady_state_timeout", defaultSteadyStateTimeout},
		{"planned_action", string(deploy.ActionNone)}, {"planned_phases", phasesList(nil)},
		{"planned_gates", []string{}},
		{"revision", m.Revision}, {"service_name", m.ServiceName}, {"service_arn", m.ServiceARN},
		{"current", m.Current}, {"previous", m.Previous}, {"highest_revision", m.HighestRevision},
	} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(a.name), a.value)...)
	}
}

// scalingState is the auto_scaling block as import sets it; nil pointers are null.
type scalingState struct {
	MinCapacity      int64                  `tfsdk:"min_capacity"`
	MaxCapacity      int64                  `tfsdk:"max_capacity"`
	DiscardUnmanaged bool                   `tfsdk:"discard_unmanaged"`
	TargetTracking   []policyState          `tfsdk:"target_tracking"`
	ScheduledActions []scheduledActionState `tfsdk:"scheduled_action"`
}

type policyState struct {
	Name                 string                 `tfsdk:"name"`
	PredefinedMetricType *string                `tfsdk:"predefined_metric_type"`
	ResourceLabel        *string                `tfsdk:"resource_label"`
	CustomizedMetric     *customizedMetricState `tfsdk:"customized_metric"`
	TargetValue          float64                `tfsdk:"target_value"`
	ScaleInCooldown      *int64                 `tfsdk:"scale_in_cooldown"`
	ScaleOutCooldown     *int64                 `tfsdk:"scale_out_cooldown"`
	DisableScaleIn       *bool                  `tfsdk:"disable_scale_in"`
}

type customizedMetricState struct {
	Namespace  string            `tfsdk:"namespace"`
	MetricName string            `tfsdk:"metric_name"`
	Statistic  string            `tfsdk:"statistic"`
	Unit       *string           `tfsdk:"unit"`
	Dimensions map[string]string `tfsdk:"dimensions"`
}

type scheduledActionState struct {
	Name        string  `tfsdk:"name"`
	Schedule    string  `tfsdk:"schedule"`
	Timezone    *string `tfsdk:"timezone"`
	MinCapacity *int64  `tfsdk:"min_capacity"`
	MaxCapacity *int64  `tfsdk:"max_capacity"`
	StartTime   *string `tfsdk:"start_time"`
	EndTime     *string `tfsdk:"end_time"`
}

// importedScaling is the auto_scaling block of the settings production carries; nil (null)
// without auto scaling. Optional values that are unset, empty or false stay null, as a
// configuration that omits them has them; discard_unmanaged is its default, false. A
// customized metric's ServiceName dimension is imported as production's service name, the
// value the engine wrote there.
func importedScaling(a *deploy.AutoScaling) *scalingState {
	if a == nil {
		return nil
	}
	s := &scalingState{MinCapacity: int64(a.Min), MaxCapacity: int64(a.Max)}
	for _, t := range a.TargetTracking {
		p := policyState{Name: t.Name, PredefinedMetricType: nonEmpty(t.PredefinedMetricType), ResourceLabel: nonEmpty(t.ResourceLabel),
			TargetValue: t.TargetValue, ScaleInCooldown: int64Ptr(t.ScaleInCooldown), ScaleOutCooldown: int64Ptr(t.ScaleOutCooldown)}
		if m := t.CustomizedMetric; m != nil {
			p.CustomizedMetric = &customizedMetricState{Namespace: m.Namespace, MetricName: m.MetricName, Statistic: m.Statistic,
				Unit: nonEmpty(m.Unit), Dimensions: m.Dimensions}
		}
		if t.DisableScaleIn {
			p.DisableScaleIn = &t.DisableScaleIn
		}
		s.TargetTracking = append(s.TargetTracking, p)
	}
	for _, sa := range a.ScheduledActions {
		s.ScheduledActions = append(s.ScheduledActions, scheduledActionState{
			Name: sa.Name, Schedule: sa.Schedule, Timezone: nonEmpty(sa.Timezone),
			MinCapacity: int64Ptr(sa.Min), MaxCapacity: int64Ptr(sa.Max),
			StartTime: nonEmpty(sa.StartTime), EndTime: nonEmpty(sa.EndTime),
		})
	}
	return s
}

// nonEmpty is s, or nil (null) for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func int64Ptr(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}
