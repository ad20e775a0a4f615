package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// phaseRun is the phases that move tasks from one service to another, to finish or rollback:
// a deployment's, from production to the created revision, and a post-production rollback's,
// from the current service back to the previous one.
type phaseRun struct {
	*run
	toSvc   string // the service the phases move tasks to
	fromSvc string // the service they move tasks from; "" on a first deployment
	prod    *liveService
	rev     int // the revision of toSvc
	p       int // fromSvc's count before the phases (P)
	target  int // toSvc's count after the last phase
	phases  []PhaseCounts
	fromARN string
	// restore is the auto scaling to give the old service back after a rollback: what it had,
	// still registered and suspended for the rollout when registered is true (resuming lifts
	// the suspension); otherwise what state recorded, registered anew.
	restore    *scalingSettings
	registered bool
	// gate holds the analysis gates of a deployment's rollout; nil without analysis, and for a
	// post-production rollback, which no gate may stop.
	gate *gate
	// adopting: fromSvc is a service this rollout takes over, ours only once claimed.
	adopting, claimed bool
	started           time.Time
	// sorted holds the stopped tasks of toSvc that a phase has sorted into failures and ECS's
	// own replacements, so that a later phase does not count or read them again.
	sorted map[string]bool
}

// stageError is a failure at a known stage of a phase.
type stageError struct {
	phase int
	stage string
	err   error
}

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

func (r *phaseRun) execute(ctx context.Context) (*Result, error) {
	threshold := Threshold(r.cfg.FailedTaskThreshold, r.target)
	for i, pc := range r.phases {
		phase := i + 1
		if err := r.runPhase(ctx, phase, pc, threshold); err != nil {
			return r.fail(ctx, err)
		}
	}
	if err := r.finalWindow(ctx, threshold); err != nil {
		return r.fail(ctx, err)
	}
	// Finish: an adopted service becomes this deployment's revision 0; auto scaling onto the
	// new revision, then off the old one.
	if r.adopting {
		if err := r.claim(ctx); err != nil {
			return r.fail(ctx, &stageError{phase: len(r.phases), stage: "adopting " + r.fromSvc, err: apiFailure(ctx, err)})
		}
		r.res.Adopted = &Adoption{Service: r.fromSvc, Template: r.adoptedTemplate}
	}
	if err := r.handOverScaling(ctx); err != nil {
		return r.fail(ctx, &stageError{phase: len(r.phases), stage: "registering auto scaling on " + r.toSvc, err: apiFailure(ctx, err)})
	}
	r.res.Current = &ServiceRef{
		Name: r.toSvc, ARN: aws.ToString(r.seen[r.toSvc].ServiceArn), Revision: r.rev,
		TaskDefinition: aws.ToString(r.seen[r.toSvc].TaskDefinition), DesiredCount: r.target,
	}
	r.res.Previous = nil
	if r.prod != nil {
		r.res.Previous = &ServiceRef{
			Name: r.prod.Name, ARN: r.prod.ARN, Revision: r.prod.Revision,
			TaskDefinition: r.prod.TaskDefinition, DesiredCount: r.p,
		}
	}
	r.res.AutoScaling = r.cfg.AutoScaling
	// Retention again, now that the old production is a zero-count service too.
	inv := &inventory{taken: map[string]bool{}}
	for name := range r.desired {
		rev, ok := ParseRevision(r.cfg.Name, name)
		if !ok && r.res.Adopted != nil && name == r.res.Adopted.Service {
			rev, ok = RevisionZero, true // the adopted service, ours like any revision
		}
		if ok {
			inv.owned = append(inv.owned, &liveService{Name: name, Revision: rev})
		}
	}
	inv.sort()
	r.prune(ctx, inv, &liveService{Name: r.toSvc}, r.res.Previous)
	r.res.Rollout = &Rollout{Revision: r.rev, Status: RolloutSucceeded, StartedAt: r.started, FinishedAt: r.e.clock().Now()}
	r.step(ctx, fmt.Sprintf("revision %d is in production: %s at %d tasks", r.rev, r.toSvc, r.target), map[string]any{"service": r.toSvc, "revision": r.rev})
	r.noteDraining(ctx, r.fromSvc)
	return r.res, nil
}

