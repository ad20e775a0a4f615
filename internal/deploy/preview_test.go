package deploy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Fixtures for the preview tests: a deployment "web" whose production is web__7 (revision 7)
// recorded at 4 tasks, with web__6 as previous.
const (
	tdPrefix  = "arn:aws:ecs:eu-west-1:123456789012:task-definition/"
	svcPrefix = "arn:aws:ecs:eu-west-1:123456789012:service/prod/"
)

func ref(rev, count int, td string) *ServiceRef {
	name := RevisionName("web", rev)
	return &ServiceRef{Name: name, ARN: svcPrefix + name, Revision: rev, TaskDefinition: tdPrefix + td, DesiredCount: count}
}

func intp(n int) *int { return &n }

func baseConfig(td string, desired *int) Config {
	return Config{Cluster: "prod", Name: "web", DeploymentID: "prod/web", TaskDefinition: td, DesiredCount: desired,
		Phases: pct(25, 50, 100), RetainOldServices: 3}
}

// updateInput is an update from web:7 at 4 tasks to cfg, with production live at live tasks.
func updateInput(cfg Config, live int, mutate ...func(*PreviewInput)) PreviewInput {
	prior := baseConfig("web:7", intp(4))
	st := State{Current: ref(7, 4, "web:7"), Previous: ref(6, 4, "web:6"), HighestRevision: 7}
	fp6, _ := Fingerprint("web:6", ServiceTemplate{})
	prod := ref(7, live, "web:7")
	in := PreviewInput{
		Config: cfg, Prior: &prior, State: st, Fingerprints: map[string]string{"web__6": fp6},
		View: &View{Production: prod, Previous: ref(6, 0, "web:6"), HighestRevision: 7, NextRevision: 8, ServiceARNPrefix: svcPrefix},
	}
	for _, m := range mutate {
		m(&in)
	}
	return in
}

func withScaling(in *PreviewInput) {
	a := &AutoScaling{Min: 2, Max: 10}
	in.Config.AutoScaling, in.Prior.AutoScaling, in.State.AutoScaling = a, a, a
}

// phaseValues renders planned phases as "new/old" pairs, "?" for an uncertain value.
func phaseValues(ps []PlannedPhase) string {
	var out []string
	for _, p := range ps {
		out = append(out, knownText(p.New)+"/"+knownText(p.Old))
	}
	return strings.Join(out, " ")
}

func knownText[T comparable](k Known[T]) string {
	if !k.Certain {
		return "?"
	}
	return fmt.Sprint(k.Value)
}

