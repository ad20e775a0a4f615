package deploy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// PollConfig shapes how the engine polls DescribeServices while it waits. The zero value means
// the defaults.
type PollConfig struct {
	// Initial is the first interval, and the interval once a learned estimate has passed
	// (default 100 ms).
	Initial time.Duration
	// Max caps the interval (default 5 s).
	Max time.Duration
}

func (p PollConfig) withDefaults() PollConfig {
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Second
	}
	return p
}

// goal is what a wait waits for on one service.
type goal struct {
	name  string
	count int
	// atMost: done once no more than count tasks run or are pending (a scale-down of a
	// service whose tasks may be failing); otherwise exactly count running and none pending.
	atMost bool
	// lb: the service is behind a load balancer.
	lb bool
}

func (g goal) met(svc types.Service) bool {
	running, pending := int(svc.RunningCount), int(svc.PendingCount)
	if g.atMost {
		return running+pending <= g.count
	}
	return running == g.count && pending == 0 && int(svc.DesiredCount) == g.count
}

func (g goal) String() string {
	if g.atMost {
		return fmt.Sprintf("%s to at most %d tasks", g.name, g.count)
	}
	return fmt.Sprintf("%s to %d running tasks", g.name, g.count)
}

// watch tracks failures of the new revision's tasks from a baseline taken when a phase began.
// ECS's deployment failedTasks counts only failures before the first task runs. Later failures
// show as launches beyond those the phase asked for ("has started N tasks" events): each one
// replaced a task that stopped, or is about to replace one ECS found unhealthy. Such a launch is
// a failure of the revision only when the stopped task failed for reasons of its own; ECS also
// replaces tasks that did nothing wrong (a Fargate Spot interruption, a task retirement, an
// Availability Zone rebalancing), so the watch reads the stopped tasks and counts only the
// revision's own failures (DESIGN.md §7.3).
type watch struct {
	name       string
	threshold  int
	since      time.Time // when the phase began
	lastEvent  string    // ID of the newest event at the baseline
	expected   int       // launches the phase itself causes
	baseFailed int
	failures   int
	// failed holds the stopped tasks that failed for the revision's own reasons; replaced
	// counts those ECS stopped on its own. Launches beyond expected that neither explains are
	// read again at the next poll. earlier holds the tasks an earlier phase already sorted,
	// which this phase neither counts nor reads again.
	failed   map[string]bool
	replaced map[string]bool
	earlier  map[string]bool
	// unhealthy counts tasks a load balancer or health check reports unhealthy past the grace
	// period, at the last health read; sick quotes the unhealthy targets of the latest read
	// that found any, since ECS replaces and deregisters them before the phase fails.
	unhealthy int
	sick      []string
}

// sawHealth takes in a health read of the watched service.
func (w *watch) sawHealth(sc *servingCount) {
	w.unhealthy = sc.unhealthy
	if bad := unhealthyTargets(sc.evidence); len(bad) > 0 {
		w.sick = bad
	}
}

// unhealthyTargets keeps the evidence of a health read that quotes unhealthy targets.
func unhealthyTargets(evidence []string) []string {
	var out []string
	for _, e := range evidence {
		if strings.Contains(e, string(elbtypes.TargetHealthStateEnumUnhealthy)) {
			out = append(out, e)
		}
	}
	return out
}

var startedEvent = regexp.MustCompile(`has started (\d+) tasks`)

