package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/phased-ecs/terraform-provider-ecs/internal/deploy"
	"github.com/phased-ecs/terraform-provider-ecs/internal/ecslocal"
)

// TestDifferential_planEqualsApply drives real Terraform through random sequences against
// ecslocal and checks after every step that what the plan showed is what apply did (DESIGN.md
// §11). A sequence creates the deployment and then runs DIFF_STEPS steps (default 6); each step
// changes the configuration at random (task definition forward, back or to a crashing one,
// desired_count, auto_scaling, the service template, phases, retain_old_services, the rollback
// mode, or nothing), runs `terraform plan -out=tfplan`, sometimes changes what is live the way a
// person or auto scaling would (auto scaling moves production, production scaled by hand or
// switched to another task definition, the previous service deleted, a foreign service taking
// the next revision's name), runs `terraform apply tfplan`, and checks:
//
//  1. Terraform never reports "Provider produced inconsistent" (result after apply, or final
//     plan) nor "This is a bug in the provider"; a plan succeeds and writes nothing.
//  2. An apply fails only as a rollout rolled back ("Deployment Rolled Back", when the step
//     deploys the crash-on-start revision) or as a refusal ("Plan Out of Date") after an outside
//     event; a refused apply makes no write call. The provider never writes to a foreign service.
//  3. After a successful apply, `terraform plan -detailed-exitcode` finds nothing to change.
//  4. State matches ecslocal: production (current) is ACTIVE, owned, runs current.task_definition
//     at current.desired_count (within the auto scaling range when auto_scaling is set) with
//     the configured auto scaling on it alone; every other owned service is at 0; previous names
//     an ACTIVE owned service.
//
// An outside change that an apply did not see (its plan changed nothing, or its action makes no
// AWS call) is the same as a change made right after it: until an apply has called AWS again,
// checks 3 and 4 leave out what such a change moves (counts, task definitions, auto scaling),
// and a recorded previous service the test deleted itself is left out of check 4 (DESIGN.md
// §10.1 keeps it recorded).
//
// The sequence of seed s is a pure function of s (math/rand/v2, PCG). The default run uses seeds
// DIFF_SEED_BASE (default 1) onwards, DIFF_SEQUENCES (default 50) of them, DIFF_PARALLEL (default
// 6) at a time; DIFF_SEED=<n> replays sequence n alone.
func TestDifferential_planEqualsApply(t *testing.T) {
	requireAcc(t)
	t.Parallel()
	started := time.Now()
	steps := diffEnvInt(t, "DIFF_STEPS", 6)
	var seeds []uint64
	if s := os.Getenv("DIFF_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DIFF_SEED=%q: %v", s, err)
		}
		seeds = []uint64{n}
	} else {
		base := diffEnvInt(t, "DIFF_SEED_BASE", 1)
		for i := range diffEnvInt(t, "DIFF_SEQUENCES", 50) {
			seeds = append(seeds, uint64(base+i))
		}
	}
	var names []string
	for _, s := range seeds {
		names = append(names, fmt.Sprintf("seed=%d", s))
	}
	var tot diffTotals
	concurrently(t, diffEnvInt(t, "DIFF_PARALLEL", 6), names, func(t *testing.T, i int) {
		runDiffSequence(t, seeds[i], steps, &tot)
	})
	t.Logf("differential: %d sequences, %d steps (%d with an outside event applied), %d terraform commands, %d applies refused (Plan Out of Date), %d rollouts rolled back, %d findings, %s; successful applies by planned_action: %s",
		tot.sequences.Load(), tot.steps.Load(), tot.events.Load(), tot.commands.Load(), tot.refused.Load(), tot.rolledBack.Load(), tot.findings.Load(), time.Since(started).Round(time.Second), tot.actionCounts())
}

func diffEnvInt(t *testing.T, key string, def int) int {
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", key, s)
	}
	return n
}

type diffTotals struct {
	sequences, steps, events, commands, refused, rolledBack, findings atomic.Int64

	mu      sync.Mutex
	actions map[string]int // successful applies by planned_action
}

func (t *diffTotals) count(action string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.actions == nil {
		t.actions = map[string]int{}
	}
	t.actions[action]++
}

func (t *diffTotals) actionCounts() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(t.actions)) {
		parts = append(parts, fmt.Sprintf("%s %d", a, t.actions[a]))
	}
	return strings.Join(parts, ", ")
}

