package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Action is what an operation does to the deployment (DESIGN.md §11).
type Action string

// The actions, as planned_action shows them.
const (
	ActionCreate        Action = "create"          // the first deployment
	ActionDeploy        Action = "deploy"          // a new revision
	ActionAdopt         Action = "adopt"           // the first deployment, over a running service it takes over
	ActionRollback      Action = "rollback"        // back to the previous service
	ActionScale         Action = "scale"           // production's count, in place
	ActionUpdateInPlace Action = "update-in-place" // production's auto scaling, in place
	ActionNone          Action = "none"            // state only
)

// Known is one value that an operation will produce. Certain says that the plan may promise
// it: it follows from the configuration and state, or from a live fact that only a person
// changes by hand and that apply checks again before its first write. An uncertain value is
// one that something moves on its own (auto scaling); Value then holds its value now, which
// a plan may show in a warning but must not promise.
type Known[T comparable] struct {
	Value   T
	Certain bool
}

func sure[T comparable](v T) Known[T]   { return Known[T]{Value: v, Certain: true} }
func unsure[T comparable](v T) Known[T] { return Known[T]{Value: v} }

// PlannedService is a service as an operation leaves it.
type PlannedService struct {
	Name, ARN, TaskDefinition Known[string]
	Revision, DesiredCount    Known[int]
}

// PlannedPhase is the counts one phase brings the two services to.
type PlannedPhase struct {
	New, Old Known[int]
}

// Note is a warning for the plan. Field names the attribute it is about ("" for none); Index
// is the phase's index for Field "phase".
type Note struct {
	Field   string
	Index   int
	Summary string
	Detail  string
	// AtApply: apply reports it too, as a warning of the operation.
	AtApply bool
}

// Preview is what an operation will do, decided before it does anything. The plan shows it,
// and apply decides again with the same function on what it finds live, checks that every
// certain value of the plan still holds, and then carries out exactly what it decided.
type Preview struct {
	Action  Action
	Current *PlannedService // production after the operation
	// Previous is the previous service after the operation; Previous.Value nil means none.
	Previous        Known[*PlannedService]
	HighestRevision Known[int]
	// Phases are the counts the rollout goes through; nil when the operation rolls nothing
	// out and the last rollout's phases stay, empty when it changes counts in place.
	Phases []PlannedPhase
	// RollsOut says that the operation records a new last rollout.
	RollsOut bool
	Notes    []Note

	// What apply carries out; set when the preview was made from a live view.
	plan *decision
	// err is an input error that the plan could only warn about, because it depends on a
	// count that may still move; apply, which knows the count, refuses with it.
	err error
}

// decision is what an operation carries out, as the preview decided it.
type decision struct {
	prod    *ServiceRef // the production service as found live; nil on a first deployment
	p       int         // production's count before the operation (P)
	desired int         // the new revision's count, or the count a scale sets
	phases  []PhaseCounts
	rev     int    // the revision a deployment creates
	tdARN   string // the task definition a deployment runs
	prev    *ServiceRef
}

// View is what was found live of a deployment's services: by a refresh, for the plan, or by
// apply just before it acts.
type View struct {
	// Production is the production service with its live desired count: the recorded one
	// when it is there, otherwise the highest owned revision holding tasks; nil when none.
	Production *ServiceRef `json:"production,omitempty"`
	// Previous is the recorded previous service when it is ACTIVE and ours, with its live
	// desired count; nil otherwise.
	Previous *ServiceRef `json:"previous,omitempty"`
	// HighestRevision is the highest revision number seen on a service of ours.
	HighestRevision int `json:"highest_revision"`
	// NextRevision is the lowest revision above every known one whose name nobody holds.
	NextRevision int `json:"next_revision"`
	// ServiceARNPrefix is what a service ARN of this cluster starts with, up to the name.
	ServiceARNPrefix string `json:"service_arn_prefix,omitempty"`
	// TaskDefinitionARN is the configured task definition as ECS names it; apply knows it,
	// a plan derives it.
	TaskDefinitionARN string `json:"-"`
	// ProductionScaling is what production's auto scaling holds: its scaling policies and
	// scheduled actions; nil when they were not read.
	ProductionScaling *ScalingView `json:"production_scaling,omitempty"`
	// Adopted is the service an adopting create takes over; Production is the same service.
	Adopted *AdoptedService `json:"adopted,omitempty"`
	// LeftSuspended is the SuspendedTag that a killed run left on production: the suspension
	// its scalable target had before; "" when it carries none.
	LeftSuspended string `json:"left_suspended,omitempty"`
}