// noteDraining says that the tasks a rollout or rollback scaled down behind a load balancer
// may still be draining: the waits count a task as gone once its targets start draining
// (DESIGN.md §7.5), and ECS stops it only after the target group's deregistration delay.
func (r *phaseRun) noteDraining(ctx context.Context, service string) {
	if service == "" || !r.behindLB(service) {
		return
	}
	r.step(ctx, fmt.Sprintf("the tasks %s stopped may still be draining from its target groups; ECS stops them when the deregistration delay ends, after this operation returns", service),
		map[string]any{"service": service})
}

// runPhase scales the new revision up, waits, scales the old one down, waits, and bakes.
func (r *phaseRun) runPhase(ctx context.Context, phase int, pc PhaseCounts, threshold int) error {
	r.step(ctx, fmt.Sprintf("phase %d of %d: %s to %d tasks%s", phase, len(r.phases), r.toSvc, pc.New, r.oldPart(", then ", " to ", pc.Old)),
		map[string]any{"phase": phase, "new_service": r.toSvc, "new_count": pc.New, "old_service": r.fromSvc, "old_count": pc.Old})
	w := newWatch(r.seen[r.toSvc], pc.New, threshold, r.e.clock().Now(), r.sorted)
	defer func() {
		maps.Copy(r.sorted, w.failed)
		maps.Copy(r.sorted, w.replaced)
	}()
	defer r.watchGates()()
	stage := fmt.Sprintf("scaling %s up to %d tasks", r.toSvc, pc.New)
	if err := r.scale(ctx, r.toSvc, pc.New); err != nil {
		return &stageError{phase, stage, apiFailure(ctx, err)}
	}
	if err := r.waitFor(ctx, waitStart, []goal{{name: r.toSvc, count: pc.New}}, w); err != nil {
		return &stageError{phase, stage, err}
	}
	r.gate.tasksRunning(r.e.clock().Now())
	if r.fromSvc != "" && r.desired[r.fromSvc] != pc.Old {
		stage = fmt.Sprintf("scaling %s down to %d tasks", r.fromSvc, pc.Old)
		if err := r.scale(ctx, r.fromSvc, pc.Old); err != nil {
			return &stageError{phase, stage, apiFailure(ctx, err)}
		}
		if err := r.waitFor(ctx, waitStop, []goal{{name: r.fromSvc, count: pc.Old, lb: r.behindLB(r.fromSvc)}}, w); err != nil {
			return &stageError{phase, stage, err}
		}
	}
	if bake := r.cfg.Phases; len(bake) >= phase && bake[phase-1].BakeTime > 0 {
		d := bake[phase-1].BakeTime
		stage = fmt.Sprintf("baking for %s", d)
		r.step(ctx, fmt.Sprintf("phase %d: baking %s for %s", phase, r.toSvc, d), map[string]any{"phase": phase, "bake_time": d.String()})
		seen := func(svc types.Service) { r.seen[r.toSvc] = svc }
		if err := r.wt.pause(ctx, d, goal{name: r.toSvc, count: pc.New}, w, seen); err != nil {
			return &stageError{phase, stage, err}
		}
	}
	if err := r.awaitGates(ctx, goal{name: r.toSvc, count: pc.New}, w); err != nil {
		return &stageError{phase, "waiting for the analysis metrics to pass", err}
	}
	r.step(ctx, fmt.Sprintf("phase %d of %d done: %s at %d%s", phase, len(r.phases), r.toSvc, pc.New, r.oldPart(", ", " at ", pc.Old)),
		map[string]any{"phase": phase})
	return nil
}

// watchGates makes the analysis gates part of every wait from now on, reading them at once,
// and returns what ends that.
func (r *phaseRun) watchGates() func() {
	if r.gate == nil {
		return func() {}
	}
	r.gate.startPhase(r.e.clock().Now())
	r.wt.gate = r.gate
	return func() { r.wt.gate = nil }
}