// observe updates the failure count from a DescribeServices view of the new service, reading
// the stopped tasks when launches beyond the phase's own are not yet explained.
func (wt *waiter) observe(ctx context.Context, w *watch, svc types.Service) {
	launched := 0
	for _, ev := range svc.Events {
		if aws.ToString(ev.Id) == w.lastEvent {
			break
		}
		if m := startedEvent.FindStringSubmatch(aws.ToString(ev.Message)); m != nil {
			n, _ := strconv.Atoi(m[1])
			launched += n
		}
	}
	failed := 0
	if len(svc.Deployments) > 0 {
		failed = int(svc.Deployments[0].FailedTasks) - w.baseFailed
	}
	if launched-w.expected > len(w.failed)+len(w.replaced) {
		if err := wt.classifyStops(ctx, w); err != nil {
			// Without the stopped tasks, every unexplained launch counts, as a failure is the
			// safe reading; the warning says why.
			wt.e.log().Warn(ctx, "could not read stopped tasks; counting every replacement launch as a failure", map[string]any{"service": w.name, "error": err.Error()})
			failed = max(failed, launched-w.expected-len(w.replaced))
		}
	}
	if launched-w.expected > len(w.failed)+len(w.replaced) {
		// Launches still unexplained: ECS replaces a task it found unhealthy before it stops it,
		// so the unhealthy task is still running. Its health says so at once.
		if spec, err := wt.spec(ctx, svc); err == nil && spec.gated() {
			if sc, err := wt.serving(ctx, svc, spec); err == nil {
				w.sawHealth(sc)
			}
		}
	}
	w.failures = max(w.failures, len(w.failed), failed, w.unhealthy)
}

// classifyStops reads the new service's tasks stopped since the phase began and sorts them into
// the revision's own failures and the tasks ECS stopped on its own.
func (wt *waiter) classifyStops(ctx context.Context, w *watch) error {
	stopped, err := wt.listTasks(ctx, w.name, types.DesiredStatusStopped)
	if err != nil {
		return fmt.Errorf("listing the stopped tasks of %s: %w", w.name, err)
	}
	var fresh []string
	for _, arn := range stopped {
		if !w.failed[arn] && !w.replaced[arn] && !w.earlier[arn] {
			fresh = append(fresh, arn)
		}
	}
	described, err := wt.e.describeTasks(ctx, wt.cluster, fresh)
	if err != nil {
		return fmt.Errorf("describing the stopped tasks of %s: %w", w.name, err)
	}
	for _, t := range described {
		// A task ECS is stopping has its stop code and reason already, but no stoppedAt until
		// it has stopped, which behind a load balancer is after its target drained: it counts
		// from the moment ECS decided to stop it (a task an earlier phase saw stopping is in
		// earlier).
		if t.StoppedAt != nil && t.StoppedAt.Before(w.since) {
			continue
		}
		// The phases only grow the watched service, so a scheduler stop of it is ECS's own
		// doing: Availability Zone rebalancing stops tasks with the scale-in reason.
		if !scaledIn(t) && revisionFailure(t) {
			w.failed[aws.ToString(t.TaskArn)] = true
		} else {
			w.replaced[aws.ToString(t.TaskArn)] = true
		}
	}
	return nil
}

// listTasks lists every page of a service's tasks of a desired status.
func (wt *waiter) listTasks(ctx context.Context, service string, status types.DesiredStatus) ([]string, error) {
	var arns []string
	in := &ecs.ListTasksInput{Cluster: aws.String(wt.cluster), ServiceName: aws.String(service), DesiredStatus: status}
	for page := ecs.NewListTasksPaginator(wt.e.ECS, in); page.HasMorePages(); {
		out, err := page.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, out.TaskArns...)
	}
	return arns, nil
}

// scaledIn reports a task the rollout's own scale-down stopped.
func scaledIn(t types.Task) bool {
	return strings.HasPrefix(aws.ToString(t.StoppedReason), "Scaling activity initiated by")
}

// revisionFailure reports whether a stopped task failed for reasons of its own revision, by
// its stop code ("Amazon ECS stopped task error codes",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html;
// task retirement: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-maintenance.html):
// an essential container exited, the
// task failed to start (including an image that could not be pulled), or ECS stopped it for
// failing its load balancer or container health checks. Fargate Spot interruptions
// (SpotInterruption), task retirement and maintenance (TerminationNotice), Availability Zone
// rebalancing and other scheduler stops, and stops by a user are not.
func revisionFailure(t types.Task) bool {
	reason := aws.ToString(t.StoppedReason)
	switch t.StopCode {
	case types.TaskStopCodeEssentialContainerExited, types.TaskStopCodeTaskFailedToStart:
		return true
	case types.TaskStopCodeServiceSchedulerInitiated:
		return strings.Contains(reason, "failed ELB health checks") || strings.Contains(reason, "failed container health checks")
	case "":
		for _, c := range t.Containers {
			if c.ExitCode != nil && *c.ExitCode != 0 {
				return true
			}
		}
	}
	return false
}