func TestPreviewOperation(t *testing.T) {
	tests := []struct {
		name     string
		in       PreviewInput
		action   Action
		current  string // service_name/revision/desired_count, "?" for uncertain
		previous string // service_name/desired_count, "null", or "?" for an unknown object
		phases   string
		notes    []string // summaries
	}{
		{
			name:   "a new task definition deploys the next free revision from production's count, all of it certain without auto scaling",
			in:     updateInput(baseConfig("web:8", intp(4)), 4),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/4", phases: "1/3 2/2 4/0",
		},
		{
			name:   "production scaled down by hand still counts at its recorded count, since setup restores it first",
			in:     updateInput(baseConfig("web:8", nil), 2),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/4", phases: "1/3 2/2 4/0",
		},
		{
			name:   "production scaled up by hand counts at its live count, so capacity never dips below it",
			in:     updateInput(baseConfig("web:8", intp(4)), 6),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/6", phases: "1/5 2/3 4/0",
		},
		{
			name:   "with auto scaling on production its count is uncertain, so the old side's counts are too, but the new side's and the final zero are not",
			in:     updateInput(baseConfig("web:8", intp(4)), 7, withScaling),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/?", phases: "1/? 2/? 4/0",
		},
		{
			name:   "with auto scaling and no desired_count the new revision takes the count auto scaling chose, which the plan cannot promise",
			in:     updateInput(baseConfig("web:8", nil), 7, withScaling),
			action: ActionDeploy, current: "web__8/8/?", previous: "web__7/?", phases: "?/? ?/? ?/0",
			notes: []string{"Auto Scaling Decides the Count"},
		},
		{
			name: "a name held by someone else is skipped",
			in: updateInput(baseConfig("web:8", intp(4)), 4, func(in *PreviewInput) {
				in.View.NextRevision = 9
			}),
			action: ActionDeploy, current: "web__9/9/4", previous: "web__7/4", phases: "1/3 2/2 4/0",
		},
		{
			name:   "the previous configuration again is a post-production rollback to the previous service at its recorded count",
			in:     updateInput(baseConfig("web:6", nil), 4),
			action: ActionRollback, current: "web__6/6/4", previous: "web__7/4", phases: "4/0",
		},
		{
			name:   "a post-production rollback with desired_count set brings the previous service to that count",
			in:     updateInput(baseConfig("web:6", intp(5)), 4),
			action: ActionRollback, current: "web__6/6/5", previous: "web__7/4", phases: "5/0",
		},
		{
			name: "a post-production rollback whose previous service is gone deploys a new revision and says why",
			in: updateInput(baseConfig("web:6", nil), 4, func(in *PreviewInput) {
				in.View.Previous = nil
			}),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/4", phases: "1/3 2/2 4/0",
			notes: []string{"Previous Service Gone"},
		},
		{
			name: "the previous configuration again deploys a new revision when the previous service was switched to another task definition since",
			in: updateInput(baseConfig("web:6", nil), 4, func(in *PreviewInput) {
				in.State.Previous.TaskDefinition = tdPrefix + "web:9"
			}),
			action: ActionDeploy, current: "web__8/8/4", previous: "web__7/4", phases: "1/3 2/2 4/0",
		},
		{
			name:   "a new desired_count alone scales production in place, and the count is certain",
			in:     updateInput(baseConfig("web:7", intp(6)), 4),
			action: ActionScale, current: "web__7/7/6", previous: "web__6/4", phases: "",
		},
		{
			name:   "a new desired_count with auto scaling is clamped to its range",
			in:     updateInput(baseConfig("web:7", intp(12)), 4, withScaling),
			action: ActionScale, current: "web__7/7/10", previous: "web__6/4", phases: "",
		},
		{
			name: "an auto scaling change whose count auto scaling moved does not promise the count",
			in: updateInput(baseConfig("web:7", intp(4)), 7, withScaling, func(in *PreviewInput) {
				in.Config.AutoScaling = &AutoScaling{Min: 2, Max: 12}
			}),
			action: ActionUpdateInPlace, current: "web__7/7/?", previous: "web__6/4", phases: "",
			notes: []string{"Auto Scaling Decides the Count"},
		},
		{
			name: "auto scaling removed with desired_count set brings production to that count",
			in: updateInput(baseConfig("web:7", intp(4)), 7, withScaling, func(in *PreviewInput) {
				in.Config.AutoScaling = nil
			}),
			action: ActionUpdateInPlace, current: "web__7/7/4", previous: "web__6/4", phases: "",
		},
		{
			name: "a change of phases alone changes state only, and keeps the last rollout's phases",
			in: updateInput(baseConfig("web:7", intp(4)), 4, func(in *PreviewInput) {
				in.Config.Phases = pct(100)
			}),
			action: ActionNone, current: "web__7/7/4", previous: "web__6/4", phases: "",
		},
		{
			name: "without a refreshed view the rollout's live-dependent values are unknown",
			in: updateInput(baseConfig("web:8", intp(4)), 4, func(in *PreviewInput) {
				in.View = nil
			}),
			action: ActionDeploy, current: "?/?/4", previous: "web__7/?", phases: "1/? 2/? 4/0",
		},
		{
			name: "a create's plan knows the new revision's counts but not whether earlier services hold tasks",
			in: PreviewInput{Config: func() Config {
				c := baseConfig("web:1", intp(4))
				return c
			}()},
			action: ActionCreate, current: "?/?/4", previous: "?", phases: "1/? 2/? 4/0",
		},
		{
			name:   "a create that finds nothing of the deployment at apply starts from zero",
			in:     PreviewInput{Config: baseConfig("web:1", intp(4)), View: &View{NextRevision: 1, ServiceARNPrefix: svcPrefix}},
			action: ActionCreate, current: "web__1/1/4", previous: "null", phases: "1/0 2/0 4/0",
		},
		{
			name:   "a create that finds a revision of an interrupted earlier apply holding tasks shifts from it",
			in:     PreviewInput{Config: baseConfig("web:1", intp(4)), View: &View{Production: ref(1, 4, "web:1"), HighestRevision: 1, NextRevision: 2, ServiceARNPrefix: svcPrefix}},
			action: ActionCreate, current: "web__2/2/4", previous: "web__1/?", phases: "1/? 2/? 4/0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pv, err := PreviewOperation(tc.in)
			if err != nil {
				t.Fatalf("PreviewOperation: %v", err)
			}
			if pv.Action != tc.action {
				t.Errorf("action %s, want %s", pv.Action, tc.action)
			}
			cur := knownText(pv.Current.Name) + "/" + knownText(pv.Current.Revision) + "/" + knownText(pv.Current.DesiredCount)
			if cur != tc.current {
				t.Errorf("current %s, want %s", cur, tc.current)
			}
			prev := "?"
			switch {
			case pv.Previous.Certain && pv.Previous.Value == nil:
				prev = "null"
			case pv.Previous.Certain:
				prev = knownText(pv.Previous.Value.Name) + "/" + knownText(pv.Previous.Value.DesiredCount)
			}
			if prev != tc.previous {
				t.Errorf("previous %s, want %s", prev, tc.previous)
			}
			if got := phaseValues(pv.Phases); got != tc.phases {
				t.Errorf("phases %q, want %q", got, tc.phases)
			}
			var notes []string
			for _, n := range pv.Notes {
				notes = append(notes, n.Summary)
			}
			if strings.Join(notes, ",") != strings.Join(tc.notes, ",") {
				t.Errorf("notes %v, want %v", notes, tc.notes)
			}
		})
	}
}