// awaitGates holds a phase until every metric check whose no_data is "wait" has passed with
// data in it, reading the gates on their cadence and watching the new revision, for at most
// steady_state_timeout.
func (r *phaseRun) awaitGates(ctx context.Context, hold goal, w *watch) error {
	if r.gate == nil {
		return nil
	}
	clock := r.e.clock()
	start := clock.Now()
	seen := func(svc types.Service) { r.seen[r.toSvc] = svc }
	for pending := r.gate.pending(); len(pending) > 0; pending = r.gate.pending() {
		if clock.Now().Sub(start) >= r.cfg.SteadyStateTimeout {
			return &PhaseFailure{Kind: FailureAnalysis, Message: fmt.Sprintf(
				"metric check %s had no data for %s within steady_state_timeout (%s); with no_data = \"wait\" a phase completes only once each check has passed with data",
				strings.Join(pending, ", "), r.toSvc, r.cfg.SteadyStateTimeout)}
		}
		if err := r.wt.pause(ctx, max(r.gate.until(clock.Now()), time.Millisecond), hold, w, seen); err != nil {
			return err
		}
	}
	return nil
}

// finalWindow watches the new revision at its full count, gates included, for the analysis's
// final window after the last phase.
func (r *phaseRun) finalWindow(ctx context.Context, threshold int) error {
	if r.gate == nil || r.cfg.Analysis.FinalWindow <= 0 {
		return nil
	}
	phase := len(r.phases)
	d := r.cfg.Analysis.FinalWindow
	stage := fmt.Sprintf("watching the final analysis window of %s", d)
	r.step(ctx, fmt.Sprintf("final analysis window: watching %s at %d tasks for %s", r.toSvc, r.target, d), map[string]any{"final_window": d.String()})
	w := newWatch(r.seen[r.toSvc], r.target, threshold, r.e.clock().Now(), r.sorted)
	defer r.watchGates()()
	hold := goal{name: r.toSvc, count: r.target}
	if err := r.wt.pause(ctx, d, hold, w, func(svc types.Service) { r.seen[r.toSvc] = svc }); err != nil {
		return &stageError{phase, stage, err}
	}
	if err := r.awaitGates(ctx, hold, w); err != nil {
		return &stageError{phase, stage, err}
	}
	return nil
}

// oldPart describes the old service's side of a phase, or nothing on a first deployment.
func (r *phaseRun) oldPart(sep, verb string, n int) string {
	if r.fromSvc == "" {
		return ""
	}
	return fmt.Sprintf("%s%s%s%d", sep, r.fromSvc, verb, n)
}

// apiFailure wraps an error of an API call as a phase failure.
func apiFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return cancelled(ctx.Err())
	}
	return &PhaseFailure{Kind: FailureAPI, Message: err.Error(), Err: err}
}