// newWatch takes a baseline of the new service before the phase scales it to count.
func newWatch(svc types.Service, count, threshold int, since time.Time, earlier map[string]bool) *watch {
	w := &watch{
		name: aws.ToString(svc.ServiceName), threshold: threshold, since: since,
		failed: map[string]bool{}, replaced: map[string]bool{}, earlier: earlier,
	}
	if len(svc.Events) > 0 {
		w.lastEvent = aws.ToString(svc.Events[0].Id)
	}
	if len(svc.Deployments) > 0 {
		w.baseFailed = int(svc.Deployments[0].FailedTasks)
	}
	w.expected = max(0, count-int(svc.RunningCount)-int(svc.PendingCount))
	return w
}

// FailureKind says why a phase failed.
type FailureKind string

// The ways a phase fails (DESIGN.md §7).
const (
	FailureTasks     FailureKind = "failed tasks"
	FailureTimeout   FailureKind = "steady-state timeout"
	FailureAPI       FailureKind = "AWS API error"
	FailureCancelled FailureKind = "cancelled"
)

// PhaseFailure is why a wait ended without its goal, with ECS's evidence.
type PhaseFailure struct {
	Kind     FailureKind
	Message  string
	Evidence []string // quoted stopped reasons and service events
	Err      error
}

func (f *PhaseFailure) Error() string { return f.Message }
func (f *PhaseFailure) Unwrap() error { return f.Err }

// waiter polls DescribeServices until goals are met, learning how long waits of each kind take
// so that later waits poll near the moment they complete.
type waiter struct {
	e       *Engine
	cluster string
	poll    PollConfig
	learned map[string]estimate
	calls   int
	// What health reads learned and keep: task definitions, where each task is registered, the
	// EC2 instance of each container instance.
	taskDefs  map[string]*types.TaskDefinition
	tasks     map[string]healthTask
	instances map[string]string
	lists     map[string]taskList
	// created holds when this run created each service: ECS's reads are eventually
	// consistent, and a service just created may be MISSING from DescribeServices for a while.
	created map[string]time.Time
	// gate, while a phase runs, is read on its own cadence by every wait and pause.
	gate *gate
}

// drainsAtOnce reports goals whose services are all behind a load balancer.
func drainsAtOnce(goals []goal) bool {
	for _, g := range goals {
		if !g.lb {
			return false
		}
	}
	return len(goals) > 0
}

// missingGrace is how long a service this run created may be MISSING from DescribeServices
// before a wait gives up on it.
const missingGrace = 2 * time.Minute

// stillAppearing reports a service this run created so recently that ECS may not show it yet.
func (wt *waiter) stillAppearing(name string) bool {
	at, ok := wt.created[name]
	return ok && wt.e.clock().Now().Sub(at) < missingGrace
}

func newWaiter(e *Engine, cluster string) *waiter {
	return &waiter{
		e: e, cluster: cluster, poll: e.Poll.withDefaults(), learned: map[string]estimate{},
		taskDefs: map[string]*types.TaskDefinition{}, tasks: map[string]healthTask{}, instances: map[string]string{}, lists: map[string]taskList{},
		created: map[string]time.Time{},
	}
}

// The kinds of wait, each learned apart.
const (
	// waitStart waits for a scale-up: its goals are met when their tasks run and serve.
	waitStart = "start"
	// waitStop waits for a scale-down.
	waitStop = "stop"
	// waitServing checks that a service nothing was asked of already runs and serves its
	// count: it polls at once and teaches the estimates nothing.
	waitServing = "serving"
)

// serves reports the kinds of wait whose goals are met only when their tasks serve.
func servesKind(kind string) bool { return kind == waitStart || kind == waitServing }