func TestPreviewOperation_keepsTheLastRolloutsPhasesWhenNothingRollsOut(t *testing.T) {
	in := updateInput(baseConfig("web:7", intp(4)), 4, func(in *PreviewInput) { in.Config.RetainOldServices = 5 })
	pv, err := PreviewOperation(in)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Phases != nil || pv.RollsOut {
		t.Errorf("phases %v, rolls out %v: a state-only change must keep the last rollout's phases and record", pv.Phases, pv.RollsOut)
	}
}

func TestPreviewOperation_inputErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    PreviewInput
		field string
	}{
		{
			name:  "a first deployment without desired_count is an error on desired_count",
			in:    PreviewInput{Config: baseConfig("web:1", nil)},
			field: "desired_count",
		},
		{
			name: "a last phase that falls short of a certain count is an error on phase",
			in: updateInput(baseConfig("web:8", intp(4)), 4, func(in *PreviewInput) {
				in.Config.Phases = []Phase{{Count: 1}, {Count: 2}}
			}),
			field: "phase",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PreviewOperation(tc.in)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("error %v, want an *InputError on %s", err, tc.field)
			}
		})
	}
}

func TestPreviewOperation_aLastPhaseThatMayFallShortIsAWarningAtPlanAndAnErrorAtApply(t *testing.T) {
	in := updateInput(baseConfig("web:8", nil), 7, withScaling, func(in *PreviewInput) {
		in.Config.Phases = []Phase{{Count: 2}, {Count: 5}}
	})
	pv, err := PreviewOperation(in)
	if err != nil {
		t.Fatalf("the plan refused a count that may still move: %v", err)
	}
	if len(pv.Notes) == 0 || pv.Notes[len(pv.Notes)-1].Summary != "Last Phase May Fall Short" {
		t.Errorf("notes %+v, want a warning that the last phase may fall short", pv.Notes)
	}
	var ie *InputError
	if !errors.As(pv.err, &ie) || ie.Field != "phase" {
		t.Errorf("the error apply refuses with is %v, want an *InputError on phase", pv.err)
	}
}