// fail rolls back after a failed phase and builds the report.
func (r *phaseRun) fail(ctx context.Context, err error) (*Result, error) {
	var se *stageError
	if !errors.As(err, &se) {
		se = &stageError{stage: "rolling out", err: err}
	}
	var pf *PhaseFailure
	if !errors.As(se.err, &pf) {
		pf = &PhaseFailure{Kind: FailureAPI, Message: se.err.Error(), Err: se.err}
	}
	re := &RolloutError{Revision: r.rev, Service: r.toSvc, Phase: se.phase, Stage: se.stage, Failure: pf}
	r.e.log().Warn(ctx, "rollout failed; rolling back", map[string]any{"revision": r.rev, "phase": se.phase, "reason": pf.Message})

	// Rollback runs on a context that a cancel does not reach, each step bounded.
	rctx := context.WithoutCancel(ctx)
	if r.fromSvc == "" {
		re.Created = true
		re.RollbackErr = r.discardNew(rctx, re)
		if re.RollbackErr != nil {
			re.Created = false
			re.Live = r.liveCounts(rctx)
		}
		return nil, re
	}
	if r.cfg.RollbackAllAtOnce {
		re.RollbackErr = r.rollbackStep(rctx, re, "rollback (all phases at once)", r.p, 0)
	} else {
		for j := max(se.phase, 1); j >= 1 && re.RollbackErr == nil; j-- {
			oldTarget, newTarget := r.p, 0
			if j > 1 {
				oldTarget, newTarget = r.phases[j-2].Old, r.phases[j-2].New
			}
			re.RollbackErr = r.rollbackStep(rctx, re, fmt.Sprintf("R%d", j), oldTarget, newTarget)
		}
	}
	if re.RollbackErr == nil {
		// Auto scaling off the new service, and the old one's resumed as it was.
		sctx, cancel := context.WithTimeout(rctx, rollbackSlack)
		err := r.e.removeScaling(sctx, r.cluster, r.toSvc)
		if err == nil {
			err = r.resumeOld(sctx)
		}
		cancel()
		switch {
		case err != nil:
			re.RollbackErr = err
		case r.restore != nil && r.registered:
			re.RollbackSteps = append(re.RollbackSteps, fmt.Sprintf("auto scaling (%d–%d) of %s resumed", r.restore.Min, r.restore.Max, r.fromSvc))
		case r.restore != nil:
			re.RollbackSteps = append(re.RollbackSteps, fmt.Sprintf("auto scaling (%d–%d) registered again on %s", r.restore.Min, r.restore.Max, r.fromSvc))
		}
	}
	if re.RollbackErr != nil {
		re.Live = r.liveCounts(rctx)
	} else {
		re.RolledBack = true
		re.Production = fmt.Sprintf("%s at %d tasks", r.fromSvc, r.p)
		if r.adopting {
			// A failed adoption leaves the adopted service as it was, and nothing of its own.
			r.unclaim(rctx)
			r.discardFailedAdoption(rctx, re)
		}
	}
	r.res.Rollout = &Rollout{Revision: r.rev, Status: RolloutRolledBack, Reason: pf.Message, StartedAt: r.started, FinishedAt: r.e.clock().Now()}
	r.e.log().Warn(ctx, "rollback finished", map[string]any{"revision": r.rev, "rolled_back": re.RolledBack})
	if re.RolledBack {
		r.noteDraining(ctx, r.toSvc)
	}
	return r.res, re
}

// rollbackStep brings the old service up to oldTarget (and waits), then the new one down to
// newTarget (and waits until no more than that run). Upscale first, so capacity never dips.
func (r *phaseRun) rollbackStep(ctx context.Context, re *RolloutError, label string, oldTarget, newTarget int) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SteadyStateTimeout+rollbackSlack)
	defer cancel()
	r.step(ctx, fmt.Sprintf("%s: %s back to %d tasks, %s down to %d", label, r.fromSvc, oldTarget, r.toSvc, newTarget),
		map[string]any{"rollback_step": label, "old_service": r.fromSvc, "old_count": oldTarget, "new_service": r.toSvc, "new_count": newTarget})
	if err := r.scale(ctx, r.fromSvc, oldTarget); err != nil {
		return err
	}
	if err := r.waitFor(ctx, waitStart, []goal{{name: r.fromSvc, count: oldTarget}}, nil); err != nil {
		return fmt.Errorf("%s: waiting for %s to %d running tasks: %w", label, r.fromSvc, oldTarget, err)
	}
	if err := r.scale(ctx, r.toSvc, newTarget); err != nil {
		return err
	}
	if err := r.waitFor(ctx, waitStop, []goal{{name: r.toSvc, count: newTarget, atMost: true, lb: r.behindLB(r.toSvc)}}, nil); err != nil {
		return fmt.Errorf("%s: waiting for %s to at most %d tasks: %w", label, r.toSvc, newTarget, err)
	}
	re.RollbackSteps = append(re.RollbackSteps, fmt.Sprintf("%s: %s at %d tasks, %s at %d", label, r.fromSvc, oldTarget, r.toSvc, newTarget))
	return nil
}