// wait polls until every goal is met. kind is waitStart, waitStop or waitServing (health.go
// says what serving is). w, when set, fails the wait once the new revision's failures reach
// the threshold. One DescribeServices call covers every service of a poll.
func (wt *waiter) wait(ctx context.Context, kind string, goals []goal, w *watch, timeout time.Duration) (map[string]types.Service, error) {
	clock := wt.e.clock()
	start := clock.Now()
	deadline := start.Add(timeout)
	names := waitedNames(goals, w)
	callsBefore := wt.calls
	health := map[string]*servingCount{} // the last health read of each goal's service
	pace := wt.newPace(kind, goals)
	for {
		now := clock.Now()
		if err := clock.Sleep(ctx, min(pace.next(now.Sub(start)), max(deadline.Sub(now), 0), wt.gate.until(now))); err != nil {
			return nil, cancelled(err)
		}
		if err := wt.gate.poll(ctx); err != nil {
			return nil, err
		}
		wt.calls++
		found, appearing, err := wt.look(ctx, names)
		if err != nil {
			return nil, err
		}
		done, running, readHealth := false, false, pace.healthDue()
		if !appearing {
			if done, running, err = wt.goalsMet(ctx, kind, readHealth, goals, found, w, health); err != nil {
				return found, err
			}
		}
		pace.saw(clock.Now().Sub(start), running, done, readHealth)
		if done {
			took := clock.Now().Sub(start)
			pace.learn(wt.learned)
			wt.e.log().Debug(ctx, "wait done", map[string]any{
				"kind": kind, "services": names, "took_ms": took.Milliseconds(), "polls": wt.calls - callsBefore,
			})
			return found, nil
		}
		if !clock.Now().Before(deadline) {
			return found, wt.timedOut(goals, found, health, timeout)
		}
	}
}

// waitedNames are the services a wait describes: its goals' and the watched one's.
func waitedNames(goals []goal, w *watch) []string {
	names := make([]string, 0, len(goals)+1)
	for _, g := range goals {
		names = append(names, g.name)
	}
	if w != nil && !slices.Contains(names, w.name) {
		names = append(names, w.name)
	}
	return names
}

// estimate is when a stage of a wait is expected to end, from its start: at, give or take
// spread/2 (the stage ended somewhere between two polls spread apart).
type estimate struct {
	at, spread time.Duration
}

// pace says when a wait polls. A wait has up to two stages: until the goals' running counts are
// met, and then, for a wait whose tasks must serve, until they serve (a load balancer's health
// check, a container health check). Each stage's end is learned apart from earlier waits of the
// same kind. With an estimate, polls come through the window where the stage should end, closer
// together the better it is known (at least Initial/2 apart); without one, or once the window
// has passed, polls come at an eighth of the wait's time so far, so a wait is noticed within
// about 12 % of its length at a cost that grows only logarithmically with it. Waiting to serve
// without an estimate polls faster, at half the stage's time so far, until that reaches the
// eighth: the stage is usually short next to the start, and the next wait learns it. A wrong
// estimate costs latency, never correctness.
type pace struct {
	poll PollConfig
	kind string
	// run and serve are the learned ends of the two stages (runKnown, serveKnown).
	run, serve           estimate
	runKnown, serveKnown bool
	first                time.Duration
	polled               bool
	// What this wait saw, elapsed into it: the last poll whose running counts were not met,
	// the first poll at which they were (runAt, once running), the last poll after that which
	// read that the tasks did not serve yet, and the poll at which the goals were met.
	lastRunUnmet, runAt, lastServeUnmet, doneAt time.Duration
	running, runUnmetSeen, serveUnmetSeen       bool
	servePolled                                 bool
	polls                                       int
}

// serveKey is the name under which a kind's serving stage is learned.
func serveKey(kind string) string { return kind + "/serve" }