// ScalingView names a service's scaling policies and scheduled actions.
type ScalingView struct {
	Policies         []ScalingPolicyRef `json:"policies,omitempty"`
	ScheduledActions []string           `json:"scheduled_actions,omitempty"`
}

// ScalingPolicyRef is a scaling policy's name and type (TargetTrackingScaling, StepScaling or
// PredictiveScaling).
type ScalingPolicyRef struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// unmanagedScaling lists, as "step scaling policy web-out", the policies and scheduled actions
// of a production service that neither the configuration nor the auto scaling last applied
// describes: what a rollout would drop, since only what the configuration describes moves to
// the new revision (DESIGN.md §8.3).
func unmanagedScaling(v *ScalingView, cfg, applied *AutoScaling) []string {
	if v == nil {
		return nil
	}
	described := func(in func(*AutoScaling) bool) bool {
		return (cfg != nil && in(cfg)) || (applied != nil && in(applied))
	}
	var out []string
	for _, p := range v.Policies {
		if p.Type == "TargetTrackingScaling" && described(func(a *AutoScaling) bool {
			return slices.ContainsFunc(a.TargetTracking, func(t TargetTracking) bool { return t.Name == p.Name })
		}) {
			continue
		}
		out = append(out, fmt.Sprintf("%s policy %s", policyKind(p.Type), p.Name))
	}
	for _, name := range v.ScheduledActions {
		if described(func(a *AutoScaling) bool {
			return slices.ContainsFunc(a.ScheduledActions, func(s ScheduledAction) bool { return s.Name == name })
		}) {
			continue
		}
		out = append(out, "scheduled action "+name)
	}
	return out
}

// policyKind names a policy type as prose.
func policyKind(t string) string {
	switch t {
	case "TargetTrackingScaling":
		return "target tracking"
	case "StepScaling":
		return "step scaling"
	case "PredictiveScaling":
		return "predictive scaling"
	}
	return t
}

// checkUnmanaged warns about what a rollout from production would drop, and, unless the
// configuration opts in with auto_scaling.discard_unmanaged, refuses the rollout at apply.
func checkUnmanaged(in PreviewInput, pv *Preview, prod string) {
	v := in.View
	if v == nil || prod == "" {
		return
	}
	items := unmanagedScaling(v.ProductionScaling, in.Config.AutoScaling, in.State.AutoScaling)
	if len(items) == 0 {
		return
	}
	list := strings.Join(items, ", ")
	if in.Config.DiscardUnmanagedScaling {
		pv.Notes = append(pv.Notes, Note{Field: "auto_scaling", Summary: "Unmanaged Auto Scaling Will Be Dropped", AtApply: true, Detail: fmt.Sprintf(
			"The production service %s has auto scaling that the configuration does not describe: %s. auto_scaling.discard_unmanaged is true, so the new production service does not get it, and it is deleted with %s's scalable target when the rollout succeeds.", prod, list, prod)})
		return
	}
	pv.Notes = append(pv.Notes, Note{Field: "auto_scaling", Summary: "Unmanaged Auto Scaling on Production", Detail: fmt.Sprintf(
		"The production service %s has auto scaling that the configuration does not describe: %s. A rollout moves only what the configuration describes to the new revision, so apply will refuse to start. Describe them in the auto_scaling block, or set auto_scaling.discard_unmanaged = true to drop them.", prod, list)})
	pv.err = &InputError{Field: "auto_scaling", Message: fmt.Sprintf(
		"the production service %s has auto scaling that the configuration does not describe (%s); a rollout would drop it. Describe it in the auto_scaling block, or set auto_scaling.discard_unmanaged = true to drop it", prod, list)}
}

// PreviewInput is what a preview is decided from.
type PreviewInput struct {
	Config Config
	// Prior is the configuration that state was applied with; nil on create.
	Prior *Config
	State State
	// Fingerprints tells what each recorded service was deployed with (Fingerprint).
	Fingerprints map[string]string
	// View is what was found live; nil when nothing is known (a create's plan).
	View *View
}