func TestPreviewCheck(t *testing.T) {
	plan, err := PreviewOperation(updateInput(baseConfig("web:8", intp(4)), 4))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		live PreviewInput
		want []string // fragments of the changes, none when the plan holds
	}{
		{name: "the same live view holds the plan", live: updateInput(baseConfig("web:8", intp(4)), 4)},
		{
			name: "production scaled up by hand after the plan changes the old side's counts",
			live: updateInput(baseConfig("web:8", intp(4)), 6),
			want: []string{"previous.desired_count: the plan has 4, apply finds 6", "planned_phases[0].old_count: the plan has 3, apply finds 5"},
		},
		{
			name: "a foreign service that took the next name after the plan changes the revision",
			live: updateInput(baseConfig("web:8", intp(4)), 4, func(in *PreviewInput) { in.View.NextRevision = 9 }),
			want: []string{"current.service_name: the plan has web__8, apply finds web__9", "highest_revision: the plan has 8, apply finds 9"},
		},
		{
			name: "production's task definition changed outside after the plan",
			live: updateInput(baseConfig("web:8", intp(4)), 4, func(in *PreviewInput) { in.View.Production.TaskDefinition = tdPrefix + "web:5" }),
			want: []string{"previous.task_definition"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now, err := PreviewOperation(tc.live)
			if err != nil {
				t.Fatal(err)
			}
			err = plan.Check(now)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v, want the plan to hold", err)
				}
				return
			}
			var se *StalePlanError
			if !errors.As(err, &se) {
				t.Fatalf("Check: %v, want a *StalePlanError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	t.Run("a scale whose production was switched to another task definition after the plan is refused", func(t *testing.T) {
		plan, err := PreviewOperation(updateInput(baseConfig("web:7", intp(6)), 4))
		if err != nil {
			t.Fatal(err)
		}
		now, err := PreviewOperation(updateInput(baseConfig("web:7", intp(6)), 4, func(in *PreviewInput) {
			in.View.Production.TaskDefinition = tdPrefix + "web:5"
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := plan.Check(now); err == nil || !strings.Contains(err.Error(), "current.task_definition: the plan has "+tdPrefix+"web:7, apply finds "+tdPrefix+"web:5") {
			t.Errorf("Check: %v, want a refusal naming current.task_definition", err)
		}
	})
	t.Run("uncertain values are not promised, so auto scaling may move them", func(t *testing.T) {
		plan, err := PreviewOperation(updateInput(baseConfig("web:8", intp(4)), 7, withScaling))
		if err != nil {
			t.Fatal(err)
		}
		now, err := PreviewOperation(updateInput(baseConfig("web:8", intp(4)), 9, withScaling))
		if err != nil {
			t.Fatal(err)
		}
		if err := plan.Check(now); err != nil {
			t.Errorf("Check: %v, want the plan to hold", err)
		}
	})
	t.Run("a rollback whose previous service was deleted after the plan is refused with the reason", func(t *testing.T) {
		plan, err := PreviewOperation(updateInput(baseConfig("web:6", nil), 4))
		if err != nil {
			t.Fatal(err)
		}
		now, err := PreviewOperation(updateInput(baseConfig("web:6", nil), 4, func(in *PreviewInput) { in.View.Previous = nil }))
		if err != nil {
			t.Fatal(err)
		}
		err = plan.Check(now)
		if err == nil || !strings.Contains(err.Error(), "the plan has rollback, apply finds deploy") || !strings.Contains(err.Error(), "web__6 no longer exists") {
			t.Errorf("Check: %v, want a refusal naming the action and the gone service", err)
		}
	})
}

func TestSameTaskDefinition(t *testing.T) {
	tests := []struct {
		name              string
		configured, other string
		want              bool
	}{
		{"family:revision matches the ARN of that revision", "web:3", tdPrefix + "web:3", true},
		{"family:revision does not match another revision", "web:3", tdPrefix + "web:4", false},
		{"a family alone matches any revision of it", "web", tdPrefix + "web:9", true},
		{"a family alone does not match another family", "web", tdPrefix + "api:9", false},
		{"an ARN matches family:revision", tdPrefix + "web:3", "web:3", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SameTaskDefinition(tc.configured, tc.other); got != tc.want {
				t.Errorf("SameTaskDefinition(%q, %q) = %v, want %v", tc.configured, tc.other, got, tc.want)
			}
		})
	}
}

func TestFingerprint_isTheSameForEveryFormOfOneTaskDefinitionAndDiffersWithTheTemplate(t *testing.T) {
	a, err := Fingerprint("web:3", ServiceTemplate{Tags: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Fingerprint(tdPrefix+"web:3", ServiceTemplate{Tags: map[string]string{"a": "1", "b": "2"}})
	c, _ := Fingerprint("web:3", ServiceTemplate{Tags: map[string]string{"a": "1"}})
	if a != b {
		t.Errorf("%s != %s: an ARN and family:revision of one task definition must fingerprint alike", a, b)
	}
	if a == c {
		t.Errorf("a different service template fingerprints like the first: %s", a)
	}
}

// TestPreviewOperation_unmanagedScaling: a plan for a rollout warns about the scaling policies
// and scheduled actions on production that neither the configuration nor state describes, and
// apply refuses with that error unless auto_scaling.discard_unmanaged says to drop them
// (DESIGN.md §5.6.4).
func TestPreviewOperation_unmanagedScaling(t *testing.T) {
	live := &ScalingView{
		Policies:         []ScalingPolicyRef{{Name: "cpu60", Type: "TargetTrackingScaling"}, {Name: "burst", Type: "StepScaling"}, {Name: "forecast", Type: "PredictiveScaling"}},
		ScheduledActions: []string{"morning", "nightly"},
	}
	deploying := func(mutate ...func(*PreviewInput)) PreviewInput {
		return updateInput(baseConfig("web:8", intp(4)), 4, append([]func(*PreviewInput){withScaling, func(in *PreviewInput) {
			// State recorded cpu60 and morning; the configuration renames morning to mornings.
			in.State.AutoScaling = &AutoScaling{Min: 2, Max: 10, TargetTracking: []TargetTracking{{Name: "cpu60"}},
				ScheduledActions: []ScheduledAction{{Name: "morning"}}}
			in.Config.AutoScaling = &AutoScaling{Min: 2, Max: 10, TargetTracking: []TargetTracking{{Name: "cpu60"}},
				ScheduledActions: []ScheduledAction{{Name: "mornings"}}}
			in.View.ProductionScaling = live
		}}, mutate...)...)
	}
	const unmanaged = "step scaling policy burst, predictive scaling policy forecast, scheduled action nightly"

	pv, err := PreviewOperation(deploying())
	if err != nil {
		t.Fatal(err)
	}
	var ie *InputError
	if pv.Action != ActionDeploy || !errors.As(pv.err, &ie) || ie.Field != "auto_scaling" || !strings.Contains(ie.Message, unmanaged) {
		t.Errorf("action %s, apply error %v; want a deploy that apply refuses naming %s", pv.Action, pv.err, unmanaged)
	}
	if len(pv.Notes) != 1 || pv.Notes[0].Field != "auto_scaling" || pv.Notes[0].Summary != "Unmanaged Auto Scaling on Production" || !strings.Contains(pv.Notes[0].Detail, unmanaged) {
		t.Errorf("notes %+v, want one warning on auto_scaling naming %s", pv.Notes, unmanaged)
	}

	pv, err = PreviewOperation(deploying(func(in *PreviewInput) { in.Config.DiscardUnmanagedScaling = true }))
	if err != nil {
		t.Fatal(err)
	}
	if pv.err != nil || len(pv.Notes) != 1 || pv.Notes[0].Summary != "Unmanaged Auto Scaling Will Be Dropped" || !pv.Notes[0].AtApply || !strings.Contains(pv.Notes[0].Detail, unmanaged) {
		t.Errorf("apply error %v, notes %+v; want no error and a warning, at apply too, naming %s", pv.err, pv.Notes, unmanaged)
	}

	// An auto scaling change in place moves nothing: no warning.
	pv, err = PreviewOperation(deploying(func(in *PreviewInput) { in.Config.TaskDefinition = "web:7" }))
	if err != nil {
		t.Fatal(err)
	}
	if pv.Action != ActionUpdateInPlace || pv.err != nil || len(pv.Notes) > 1 {
		t.Errorf("action %s, apply error %v, notes %+v; want an update in place with no unmanaged warning", pv.Action, pv.err, pv.Notes)
	}
	for _, n := range pv.Notes {
		if n.Field == "auto_scaling" {
			t.Errorf("an update in place warns %+v", n)
		}
	}
}

// TestCheckAdoptable_deploymentController: a service that CodeDeploy or an external controller
// deploys is not adopted (ecslocal emulates only the ECS controller, so this check is tested
// on the DescribeServices shape itself).
func TestCheckAdoptable_deploymentController(t *testing.T) {
	cfg := Config{Name: "web", DeploymentID: "prod/web", Adopt: "web"}
	for _, ctl := range []types.DeploymentControllerType{types.DeploymentControllerTypeCodeDeploy, types.DeploymentControllerTypeExternal} {
		svc := &types.Service{ServiceName: aws.String("web"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(tdPrefix + "web:1"),
			DeploymentController: &types.DeploymentController{Type: ctl}}
		err := checkAdoptable(cfg, svc, "web")
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "adopt.service_name" || !strings.Contains(err.Error(), "uses the "+string(ctl)+" deployment controller") {
			t.Errorf("%s: error %v, want a refusal naming the controller", ctl, err)
		}
	}
	ecsSvc := &types.Service{ServiceName: aws.String("web"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(tdPrefix + "web:1"),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeEcs}}
	if err := checkAdoptable(cfg, ecsSvc, "web"); err != nil {
		t.Errorf("an ECS-controlled service of family web: %v", err)
	}
}

// TestPreviewOperation_adopt: an adopting create previews a rollout from the adopted service,
// which becomes previous at revision 0. Its count is read by the plan itself, so it is never
// promised (Terraform plans a create again at apply, without that read): the counts that follow
// from it are unknown, the notes say what they are now, and which settings were copied.
func TestPreviewOperation_adopt(t *testing.T) {
	web := ServiceRef{Name: "web", ARN: svcPrefix + "web", TaskDefinition: tdPrefix + "web:3", DesiredCount: 4}
	in := func(desired *int, autoScaled bool) PreviewInput {
		cfg := baseConfig("web:8", desired)
		cfg.Adopt = "web"
		return PreviewInput{Config: cfg, View: &View{
			Production: &web, NextRevision: 1, ServiceARNPrefix: svcPrefix, ProductionScaling: &ScalingView{},
			Adopted: &AdoptedService{ServiceRef: web, Live: 4, AutoScaled: autoScaled, Copied: []string{"launch_type", "load_balancer"}},
		}}
	}
	pv, err := PreviewOperation(in(intp(4), false))
	if err != nil {
		t.Fatal(err)
	}
	prev := pv.Previous.Value
	if pv.Action != ActionAdopt || pv.Current.Name.Value != "web__1" || !pv.Current.DesiredCount.Certain || pv.Current.DesiredCount.Value != 4 ||
		phaseValues(pv.Phases) != "1/? 2/? 4/0" || prev == nil || prev.Name.Value != "web" || prev.Revision.Value != 0 || prev.DesiredCount.Certain {
		t.Errorf("action %s, current %+v, phases %s, previous %+v; want adopt: web__1 at 4 over web (revision 0) at a count not promised, phases 1/? 2/? 4/0", pv.Action, pv.Current, phaseValues(pv.Phases), prev)
	}
	if len(pv.Notes) != 2 || pv.Notes[0].Field != "adopt" || !strings.Contains(pv.Notes[0].Detail, "web runs 4 tasks now; from that count the phases are 1/3, 2/2, 4/0") ||
		!strings.Contains(pv.Notes[1].Detail, "launch_type, load_balancer") {
		t.Errorf("notes %+v, want the phases at the current count and the copied settings, on adopt", pv.Notes)
	}
	pv, err = PreviewOperation(in(nil, true))
	if err != nil {
		t.Fatal(err)
	}
	if pv.Current.DesiredCount.Certain || phaseValues(pv.Phases) != "?/? ?/? ?/0" || !strings.Contains(pv.Notes[0].Detail, "which its auto scaling may also move") {
		t.Errorf("desired_count unset over an auto-scaled service: count %+v, phases %s, notes %+v; want the count and phases unknown (but the last phase empties web)", pv.Current.DesiredCount, phaseValues(pv.Phases), pv.Notes)
	}
}