func (wt *waiter) newPace(kind string, goals []goal) *pace {
	p := &pace{poll: wt.poll, kind: kind, first: wt.poll.Initial}
	p.run, p.runKnown = wt.learned[kind]
	p.serve, p.serveKnown = wt.learned[serveKey(kind)]
	if p.runKnown {
		p.first = max(wt.poll.Initial, p.windowStart(p.run))
	}
	switch {
	case kind == waitServing:
		// Nothing was asked of the service: the first poll is the check.
		p.first = 0
	case kind == waitStop && drainsAtOnce(goals):
		// Behind a load balancer a task leaves the running count as soon as its target starts
		// draining: the scale-down's goal is met at once, and the first poll says so.
		p.first = 0
	}
	return p
}

// windowStart is when polls for a stage estimated at e begin, from the stage's start: at the
// earliest moment the estimate allows (the poll that last found the stage unfinished), or
// Initial/2 before a point estimate.
func (p *pace) windowStart(e estimate) time.Duration {
	if e.spread > 0 {
		return max(0, e.at-e.spread/2)
	}
	return max(0, e.at-p.poll.Initial/2)
}

// window reports whether in, time into a stage estimated at e, is still in the window where it
// should end, and the interval of polls there.
func (p *pace) window(e estimate, in time.Duration) (bool, time.Duration) {
	return in < e.at+e.spread/2+2*p.poll.Initial, max(p.poll.Initial/2, e.spread/4)
}

// next is how long to sleep before the next poll, elapsed into the wait.
func (p *pace) next(elapsed time.Duration) time.Duration {
	if !p.polled {
		p.polled = true
		return p.first
	}
	late := min(p.poll.Max, max(p.poll.Initial, elapsed/8))
	if !p.running {
		if in, every := p.window(p.run, elapsed); p.runKnown && in {
			return every
		}
		return late
	}
	// The running counts are met; the tasks do not serve yet.
	in := elapsed - p.runAt
	if !p.serveKnown {
		return min(late, max(p.poll.Initial, in/2))
	}
	if !p.servePolled {
		p.servePolled = true
		if d := p.windowStart(p.serve) - in; d > 0 {
			return d
		}
	}
	if inWindow, every := p.window(p.serve, in); inWindow {
		return every
	}
	return late
}

// healthDue reports whether a poll whose running counts are met should read whether the tasks
// serve. A poll that finds them running for the first time, after earlier polls did not, should
// not, unless the serving stage is known to end within a poll: a task that has just started
// has not passed a health check yet, and the read would be wasted.
func (p *pace) healthDue() bool {
	if p.running || p.polls == 0 {
		return true
	}
	return p.serveKnown && p.windowStart(p.serve) < p.poll.Initial
}

// saw records what the poll elapsed into the wait found: whether the goals' running counts
// were met, whether the goals were, and whether it read that the tasks serve.
func (p *pace) saw(elapsed time.Duration, running, done, readHealth bool) {
	p.polls++
	switch {
	case !running:
		// A service can fall back below its count (a task failed); the stage starts again.
		p.running, p.servePolled = false, false
		p.runUnmetSeen, p.lastRunUnmet = true, elapsed
		return
	case !p.running:
		p.runAt, p.running = elapsed, true
	}
	switch {
	case done:
		p.doneAt = elapsed
	case readHealth:
		p.serveUnmetSeen, p.lastServeUnmet = true, elapsed
	}
}

// learn keeps, after the goals were met, when each stage ended for the next wait of its kind:
// between the last poll that found it unfinished and the first that found it done. A stage
// already done at its first poll ended at or before that poll; the estimate keeps the earlier
// spread, so the next wait starts polling that much earlier.
func (p *pace) learn(learned map[string]estimate) {
	if p.kind == waitServing {
		return
	}
	learned[p.kind] = bracket(p.runUnmetSeen, p.lastRunUnmet, p.runAt, 0, p.run)
	if servesKind(p.kind) {
		learned[serveKey(p.kind)] = bracket(p.serveUnmetSeen, p.lastServeUnmet, p.doneAt, p.runAt, p.serve)
	}
}

// bracket is the estimate of a stage that began at from and ended after the poll at lo (when
// seen) and at or before the poll at hi; prior is the estimate it had.
func bracket(seen bool, lo, hi, from time.Duration, prior estimate) estimate {
	if !seen || lo >= hi {
		return estimate{at: hi - from, spread: prior.spread}
	}
	return estimate{at: (lo+hi)/2 - from, spread: hi - lo}
}