// Fingerprint identifies what a revision was deployed with: its task definition as
// family:revision, whatever form was written, and the service template.
func Fingerprint(taskDefinition string, t ServiceTemplate) (string, error) {
	b, err := json.Marshal(t) // map keys are sorted by encoding/json
	if err != nil {
		return "", fmt.Errorf("fingerprinting the service template: %w", err)
	}
	td := FamilyRevision(taskDefinition)
	sum := sha256.Sum256(append([]byte(td+"\x00"), b...))
	return td + "#" + hex.EncodeToString(sum[:8]), nil
}

// SameTaskDefinition compares a configured task definition with another one or with the ARN a
// service runs: as family:revision, or as family alone when the configuration names only the
// family.
func SameTaskDefinition(configured, other string) bool {
	c, o := FamilyRevision(configured), FamilyRevision(other)
	if !strings.Contains(c, ":") {
		return c == Family(o)
	}
	return c == o
}

// ClampToScaling moves a count into the auto scaling range, when there is one.
func ClampToScaling(a *AutoScaling, n int) int {
	if a == nil {
		return n
	}
	return min(max(n, a.Min), a.Max)
}

// decideAction compares the configuration with the one state was applied with.
func decideAction(in PreviewInput) (Action, error) {
	if in.State.Current == nil || in.Prior == nil {
		if in.Config.Adopt != "" {
			return ActionAdopt, nil
		}
		return ActionCreate, nil
	}
	cfg, prior := in.Config, in.Prior
	newTemplate, err := Fingerprint("", cfg.Service)
	if err != nil {
		return "", err
	}
	oldTemplate, err := Fingerprint("", prior.Service)
	if err != nil {
		return "", err
	}
	switch {
	case !SameTaskDefinition(cfg.TaskDefinition, prior.TaskDefinition) || newTemplate != oldTemplate:
		fp, err := Fingerprint(cfg.TaskDefinition, cfg.Service)
		if err != nil {
			return "", err
		}
		// The previous service must still be what it was deployed as: one switched to another
		// task definition since is not the revision the configuration asks for.
		if prev := in.State.Previous; prev != nil && in.Fingerprints[prev.Name] == fp && SameTaskDefinition(cfg.TaskDefinition, prev.TaskDefinition) {
			return ActionRollback, nil
		}
		return ActionDeploy, nil
	case cfg.DesiredCount != nil && (prior.DesiredCount == nil || *cfg.DesiredCount != *prior.DesiredCount):
		return ActionScale, nil
	case !reflect.DeepEqual(cfg.AutoScaling, prior.AutoScaling):
		return ActionUpdateInPlace, nil
	case in.View != nil && in.View.LeftSuspended != "":
		// A killed run left production's auto scaling suspended: the next apply lifts it,
		// whatever else it would do (DESIGN.md §5.6.1).
		return ActionUpdateInPlace, nil
	}
	return ActionNone, nil
}

// PreviewOperation decides what an operation will do. It is a pure function: the plan calls it
// with the view of the last refresh, and apply calls it again with what it finds live.
func PreviewOperation(in PreviewInput) (*Preview, error) {
	action, err := decideAction(in)
	if err != nil {
		return nil, err
	}
	return previewAction(in, action)
}

func previewAction(in PreviewInput, action Action) (*Preview, error) {
	st := in.State
	if action != ActionCreate && action != ActionDeploy && action != ActionAdopt && st.Current == nil {
		return nil, fmt.Errorf("%s: no production service is recorded", action)
	}
	switch action {
	case ActionCreate, ActionDeploy:
		return previewRollout(in, action, nil)
	case ActionAdopt:
		return previewAdoption(in)
	case ActionRollback:
		if v := in.View; v != nil && v.Previous == nil {
			note := Note{Summary: "Previous Service Gone", Detail: fmt.Sprintf(
				"The configuration matches the previous revision %d, but its service %s no longer exists, so a new revision is deployed instead of a post-production rollback.",
				st.Previous.Revision, st.Previous.Name)}
			return previewRollout(in, ActionDeploy, &note)
		}
		return previewRollback(in), nil
	case ActionScale:
		return previewScale(in), nil
	case ActionUpdateInPlace:
		return previewScalingUpdate(in), nil
	}
	return &Preview{Action: ActionNone, Current: plannedFrom(st.Current), Previous: sure(plannedFrom(st.Previous)),
		HighestRevision: sure(st.HighestRevision)}, nil
}