// discardNew scales a failed first deployment to 0 and deletes it: there is nothing to roll
// back to.
func (r *phaseRun) discardNew(ctx context.Context, re *RolloutError) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SteadyStateTimeout+rollbackSlack)
	defer cancel()
	r.step(ctx, fmt.Sprintf("first deployment failed: scaling %s to 0 and deleting it", r.toSvc), map[string]any{"service": r.toSvc})
	if err := r.e.removeScaling(ctx, r.cluster, r.toSvc); err != nil {
		return err
	}
	if err := r.scale(ctx, r.toSvc, 0); err != nil {
		return err
	}
	if err := r.waitFor(ctx, waitStop, []goal{{name: r.toSvc, count: 0, atMost: true, lb: r.behindLB(r.toSvc)}}, nil); err != nil {
		return fmt.Errorf("waiting for %s to stop its tasks: %w", r.toSvc, err)
	}
	if _, err := r.e.ECS.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(r.cluster), Service: aws.String(r.toSvc)}); err != nil {
		return fmt.Errorf("deleting ECS service %s: %w", r.toSvc, err)
	}
	re.RollbackSteps = append(re.RollbackSteps, fmt.Sprintf("%s scaled to 0 and deleted", r.toSvc))
	return nil
}

// liveCounts describes both services for a report of what is live after a failed rollback.
func (r *phaseRun) liveCounts(ctx context.Context) []LiveCount {
	ctx, cancel := context.WithTimeout(ctx, rollbackSlack)
	defer cancel()
	names := []string{r.toSvc}
	if r.fromSvc != "" {
		names = []string{r.fromSvc, r.toSvc}
	}
	found, err := r.e.findServices(ctx, r.cluster, names)
	var out []LiveCount
	for _, n := range names {
		svc, ok := found[n]
		if err != nil || !ok {
			out = append(out, LiveCount{Service: n + " (could not be described)", Desired: r.desired[n], Running: -1})
			continue
		}
		out = append(out, LiveCount{Service: n, Desired: int(svc.DesiredCount), Running: int(svc.RunningCount)})
	}
	return out
}

// setRestore records what the old service's auto scaling goes back to after a rollback: what
// suspendScaling captured, or, when it had no scalable target (a run killed before this
// version of the engine took it off), what state recorded was applied to production.
func (r *phaseRun) setRestore(captured *scalingSettings) {
	if captured != nil {
		r.restore, r.registered = captured, true
		return
	}
	r.restore = settingsFor(r.res.AutoScaling, r.fromSvc)
}

// resumeOld gives the old service its auto scaling back after a rollback.
func (r *phaseRun) resumeOld(ctx context.Context) error {
	if r.registered {
		return r.liftSuspension(ctx, r.fromSvc, r.fromARN, r.restore)
	}
	if err := r.e.putScaling(ctx, r.cluster, r.fromSvc, r.restore); err != nil {
		return err
	}
	r.untagSuspension(ctx, r.fromSvc, r.fromARN)
	return nil
}

// handOverScaling moves auto scaling to the new production service once its phases are done
// (DESIGN.md §8.2): the configured policies and scheduled actions go onto it, with the
// suspension the old production service had before the rollout; only then is the old
// service's scalable target deregistered, which deletes its policies and scheduled actions,
// and its SuspendedTag removed. Production holds a registered scalable target at every step. A
// failure after the new service's scaling is in place is a warning: the rollout is done, and
// the old target stays suspended on a service at 0 tasks.
func (r *phaseRun) handOverScaling(ctx context.Context) error {
	if want := settingsFor(r.cfg.AutoScaling, r.toSvc); want != nil {
		if r.registered {
			want.Suspended = r.restore.Suspended
		}
		if err := r.e.putScaling(ctx, r.cluster, r.toSvc, want); err != nil {
			return err
		}
		r.step(ctx, fmt.Sprintf("registered auto scaling (%d–%d) on %s with %d policies and %d scheduled actions",
			want.Min, want.Max, r.toSvc, len(want.Policies), len(want.Scheduled)), map[string]any{"service": r.toSvc})
	}
	if r.fromSvc == "" {
		return nil
	}
	if r.registered {
		if err := r.e.deregisterScaling(ctx, r.cluster, r.fromSvc); err != nil {
			r.warn(ctx, fmt.Sprintf("the rollout is done, but the auto scaling of the old production service %s could not be removed, so it stays suspended there: %v", r.fromSvc, err))
			return nil
		}
		r.step(ctx, "removed auto scaling from "+r.fromSvc, map[string]any{"service": r.fromSvc})
	}
	r.untagSuspension(ctx, r.fromSvc, r.fromARN)
	return nil
}