// look describes the waited services. A service this run created moments ago may not show yet
// (appearing); any other missing service fails the wait.
func (wt *waiter) look(ctx context.Context, names []string) (map[string]types.Service, bool, error) {
	found, err := wt.e.findServices(ctx, wt.cluster, names)
	if err != nil {
		return nil, false, apiPhaseFailure(ctx, err)
	}
	appearing := false
	for _, n := range names {
		if _, ok := found[n]; ok {
			continue
		}
		if !wt.stillAppearing(n) {
			err := fmt.Errorf("ECS service %s is missing", n)
			return nil, false, &PhaseFailure{Kind: FailureAPI, Message: err.Error(), Err: err}
		}
		appearing = true
	}
	return found, appearing, nil
}

// goalsMet updates the watch and reports whether every goal is met and whether every goal's
// running count is. In a wait of a kind that serves, a goal is met only when its tasks serve:
// with readHealth that is read (and the read counts the watched revision's unhealthy tasks);
// without, a service whose tasks must pass health checks does not serve yet. It fails once the
// watched revision's failures reach the threshold.
func (wt *waiter) goalsMet(ctx context.Context, kind string, readHealth bool, goals []goal, found map[string]types.Service, w *watch, health map[string]*servingCount) (done, running bool, err error) {
	if w != nil {
		wt.observe(ctx, w, found[w.name])
		if w.failures >= w.threshold {
			return false, false, wt.tasksFailed(ctx, found[w.name], w)
		}
	}
	done, running = true, true
	for _, g := range goals {
		if !g.met(found[g.name]) {
			done, running = false, false
			continue
		}
		if servesKind(kind) {
			serving, err := wt.serves(ctx, found[g.name], g, w, health, readHealth)
			if err != nil {
				return false, false, err
			}
			done = done && serving
		}
	}
	if w != nil && w.failures >= w.threshold {
		return false, false, wt.tasksFailed(ctx, found[w.name], w)
	}
	return done, running, nil
}

// serves reads whether a service whose running count is met also serves that many tasks, and
// counts the revision's unhealthy tasks past their grace period as failures of w. A service
// whose tasks serve once they run needs no read; for another, without readHealth, it does not
// serve yet.
func (wt *waiter) serves(ctx context.Context, svc types.Service, g goal, w *watch, health map[string]*servingCount, readHealth bool) (bool, error) {
	spec, err := wt.spec(ctx, svc)
	if err != nil {
		return false, apiPhaseFailure(ctx, err)
	}
	if !spec.gated() {
		return true, nil
	}
	if !readHealth {
		return false, nil
	}
	sc, err := wt.serving(ctx, svc, spec)
	if err != nil {
		return false, apiPhaseFailure(ctx, err)
	}
	health[g.name] = sc
	if w != nil && w.name == g.name {
		w.sawHealth(sc)
		w.failures = max(w.failures, w.unhealthy)
	}
	return sc.serving >= g.count, nil
}

// apiPhaseFailure is a failed call during a wait: a cancellation, or an API error.
func apiPhaseFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return cancelled(ctx.Err())
	}
	return &PhaseFailure{Kind: FailureAPI, Message: err.Error(), Err: err}
}

// pause waits d (a bake time) while watching the new revision for failures and reading the
// analysis gates when they are due. It polls at the maximum interval, since nothing is expected
// to change.
func (wt *waiter) pause(ctx context.Context, d time.Duration, hold goal, w *watch, seen func(types.Service)) error {
	clock := wt.e.clock()
	end := clock.Now().Add(d)
	for {
		left := end.Sub(clock.Now())
		if left <= 0 {
			return nil
		}
		if err := clock.Sleep(ctx, min(left, wt.poll.Max, wt.gate.until(clock.Now()))); err != nil {
			return cancelled(err)
		}
		if err := wt.gate.poll(ctx); err != nil {
			return err
		}
		wt.calls++
		found, err := wt.e.findServices(ctx, wt.cluster, []string{hold.name})
		if err != nil {
			if ctx.Err() != nil {
				return cancelled(ctx.Err())
			}
			return &PhaseFailure{Kind: FailureAPI, Message: err.Error(), Err: err}
		}
		svc, ok := found[hold.name]
		if !ok && wt.stillAppearing(hold.name) {
			continue
		}
		if !ok {
			err := fmt.Errorf("ECS service %s is missing", hold.name)
			return &PhaseFailure{Kind: FailureAPI, Message: err.Error(), Err: err}
		}
		seen(svc)
		wt.observe(ctx, w, svc)
		if w.failures >= w.threshold {
			return wt.tasksFailed(ctx, svc, w)
		}
	}
}