// plannedFrom is a recorded service as it stays.
func plannedFrom(ref *ServiceRef) *PlannedService {
	if ref == nil {
		return nil
	}
	return &PlannedService{
		Name: sure(ref.Name), ARN: sure(ref.ARN), TaskDefinition: sure(ref.TaskDefinition),
		Revision: sure(ref.Revision), DesiredCount: sure(ref.DesiredCount),
	}
}

// productionCount is production's count before the operation, P: its live desired count, but
// never less than the recorded one, because setup first brings a production service that fell
// below its recorded count (an interrupted run) back up to it. Auto scaling moves the count on
// its own, so then P is uncertain; a count only a person moves is certain, and apply checks it.
func productionCount(in PreviewInput) Known[int] {
	st, v := in.State, in.View
	recorded := 0
	if st.Current != nil {
		recorded = st.Current.DesiredCount
	}
	switch {
	case v == nil:
		return unsure(recorded)
	case v.Production == nil:
		return sure(0)
	case v.Adopted != nil:
		// The adopted service's count, read by the plan itself (a create has no refresh):
		// Terraform plans a create again at apply, without what the first plan read, and a
		// count that moved in between would change a value the plan promised. So it is never
		// promised; the plan's notes say what it is now (DESIGN.md §16.3).
		return unsure(v.Adopted.DesiredCount)
	case st.Current == nil || v.Production.Name != st.Current.Name:
		// Production was found, not recorded: state was lost. Whether auto scaling moves it is
		// not known.
		return unsure(v.Production.DesiredCount)
	}
	return Known[int]{max(v.Production.DesiredCount, recorded), st.AutoScaling == nil}
}

// production is the service a rollout shifts tasks from, as far as it is known.
func production(in PreviewInput) (*ServiceRef, bool) {
	if v := in.View; v != nil {
		return v.Production, true
	}
	return in.State.Current, in.State.Current != nil
}

func previewRollout(in PreviewInput, action Action, note *Note) (*Preview, error) {
	cfg, v := in.Config, in.View
	pv := &Preview{Action: action, RollsOut: true}
	if note != nil {
		pv.Notes = append(pv.Notes, *note)
	}
	prod, prodKnown := production(in)
	p := productionCount(in)
	desired, err := newRevisionCount(in, pv, prod, prodKnown, p)
	if err != nil {
		return nil, err
	}
	counts, err := previewPhases(cfg, pv, desired, p)
	if err != nil {
		return nil, err
	}

	// The new revision: the lowest free number above every known one.
	rev := unsure(max(in.State.HighestRevision, refRevision(in.State.Current)) + 1)
	if v != nil && v.NextRevision > 0 {
		rev = sure(v.NextRevision)
	}
	name := Known[string]{RevisionName(cfg.Name, rev.Value), rev.Certain}
	arn := unsure("")
	if v != nil && v.ServiceARNPrefix != "" {
		arn = Known[string]{v.ServiceARNPrefix + name.Value, name.Certain}
	}
	td := plannedTaskDefinition(cfg.TaskDefinition, v, prod)
	pv.Current = &PlannedService{Name: name, ARN: arn, Revision: rev, TaskDefinition: td, DesiredCount: desired}
	pv.HighestRevision = rev

	// The old production service becomes previous, at P.
	switch {
	case !prodKnown:
		pv.Previous = unsure[*PlannedService](nil)
	case prod == nil:
		pv.Previous = sure[*PlannedService](nil)
	default:
		prev := plannedFrom(prod)
		prev.DesiredCount = p
		pv.Previous = sure(prev)
	}
	if v != nil {
		pv.plan = &decision{prod: prod, p: p.Value, desired: desired.Value, phases: counts, rev: rev.Value, tdARN: td.Value}
	}
	if prod != nil && pv.err == nil {
		checkUnmanaged(in, pv, prod.Name)
	}
	return pv, nil
}

// newRevisionCount is the new revision's count, desired (DESIGN.md §6): the configured one, or
// production's, clamped to the auto scaling range.
func newRevisionCount(in PreviewInput, pv *Preview, prod *ServiceRef, prodKnown bool, p Known[int]) (Known[int], error) {
	cfg, st := in.Config, in.State
	switch {
	case cfg.DesiredCount != nil:
		return sure(ClampToScaling(cfg.AutoScaling, *cfg.DesiredCount)), nil
	case prod == nil && (prodKnown || st.Current == nil):
		return Known[int]{}, &InputError{Field: "desired_count", Message: "desired_count is required on the first deployment, when there is no production service to take the count from"}
	}
	if cfg.AutoScaling != nil || st.AutoScaling != nil {
		pv.Notes = append(pv.Notes, Note{Field: "desired_count", Summary: "Auto Scaling Decides the Count", Detail: fmt.Sprintf(
			"desired_count is not set, so the new revision starts with the production service's count, which ECS Service Auto Scaling may change at any time (it is %d now). The phase counts are therefore known only at apply.", p.Value)})
	}
	return Known[int]{ClampToScaling(cfg.AutoScaling, p.Value), p.Certain}, nil
}