// diffRun is one sequence being run.
type diffRun struct {
	t     *testing.T
	seed  uint64
	e     *env
	w     *workspace
	tot   *diffTotals
	done  []string // the steps so far, for failure messages
	steps int      // the sequence's length without the create, for the replay command

	foreign map[string]bool // services the test created without our tag
	deleted map[string]bool // owned services the test deleted
	// unseen says that an outside change happened that no apply has called AWS since.
	unseen bool
}

// writeOps are the operations a refused apply must not call.
var writeOps = []string{"CreateService", "UpdateService", "DeleteService", "TagResource", "UntagResource",
	"RegisterScalableTarget", "DeregisterScalableTarget", "PutScalingPolicy", "DeleteScalingPolicy"}

func runDiffSequence(t *testing.T, seed uint64, steps int, tot *diffTotals) {
	runDiffScript(t, seed, genSequence(seed, steps), tot)
}

// runDiffScript runs seq, the steps of sequence seed: a generated sequence, or one written out
// to reproduce a finding.
func runDiffScript(t *testing.T, seed uint64, seq []diffStep, tot *diffTotals) {
	// The time scale makes AWS's own delays short: RegisterScalableTarget moves a count into a
	// new range through a scaling activity 5 s after the call, 50 ms here.
	e := newEnv(t, ecslocal.Options{StartDelay: 5 * time.Millisecond, StopDelay: 2 * time.Millisecond, TimeScale: 0.01})
	td := func(label string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"family":"web","containerDefinitions":[{"name":"web","image":"nginx","dockerLabels":{"ecslocal.behavior":%q}}]}`, label))
	}
	if err := e.srv.ApplySeed(ecslocal.Seed{TaskDefinitions: []json.RawMessage{td("healthy"), td("healthy")}}); err != nil { // web:4, web:5
		t.Fatal(err)
	}
	d := &diffRun{t: t, seed: seed, e: e, w: newWorkspace(t), tot: tot, steps: len(seq) - 1, foreign: map[string]bool{}, deleted: map[string]bool{}}
	tot.sequences.Add(1)
	var kinds []string
	outcome := "ok"
	for i, st := range seq {
		res, ok := d.step(i, st)
		kinds = append(kinds, res)
		if !ok {
			outcome = "FINDING at step " + strconv.Itoa(i)
			break
		}
	}
	if outcome == "ok" && (d.unseen || strings.HasSuffix(kinds[len(kinds)-1], "!refused") || strings.HasSuffix(kinds[len(kinds)-1], "!rolled-back")) {
		// Settle: the same configuration once more, with nothing changed outside.
		cfg := seq[len(seq)-1].cfg
		if cfg.crash() { // back to what state records
			cfg.td = str(d.w.state().attrs("web"), "task_definition")
		}
		res, ok := d.step(len(seq), diffStep{change: "settle", cfg: cfg})
		kinds = append(kinds, res)
		if !ok {
			outcome = "FINDING at the settle step"
		}
	}
	t.Logf("seed=%d %s: %s", seed, outcome, strings.Join(kinds, " | "))
}

// finding reports a failed invariant with everything needed to replay it, and ends the sequence.
func (d *diffRun) finding(step int, what, out string) {
	d.t.Helper()
	d.tot.findings.Add(1)
	d.t.Errorf("FINDING seed=%d step %d: %s\nsteps so far:\n  %s\nreplay: DIFF_SEED=%d DIFF_STEPS=%d TF_ACC=1 go test -count=1 -run TestDifferential -v ./internal/e2e/\n%s",
		d.seed, step, what, strings.Join(d.done, "\n  "), d.seed, d.steps, tail(out))
}

// tf runs one terraform command and returns its exit code, output and the AWS calls it made.
func (d *diffRun) tf(args ...string) (int, string, []ecslocal.Call) {
	d.tot.commands.Add(1)
	from := d.e.lastSeq()
	code, out := d.w.run(args...)
	var calls []ecslocal.Call
	for _, c := range d.e.srv.Calls() {
		if c.Seq > from {
			calls = append(calls, c)
		}
	}
	return code, out, calls
}

// badOutput is what Terraform prints when the provider broke its own plan.
func badOutput(out string) string {
	for _, s := range []string{"Provider produced inconsistent", "This is a bug in the provider", "panic:"} {
		if strings.Contains(out, s) {
			return s
		}
	}
	return ""
}

// writesOf lists the write calls among calls.
func writesOf(calls []ecslocal.Call) []string {
	var out []string
	for _, c := range calls {
		if c.Write || slices.Contains(writeOps, c.Operation) {
			out = append(out, c.Action()+" "+c.Resource)
		}
	}
	return out
}

// checkCommand runs the checks every command gets: no broken plan reported, no write to a
// foreign service.
func (d *diffRun) checkCommand(step int, what string, out string, calls []ecslocal.Call) bool {
	if s := badOutput(out); s != "" {
		d.finding(step, fmt.Sprintf("%s printed %q", what, s), out)
		return false
	}
	for _, c := range calls {
		if !c.Write && !slices.Contains(writeOps, c.Operation) {
			continue
		}
		for _, n := range resourceNames(c.Resource) {
			if d.foreign[n] {
				d.finding(step, fmt.Sprintf("%s wrote to foreign service %s: %s", what, n, c.Action()), out)
				return false
			}
		}
	}
	return true
}

// step runs one step and returns its description for the log and whether every check held.
func (d *diffRun) step(i int, st diffStep) (string, bool) {
	t := d.t
	t.Helper()
	d.tot.steps.Add(1)
	desc := fmt.Sprintf("%d:%s", i, st.change)
	d.done = append(d.done, fmt.Sprintf("step %d: %s -> %s", i, st.change, st.cfg.summary()))
	d.w.write(providerBlock(d.e.url) + st.cfg.hcl())

	// (2) plan
	code, out, calls := d.tf("plan", "-out=tfplan", "-input=false", "-no-color")
	if !d.checkCommand(i, "terraform plan", out, calls) {
		return desc + "!finding", false
	}
	if code != 0 {
		d.finding(i, fmt.Sprintf("terraform plan exited %d", code), out)
		return desc + "!finding", false
	}
	if w := writesOf(calls); len(w) > 0 {
		d.finding(i, fmt.Sprintf("terraform plan made write calls: %v", w), out)
		return desc + "!finding", false
	}
	noChanges := strings.Contains(out, "No changes.")

	// (3) the outside event
	ev := d.event(st)
	if ev != "" {
		d.tot.events.Add(1)
		desc += "+" + ev
		d.done[len(d.done)-1] += " | outside: " + ev
	}

	// (4) apply the saved plan
	code, out, calls = d.tf("apply", "-input=false", "-no-color", "tfplan")
	if !d.checkCommand(i, "terraform apply", out, calls) {
		return desc + "!finding", false
	}
	outcome := "ok"
	if code != 0 {
		errs := strings.Count(out, "Error: ")
		switch {
		case errs == 1 && strings.Contains(out, "Error: Plan Out of Date"):
			outcome = "refused"
			if w := writesOf(calls); len(w) > 0 {
				d.finding(i, fmt.Sprintf("the refused apply made write calls: %v", w), out)
				return desc + "!finding", false
			}
			if ev == "" {
				d.finding(i, "the apply was refused as Plan Out of Date although nothing changed outside since the plan", out)
				return desc + "!finding", false
			}
			d.tot.refused.Add(1)
		case errs == 1 && strings.Contains(out, "Error: Deployment Rolled Back") && st.cfg.crash():
			outcome = "rolled-back"
			d.tot.rolledBack.Add(1)
		default:
			d.finding(i, fmt.Sprintf("terraform apply exited %d with an error that is neither a rollback of a crashing revision nor a refusal", code), out)
			return desc + "!finding", false
		}
	}
	label := outcome
	if outcome == "ok" {
		action := str(d.w.state().attrs("web"), "planned_action")
		if noChanges {
			action = "no-changes"
		}
		d.tot.count(action)
		label += " (" + action + ")"
		desc += "=" + action
	} else {
		desc += "!" + outcome
	}
	d.done[len(d.done)-1] += " | apply: " + label

	// Whether an outside change is still unseen by any apply.
	switch {
	case outcome == "refused":
		d.unseen = true
	case outcome == "rolled-back":
		// The rollback called AWS, but state keeps the recorded counts of before (§8.7).
		d.unseen = d.unseen || ev != ""
	case len(calls) > 0:
		d.unseen = false
	case ev != "":
		d.unseen = true
	}

	// (5) checks
	if outcome == "ok" {
		code, out, calls = d.tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
		if !d.checkCommand(i, "terraform plan -detailed-exitcode", out, calls) {
			return desc + "!finding", false
		}
		if w := writesOf(calls); len(w) > 0 {
			d.finding(i, fmt.Sprintf("terraform plan after the apply made write calls: %v", w), out)
			return desc + "!finding", false
		}
		if drifted := code == 2 && d.unseen; code != 0 && !drifted {
			d.finding(i, fmt.Sprintf("terraform plan -detailed-exitcode after a successful apply exited %d (want 0: no changes)", code), out)
			return desc + "!finding", false
		}
	}
	if problem := d.checkLive(!d.unseen); problem != "" {
		d.finding(i, "state does not match ecslocal: "+problem, d.describeLive())
		return desc + "!finding", false
	}
	return desc, true
}

// event makes the step's outside change, when it applies, and describes it ("" for none).
func (d *diffRun) event(st diffStep) string {
	t := d.t
	if st.event == evNone {
		return ""
	}
	a := d.w.state().attrs("web")
	cur, prev := obj(a, "current"), obj(a, "previous")
	prod := str(cur, "service_name")
	ps := d.e.status(prod)
	if ps == nil {
		return ""
	}
	ctx := context.Background()
	switch st.event {
	case evAutoScale:
		if ps.AutoScaling == nil {
			return ""
		}
		n := st.n + 1
		if n == ps.Desired {
			n = n%6 + 1
		}
		got, err := d.e.srv.AutoScale("prod", prod, n)
		if err != nil || got == ps.Desired {
			return ""
		}
		return fmt.Sprintf("%s %s %d->%d", st.event, prod, ps.Desired, got)
	case evManualScale:
		n := st.n + 1
		if n == ps.Desired {
			n = n%6 + 1
		}
		if _, err := d.e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String(prod), DesiredCount: aws.Int32(int32(n))}); err != nil {
			t.Fatalf("manual scale of %s: %v", prod, err)
		}
		return fmt.Sprintf("%s %s %d->%d", st.event, prod, ps.Desired, n)
	case evTDOutside:
		td := diffHealthy[st.n%len(diffHealthy)]
		if td == ps.TaskDefinition {
			td = diffHealthy[(st.n+1)%len(diffHealthy)]
		}
		if _, err := d.e.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String(prod), TaskDefinition: aws.String(td)}); err != nil {
			t.Fatalf("changing the task definition of %s: %v", prod, err)
		}
		return fmt.Sprintf("%s %s %s->%s", st.event, prod, ps.TaskDefinition, td)
	case evPrevDeleted:
		name := str(prev, "service_name")
		if s := d.e.status(name); name == "" || s == nil || s.Status != "ACTIVE" {
			return ""
		}
		if _, err := d.e.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String(name), Force: aws.Bool(true)}); err != nil {
			t.Fatalf("deleting %s: %v", name, err)
		}
		d.deleted[name] = true
		return fmt.Sprintf("%s %s", st.event, name)
	case evForeignNext:
		held := map[string]bool{}
		for _, s := range d.e.srv.Status().Services {
			held[s.Name] = true
		}
		n := num(a, "highest_revision") + 1
		for held[deploy.RevisionName("web", n)] {
			n++
		}
		name := deploy.RevisionName("web", n)
		if _, err := d.e.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(tdHealthy1), DesiredCount: aws.Int32(1),
		}); err != nil {
			t.Fatalf("creating foreign service %s: %v", name, err)
		}
		d.foreign[name] = true
		return fmt.Sprintf("%s %s", st.event, name)
	}
	return ""
}

// checkLive compares state with ecslocal (check 4) and returns the first difference, or "".
// strict also compares what outside changes move: counts, task definitions and auto scaling.
func (d *diffRun) checkLive(strict bool) string {
	st := d.w.state()
	a := st.attrs("web")
	if a == nil {
		return "no ecs_phased_deployment.web in state"
	}
	cur, prev := obj(a, "current"), obj(a, "previous")
	name := str(cur, "service_name")
	if name == "" || str(a, "service_name") != name || str(a, "service_arn") != str(cur, "service_arn") || num(a, "revision") != num(cur, "revision") {
		return fmt.Sprintf("service_name %q, service_arn %q, revision %d do not match current %v", str(a, "service_name"), str(a, "service_arn"), num(a, "revision"), cur)
	}
	if h := num(a, "highest_revision"); h < num(cur, "revision") || (prev != nil && h < num(prev, "revision")) {
		return fmt.Sprintf("highest_revision %d is below a recorded revision", h)
	}
	owner := "prod/web"
	s := d.e.status(name)
	if s == nil || s.Status != "ACTIVE" || s.Tags[deploy.OwnerTag] != owner {
		return fmt.Sprintf("current %s is not an ACTIVE owned service: %+v", name, s)
	}
	if prev != nil {
		pn := str(prev, "service_name")
		if pn == name {
			return "previous and current name the same service " + pn
		}
		if ps := d.e.status(pn); !d.deleted[pn] && (ps == nil || ps.Status != "ACTIVE" || ps.Tags[deploy.OwnerTag] != owner) {
			return fmt.Sprintf("previous %s is not an ACTIVE owned service: %+v", pn, ps)
		}
	}
	for _, f := range d.e.srv.Status().Services {
		if d.foreign[f.Name] && (f.Status != "ACTIVE" || f.Desired != 1 || f.Tags[deploy.OwnerTag] != "") {
			return fmt.Sprintf("foreign service %s changed: %+v", f.Name, f)
		}
	}
	if !strict {
		return ""
	}
	if got := deploy.FamilyRevision(str(cur, "task_definition")); got != s.TaskDefinition {
		return fmt.Sprintf("current %s runs %s, state records %s", name, s.TaskDefinition, str(cur, "task_definition"))
	}
	as := obj(a, "auto_scaling")
	if as == nil {
		if s.Desired != num(cur, "desired_count") {
			return fmt.Sprintf("current %s is at desired count %d, state records %d", name, s.Desired, num(cur, "desired_count"))
		}
		if s.AutoScaling != nil {
			return fmt.Sprintf("current %s has auto scaling %+v, the configuration has none", name, *s.AutoScaling)
		}
	} else {
		lo, hi := num(as, "min_capacity"), num(as, "max_capacity")
		// A range that excluded the count moves it through a scaling activity that completes
		// after the registration, as on AWS: the count must be in the range once it has.
		for deadline := time.Now().Add(2 * time.Second); (s.Desired < lo || s.Desired > hi) && time.Now().Before(deadline); s = d.e.status(name) {
			time.Sleep(20 * time.Millisecond)
		}
		if s.Desired < lo || s.Desired > hi {
			return fmt.Sprintf("current %s is at desired count %d, outside auto scaling's %d..%d, 2 s after the apply", name, s.Desired, lo, hi)
		}
		var policies []string
		if tts, ok := as["target_tracking"].([]any); ok {
			for _, tt := range tts {
				if m, ok := tt.(map[string]any); ok {
					policies = append(policies, str(m, "name"))
				}
			}
		}
		slices.Sort(policies)
		if s.AutoScaling == nil || s.AutoScaling.Min != lo || s.AutoScaling.Max != hi || !slices.Equal(s.AutoScaling.Policies, policies) {
			return fmt.Sprintf("current %s has auto scaling %+v, the configuration %d..%d with policies %v", name, s.AutoScaling, lo, hi, policies)
		}
	}
	for _, o := range d.e.srv.Status().Services {
		if o.Name == name || o.Status != "ACTIVE" || o.Tags[deploy.OwnerTag] != owner {
			continue
		}
		if o.Desired != 0 || o.AutoScaling != nil {
			return fmt.Sprintf("owned service %s besides production is at desired count %d with auto scaling %+v", o.Name, o.Desired, o.AutoScaling)
		}
	}
	return ""
}

// describeLive is state's computed values and ecslocal's services, for a finding's message.
func (d *diffRun) describeLive() string {
	a := d.w.state().attrs("web")
	var b strings.Builder
	for _, k := range []string{"task_definition", "desired_count", "auto_scaling", "current", "previous", "highest_revision", "planned_action", "last_rollout"} {
		j, _ := json.Marshal(a[k])
		fmt.Fprintf(&b, "state %s = %s\n", k, j)
	}
	for _, s := range d.e.srv.Status().Services {
		fmt.Fprintf(&b, "ecslocal %s %s %s desired=%d running=%d pending=%d owner=%q scaling=%+v\n",
			s.Name, s.Status, s.TaskDefinition, s.Desired, s.Running, s.Pending, s.Tags[deploy.OwnerTag], s.AutoScaling)
	}
	return b.String()
}