func cancelled(err error) error {
	return &PhaseFailure{Kind: FailureCancelled, Message: "the operation was cancelled: " + err.Error(), Err: err}
}

// tasksFailed builds the failure of a phase whose new tasks failed, quoting the stopped
// reasons of the failed tasks and the latest service events.
func (wt *waiter) tasksFailed(ctx context.Context, svc types.Service, w *watch) error {
	name := aws.ToString(svc.ServiceName)
	f := &PhaseFailure{
		Kind:    FailureTasks,
		Message: fmt.Sprintf("%d tasks of %s failed (threshold %d)", w.failures, name, w.threshold),
	}
	f.Evidence = append(f.Evidence, wt.healthEvidence(ctx, svc, w)...)
	f.Evidence = append(f.Evidence, wt.stoppedReasons(ctx, name)...)
	f.Evidence = append(f.Evidence, latestEvents(svc, 3)...)
	return f
}

// unhealthyEvent matches the service events in which ECS reports a task unhealthy.
var unhealthyEvent = regexp.MustCompile(`is unhealthy in \(target-group|failed (ELB|container) health checks`)

// healthEvidence quotes why the revision's tasks were unhealthy: the events since the phase
// began in which ECS reported a task unhealthy (with the load balancer's reason), and the
// targets that are unhealthy now, read afresh, or, when none is now (ECS replaced them), those
// an earlier read of the phase found. A read that fails leaves the events and the earlier read.
func (wt *waiter) healthEvidence(ctx context.Context, svc types.Service, w *watch) []string {
	var out []string
	for _, ev := range svc.Events {
		if aws.ToString(ev.Id) == w.lastEvent {
			break
		}
		if msg := aws.ToString(ev.Message); unhealthyEvent.MatchString(msg) && len(out) < 3 {
			out = append(out, fmt.Sprintf("event: %q", msg))
		}
	}
	spec, err := wt.spec(ctx, svc)
	if err != nil || len(spec.lbs) == 0 {
		return out
	}
	if sc, err := wt.serving(ctx, svc, spec); err == nil {
		w.sawHealth(sc)
	}
	return append(out, w.sick...)
}

// stoppedReasons quotes the stop reasons of the service's failed tasks, each reason once with
// how many tasks gave it. Only the scale-in stops the rollout asked for are left out, by their
// reason: ECS stops tasks that fail load balancer health checks with the same stop code,
// ServiceSchedulerInitiated, and those are evidence.
func (wt *waiter) stoppedReasons(ctx context.Context, service string) []string {
	list, err := wt.e.ECS.ListTasks(ctx, &ecs.ListTasksInput{
		Cluster: aws.String(wt.cluster), ServiceName: aws.String(service), DesiredStatus: types.DesiredStatusStopped,
	})
	if err != nil {
		return []string{fmt.Sprintf("stopped tasks could not be listed: %v", err)}
	}
	if len(list.TaskArns) == 0 {
		return nil
	}
	// The evidence quotes the newest hundred (ListTasks lists the most recent first).
	stopped, err := wt.e.describeTasks(ctx, wt.cluster, list.TaskArns[:min(len(list.TaskArns), 100)])
	if err != nil {
		return []string{fmt.Sprintf("stopped tasks could not be described: %v", err)}
	}
	counts := map[string]int{}
	var order []string
	for _, t := range stopped {
		reason := aws.ToString(t.StoppedReason)
		if strings.HasPrefix(reason, "Scaling activity initiated by") {
			continue
		}
		for _, c := range t.Containers {
			if c.ExitCode != nil && aws.ToInt32(c.ExitCode) != 0 {
				reason += fmt.Sprintf(" (container %s exit code %d)", aws.ToString(c.Name), aws.ToInt32(c.ExitCode))
				break
			}
		}
		if counts[reason] == 0 {
			order = append(order, reason)
		}
		counts[reason]++
	}
	quoted := make([]string, 0, len(order))
	for _, r := range order {
		quoted = append(quoted, fmt.Sprintf("%d× stopped task: %q", counts[r], r))
	}
	return quoted
}