// previewPhases sets the phases a rollout from P to desired goes through (DESIGN.md §4), each
// count as certain as what it follows from, and returns their counts.
func previewPhases(cfg Config, pv *Preview, desired, p Known[int]) ([]PhaseCounts, error) {
	counts, warnings, err := PlanPhases(desired.Value, p.Value, cfg.Phases)
	for _, w := range warnings {
		pv.Notes = append(pv.Notes, Note{Field: "phase", Index: w.Phase - 1, Summary: "Phase Ignored", Detail: w.String() + ".", AtApply: true})
	}
	var le *LastPhaseError
	switch {
	case errors.As(err, &le) && !desired.Certain:
		pv.err = &InputError{Field: "phase", Message: err.Error(), Err: err}
		pv.Notes = append(pv.Notes, Note{Field: "phase", Index: le.Phase - 1, Summary: "Last Phase May Fall Short", Detail: fmt.Sprintf(
			"With today's count, %s. The count may still change before apply; if it does not, the apply fails before it changes anything.", err)})
		counts = nil
	case err != nil:
		return nil, &InputError{Field: "phase", Message: err.Error(), Err: err}
	}
	pv.Phases = make([]PlannedPhase, len(counts))
	for i, c := range counts {
		last := i == len(counts)-1
		pv.Phases[i] = PlannedPhase{
			New: Known[int]{c.New, desired.Certain},
			// The old service ends at 0, and is at 0 wherever the new one has reached desired.
			Old: Known[int]{c.Old, last || (desired.Certain && (p.Certain || c.New == desired.Value))},
		}
	}
	return counts, nil
}

func refRevision(r *ServiceRef) int {
	if r == nil {
		return 0
	}
	return r.Revision
}

// plannedTaskDefinition is the ARN ECS will report for the configured task definition: the one
// apply resolved, or one derived from an ARN, or from family:revision and the ARN prefix
// production's task definition has.
func plannedTaskDefinition(configured string, v *View, prod *ServiceRef) Known[string] {
	switch {
	case v != nil && v.TaskDefinitionARN != "":
		return sure(v.TaskDefinitionARN)
	case strings.HasPrefix(configured, "arn:"):
		return sure(configured)
	case prod == nil || !strings.Contains(configured, ":"):
		return unsure("")
	}
	i := strings.Index(prod.TaskDefinition, "task-definition/")
	if i < 0 {
		return unsure("")
	}
	return sure(prod.TaskDefinition[:i+len("task-definition/")] + configured)
}

// previewRollback is a post-production rollback (DESIGN.md §9): the previous service back up to
// its recorded count, or to the configured desired_count when one is set, so that the
// configuration and the rolled-back service agree; the current service to 0.
func previewRollback(in PreviewInput) *Preview {
	cfg, st, v := in.Config, in.State, in.View
	target := st.Previous.DesiredCount
	if cfg.DesiredCount != nil {
		target = ClampToScaling(cfg.AutoScaling, *cfg.DesiredCount)
	}
	p := productionCount(in)
	cur := plannedFrom(st.Previous)
	cur.DesiredCount = sure(target)
	old := plannedFrom(st.Current)
	old.DesiredCount = p
	if v != nil {
		cur.TaskDefinition = sure(v.Previous.TaskDefinition)
		if v.Production != nil {
			old.TaskDefinition = sure(v.Production.TaskDefinition)
		}
	}
	pv := &Preview{
		Action: ActionRollback, Current: cur, Previous: sure(old), HighestRevision: sure(st.HighestRevision),
		Phases: []PlannedPhase{{New: sure(target), Old: sure(0)}}, RollsOut: true,
	}
	if v != nil {
		pv.plan = &decision{prod: v.Production, p: p.Value, desired: target, phases: []PhaseCounts{{New: target}}, prev: v.Previous}
		if v.Production != nil {
			checkUnmanaged(in, pv, v.Production.Name)
		}
	}
	return pv
}

// previewScale changes production's count in place (DESIGN.md §6), clamped to the auto scaling
// range; the count set is the count recorded.
func previewScale(in PreviewInput) *Preview {
	cfg, st := in.Config, in.State
	n := ClampToScaling(cfg.AutoScaling, *cfg.DesiredCount)
	cur := plannedFrom(st.Current)
	cur.DesiredCount = sure(n)
	livePlanned(cur, in.View)
	pv := &Preview{Action: ActionScale, Current: cur, Previous: sure(plannedFrom(st.Previous)),
		HighestRevision: sure(st.HighestRevision), Phases: []PlannedPhase{}}
	if in.View != nil {
		pv.plan = &decision{prod: in.View.Production, desired: n}
	}
	return pv
}

// previewScalingUpdate changes production's auto scaling in place. Auto scaling decides the
// count from then on, so the recorded count becomes the live one after the change, which the
// plan cannot promise. When auto scaling is removed and desired_count is set, production goes
// to that count, as the configuration says.
func previewScalingUpdate(in PreviewInput) *Preview {
	cfg, st, v := in.Config, in.State, in.View
	cur := plannedFrom(st.Current)
	livePlanned(cur, v)
	live := st.Current.DesiredCount
	if v != nil && v.Production != nil {
		live = v.Production.DesiredCount
	}
	pv := &Preview{Action: ActionUpdateInPlace, Current: cur, Previous: sure(plannedFrom(st.Previous)),
		HighestRevision: sure(st.HighestRevision), Phases: []PlannedPhase{}}
	n := -1
	switch {
	case cfg.AutoScaling == nil && cfg.DesiredCount != nil:
		n = *cfg.DesiredCount
		cur.DesiredCount = sure(n)
	case cfg.AutoScaling == nil:
		cur.DesiredCount = unsure(live)
	default:
		cur.DesiredCount = unsure(ClampToScaling(cfg.AutoScaling, live))
		pv.Notes = append(pv.Notes, Note{Summary: "Auto Scaling Decides the Count", Detail: fmt.Sprintf(
			"The production service %s runs the count auto scaling chose (%d tasks now), which may change before the apply; current.desired_count is known after apply.", st.Current.Name, live)})
	}
	if v != nil {
		pv.plan = &decision{prod: v.Production, desired: n}
		if v.LeftSuspended != "" {
			pv.Notes = append(pv.Notes, Note{Field: "auto_scaling", Summary: "Auto Scaling Suspension Lifted", AtApply: true, Detail: fmt.Sprintf(
				"An apply that was interrupted left the auto scaling of %s suspended (tag %s = %q records how it was before); this apply restores that and removes the tag.",
				st.Current.Name, SuspendedTag, v.LeftSuspended)})
		}
	}
	return pv
}

// livePlanned takes into an in-place change's production service the task definition it runs
// now, as apply finds it: production switched to another task definition after the plan makes
// the plan's value impossible, and apply refuses.
func livePlanned(cur *PlannedService, v *View) {
	if v != nil && v.Production != nil && v.Production.Name == cur.Name.Value {
		cur.TaskDefinition = sure(v.Production.TaskDefinition)
	}
}

// StalePlanError says that what apply found live no longer allows what the plan promised.
// Nothing was changed.
type StalePlanError struct {
	Changes []string
}

func (e *StalePlanError) Error() string {
	return "the plan no longer matches what is live, so nothing was changed; run terraform plan again:\n  " + strings.Join(e.Changes, "\n  ")
}