func latestEvents(svc types.Service, n int) []string {
	var out []string
	for _, ev := range svc.Events[:min(n, len(svc.Events))] {
		out = append(out, fmt.Sprintf("event: %q", aws.ToString(ev.Message)))
	}
	return out
}

func (wt *waiter) timedOut(goals []goal, found map[string]types.Service, health map[string]*servingCount, timeout time.Duration) error {
	var parts []string
	var ev []string
	for _, g := range goals {
		svc := found[g.name]
		if sc, ok := health[g.name]; ok && g.met(svc) && sc.serving < g.count {
			parts = append(parts, fmt.Sprintf("%s has %d running of %d, of which %d serve (healthy in every target group and health check)", g.name, svc.RunningCount, g.count, sc.serving))
			ev = append(ev, sc.evidence...)
			ev = append(ev, latestEvents(svc, 2)...)
			continue
		}
		if !g.met(svc) {
			parts = append(parts, fmt.Sprintf("%s has %d running and %d pending of %d", g.name, svc.RunningCount, svc.PendingCount, g.count))
			ev = append(ev, latestEvents(svc, 2)...)
		}
	}
	return &PhaseFailure{
		Kind:     FailureTimeout,
		Message:  fmt.Sprintf("steady_state_timeout (%s) reached: %s", timeout, strings.Join(parts, "; ")),
		Evidence: ev,
	}
}

// learnStartTime seeds the estimate of how long a task takes to start from a service's running
// tasks (createdAt to startedAt, the median of up to ten), so that even the first wait of a
// rollout sleeps until shortly before the new tasks can run. It costs a ListTasks and a
// DescribeTasks call. A failed call leaves the estimate unknown, which the rollout can do
// without; the error is returned all the same, so that a missing permission is reported
// instead of passing unnoticed.
func (wt *waiter) learnStartTime(ctx context.Context, service string) error {
	// A health read may have listed and described these tasks already.
	arns := wt.lists[service].arns
	if len(arns) == 0 {
		list, err := wt.e.ECS.ListTasks(ctx, &ecs.ListTasksInput{
			Cluster: aws.String(wt.cluster), ServiceName: aws.String(service), DesiredStatus: types.DesiredStatusRunning,
			MaxResults: aws.Int32(10),
		})
		if err != nil {
			return fmt.Errorf("listing the running tasks of %s: %w", service, err)
		}
		arns = list.TaskArns
	}
	if len(arns) == 0 {
		return nil
	}
	var tasks []types.Task
	var need []string
	for _, arn := range arns[:min(len(arns), 10)] {
		if ht, ok := wt.tasks[arn]; ok {
			tasks = append(tasks, ht.task)
		} else {
			need = append(need, arn)
		}
	}
	described, err := wt.e.describeTasks(ctx, wt.cluster, need)
	if err != nil {
		return fmt.Errorf("describing the running tasks of %s: %w", service, err)
	}
	tasks = append(tasks, described...)
	var took []time.Duration
	for _, t := range tasks {
		if t.CreatedAt != nil && t.StartedAt != nil && t.StartedAt.After(*t.CreatedAt) {
			took = append(took, t.StartedAt.Sub(*t.CreatedAt))
		}
	}
	if len(took) == 0 {
		return nil
	}
	slices.Sort(took)
	wt.learned[waitStart] = estimate{at: took[len(took)/2]}
	return nil
}