// Check compares the certain values of a plan's preview with the preview apply made from what
// it found live, and returns a *StalePlanError listing each difference.
func (planned *Preview) Check(now *Preview) error {
	var changes []string
	diff := func(what string, plan, live any) {
		changes = append(changes, fmt.Sprintf("%s: the plan has %v, apply finds %v", what, plan, live))
	}
	if planned.Action != now.Action {
		diff("planned_action", planned.Action, now.Action)
		return &StalePlanError{Changes: append(changes, now.reasons()...)}
	}
	checkService("current", planned.Current, now.Current, diff)
	if planned.Previous.Certain {
		pp, np := planned.Previous.Value, now.Previous.Value
		switch {
		case (pp == nil) != (np == nil):
			diff("previous", describe(pp), describe(np))
		case pp != nil:
			checkService("previous", pp, np, diff)
		}
	}
	checkInt("highest_revision", planned.HighestRevision, now.HighestRevision, diff)
	if planned.Phases != nil {
		if len(planned.Phases) != len(now.Phases) {
			diff("planned_phases", fmt.Sprintf("%d phases", len(planned.Phases)), fmt.Sprintf("%d phases", len(now.Phases)))
		} else {
			for i := range planned.Phases {
				checkInt(fmt.Sprintf("planned_phases[%d].new_count", i), planned.Phases[i].New, now.Phases[i].New, diff)
				checkInt(fmt.Sprintf("planned_phases[%d].old_count", i), planned.Phases[i].Old, now.Phases[i].Old, diff)
			}
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return &StalePlanError{Changes: changes}
}

// reasons explains an action that differs from the plan's.
func (pv *Preview) reasons() []string {
	var out []string
	for _, n := range pv.Notes {
		if n.Field == "" {
			out = append(out, n.Detail)
		}
	}
	return out
}

func describe(s *PlannedService) string {
	if s == nil {
		return "none"
	}
	return s.Name.Value
}

func checkService(what string, plan, live *PlannedService, diff func(string, any, any)) {
	if plan == nil || live == nil {
		if (plan == nil) != (live == nil) {
			diff(what, describe(plan), describe(live))
		}
		return
	}
	checkString(what+".service_name", plan.Name, live.Name, diff)
	checkString(what+".service_arn", plan.ARN, live.ARN, diff)
	checkString(what+".task_definition", plan.TaskDefinition, live.TaskDefinition, diff)
	checkInt(what+".revision", plan.Revision, live.Revision, diff)
	checkInt(what+".desired_count", plan.DesiredCount, live.DesiredCount, diff)
}

func checkInt(what string, plan, live Known[int], diff func(string, any, any)) {
	if plan.Certain && plan.Value != live.Value {
		diff(what, plan.Value, live.Value)
	}
}

func checkString(what string, plan, live Known[string], diff func(string, any, any)) {
	if plan.Certain && plan.Value != live.Value {
		diff(what, plan.Value, live.Value)
	}
}

// previewAdoption previews an adopting create: a rollout from the adopted service, which
// becomes previous at revision 0. Without a live view (a plan that could not read it) the
// rollout is previewed as a first deployment would be, every value from the adopted service
// unknown.
func previewAdoption(in PreviewInput) (*Preview, error) {
	v := in.View
	if v == nil || v.Adopted == nil {
		pv := &Preview{Action: ActionAdopt, RollsOut: true, Current: &PlannedService{Name: unsure(""), ARN: unsure(""), Revision: unsure(0),
			TaskDefinition: unsure(""), DesiredCount: unsure(0)}, Previous: unsure[*PlannedService](nil), HighestRevision: unsure(0)}
		return pv, nil
	}
	pv, err := previewRollout(in, ActionAdopt, nil)
	if err != nil {
		return nil, err
	}
	counts, _, err := PlanPhases(ClampToScaling(in.Config.AutoScaling, valueOr(in.Config.DesiredCount, v.Adopted.DesiredCount)), v.Adopted.DesiredCount, in.Config.Phases)
	if err == nil {
		var ph []string
		for _, c := range counts {
			ph = append(ph, fmt.Sprintf("%d/%d", c.New, c.Old))
		}
		scaled := ""
		if v.Adopted.AutoScaled {
			scaled = ", which its auto scaling may also move"
		}
		pv.Notes = append(pv.Notes, Note{Field: "adopt", Summary: "Adoption at the Current Count", Detail: fmt.Sprintf(
			"%s runs %d tasks now; from that count the phases are %s (new/old). The count can change before the apply%s, so the plan leaves the counts that follow from it unknown, and the apply takes over %s at the count it finds.",
			v.Adopted.Name, v.Adopted.DesiredCount, strings.Join(ph, ", "), scaled, v.Adopted.Name)})
	}
	if len(v.Adopted.Copied) > 0 {
		pv.Notes = append(pv.Notes, Note{Field: "adopt", Summary: "Service Template Copied", AtApply: true, Detail: fmt.Sprintf(
			"The configuration has no service block, so the revisions are created with the settings of %s: %s.", v.Adopted.Name, strings.Join(v.Adopted.Copied, ", "))})
	}
	return pv, nil
}

// valueOr is *p, or or when p is nil.
func valueOr(p *int, or int) int {
	if p == nil {
		return or
	}
	return *p
}
