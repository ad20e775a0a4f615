package ecslocal

import (
	"container/heap"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The kinds of queued scheduler events.
const (
	evTaskStarted   = iota // a PENDING task reaches RUNNING, or crashes on start
	evTaskCrashed          // a RUNNING task's essential container exits (crash-after)
	evTaskStopped          // a stopping task reaches STOPPED
	evLaunch               // the service may launch tasks again after a failure backoff
	evHealth               // a task's target or container health changes, or its grace period ends
	evTaskDrained          // a DEACTIVATING task's targets have drained: it is STOPPING
	evTaskReclaimed        // a Fargate Spot task's two-minute warning has passed: it is STOPPED
)

const (
	reasonEssentialExited = "Essential container in task exited"
	stopCodeEssential     = "EssentialContainerExited"
	stopCodeScheduler     = "ServiceSchedulerInitiated"

	// A service whose tasks keep failing is throttled as ECS throttles task launches: after
	// failuresBeforeBackoff consecutive failures the relaunch waits, doubling up to maxBackoff.
	failuresBeforeBackoff = 10
	firstBackoff          = 10 * time.Millisecond
	maxBackoff            = 15 * time.Minute
)

type qEvent struct {
	at   time.Time
	seq  int64
	kind int
	task *task
	gen  int
	svc  *service
	c    *cluster
}

// eventQueue is a min-heap of scheduler events by due time, then by insertion order.
type eventQueue []*qEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any) {
	e, _ := x.(*qEvent)
	*q = append(*q, e)
}
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *Server) schedule(e *qEvent) {
	e.seq = s.nextSeq()
	heap.Push(&s.queue, e)
}

// advanceLocked applies every scheduler event due at or before now, in time order, and lets each
// affected service react at the instant of the event.
func (s *Server) advanceLocked(now time.Time) {
	s.advanceScalingLocked(now) // scheduled actions and range changes due, in time order
	for len(s.queue) > 0 && !s.queue[0].at.After(now) {
		e, _ := heap.Pop(&s.queue).(*qEvent)
		switch e.kind {
		case evLaunch:
			e.svc.launchPending = false
		case evHealth:
			if e.task.hgen != e.gen {
				continue // the task is stopping: ECS no longer acts on its health
			}
			s.checkHealth(e.svc, e.task, e.at)
		default:
			if e.task.gen != e.gen {
				continue // superseded: the task was stopped or rescheduled since
			}
			s.applyTaskEvent(e)
		}
		s.reconcileLocked(e.c, e.svc, e.at)
	}
	s.advanceCloudWatchLocked(now)
}

func (s *Server) applyTaskEvent(e *qEvent) {
	t, svc, at := e.task, e.svc, e.at
	switch e.kind {
	case evTaskStarted:
		if behaviorOf(t.taskDef).crashOnStart {
			s.failTask(t, at)
			return
		}
		t.lastStatus = "RUNNING"
		t.startedAt = at
		svc.consecutiveFail = 0
		if !t.dep.everRunning && !t.gated() {
			// ECS stops counting failed tasks once a deployment has a running task (one that
			// waits for health checks counts once it is healthy, see reconcileLocked).
			t.dep.everRunning = true
			t.dep.failedTasks = 0
		}
		if d := behaviorOf(t.taskDef).crashAfter; d > 0 {
			t.gen++
			s.schedule(&qEvent{at: at.Add(d), kind: evTaskCrashed, task: t, gen: t.gen, svc: svc, c: e.c})
		}
		s.activate(e.c, svc, t, at)
	case evTaskCrashed:
		s.failTask(t, at)
	case evTaskDrained:
		t.lastStatus = "STOPPING"
		if s.opts.StopDelay > 0 {
			s.schedule(&qEvent{at: at.Add(s.opts.StopDelay), kind: evTaskStopped, task: t, gen: t.gen, svc: svc, c: e.c})
		} else {
			s.finishStop(t, at)
		}
	case evTaskStopped, evTaskReclaimed:
		s.finishStop(t, at)
	}
}

// failTask stops a task whose essential container exited, counts the failure against its
// deployment and backs off further launches of the service.
func (s *Server) failTask(t *task, at time.Time) {
	svc := t.svc
	t.desiredStatus = "STOPPED"
	t.stoppingAt = at
	t.stoppedReason, t.stopCode = reasonEssentialExited, stopCodeEssential
	t.failed = true
	// Its targets are deregistered; the task itself is gone at once.
	if tgs, _ := s.deregisterTask(t, at); len(tgs) > 0 {
		s.drainEvents(svc, []stopped{{t, tgs}}, at)
	}
	s.finishStop(t, at)
	if !t.dep.everRunning {
		t.dep.failedTasks++
	}
	svc.steady = false
	svc.consecutiveFail++
	if svc.consecutiveFail == failuresBeforeBackoff {
		s.addEvent(svc, at, fmt.Sprintf("(service %s) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.", svc.name))
	}
	if n := svc.consecutiveFail - failuresBeforeBackoff; n >= 0 {
		backoff := maxBackoff
		if n < 20 {
			backoff = min(maxBackoff, firstBackoff<<n)
		}
		svc.nextLaunch = at.Add(backoff)
	}
	s.circuitBreaker(svc, t.dep, at)
}

// circuitBreaker fails a deployment in progress whose failed tasks reach the threshold, when the
// service enables the deployment circuit breaker.
func (s *Server) circuitBreaker(svc *service, d *deployment, at time.Time) {
	if cb, ok := svc.deploymentConfig["deploymentCircuitBreaker"].(map[string]any); ok && cb["enable"] == true &&
		d.rollout == "IN_PROGRESS" && d.failedTasks >= circuitBreakerThreshold(d.desired) {
		d.rollout = "FAILED"
		d.rolloutWhy = "ECS deployment circuit breaker: tasks failed to start."
		s.addEvent(svc, at, fmt.Sprintf("(service %s) (deployment %s) deployment failed: tasks failed to start.", svc.name, d.id))
	}
}

// circuitBreakerThreshold is ECS's deployment circuit breaker rule:
// min(max(ceil(desired / 2), 3), 200).
func circuitBreakerThreshold(desired int) int {
	return min(max((desired+1)/2, 3), 200)
}

// behaviorOf parses a task definition's ecslocal.behavior label; RegisterTaskDefinition has
// already rejected labels that do not parse.
func behaviorOf(td *taskDefinition) behavior {
	b, _ := parseBehavior(td.containers)
	return b
}

// reconcileLocked is the service scheduler: at time t it launches or stops tasks so that the
// PRIMARY deployment converges to the desired count, replaces tasks found unhealthy, drains older
// deployments as the new one comes up, emits events, and records the service's counts on the
// timeline.
func (s *Server) reconcileLocked(c *cluster, svc *service, t time.Time) {
	primary := svc.deployments[0]
	primary.desired = svc.desired
	// A deployment whose tasks wait for health checks has a successfully running task once one is
	// healthy; from then on its failed tasks are no longer counted (Deployment API reference,
	// failedTasks, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html).
	for _, d := range svc.deployments {
		if !d.everRunning && anyGated(d) && s.servingCount(svc, d, t) > 0 {
			d.everRunning = true
			d.failedTasks = 0
		}
	}
	var live, unhealthy []*task // primary tasks that should be running; those found unhealthy
	for _, tk := range svc.tasks {
		if tk.dep == primary && tk.desiredStatus == "RUNNING" {
			if tk.unhealthy != nil {
				unhealthy = append(unhealthy, tk)
			} else {
				live = append(live, tk)
			}
		}
	}
	switch need := svc.desired - len(live); {
	case need > 0 && primary.rollout != "FAILED":
		if t.Before(svc.nextLaunch) {
			if !svc.launchPending {
				svc.launchPending = true
				s.schedule(&qEvent{at: svc.nextLaunch, kind: evLaunch, svc: svc, c: c})
			}
			break
		}
		// An unhealthy task is replaced first: "If a task is marked unhealthy, the service
		// scheduler will first start a replacement task" when maximumPercent allows it;
		// otherwise it stops unhealthy tasks to make room ("Amazon ECS services", and the
		// maximumPercent parameter of DeploymentConfiguration). A retiring Fargate task is
		// replaced the same way.
		replacing := min(need, len(unhealthy))
		replacedUnhealthy := 0
		for _, tk := range unhealthy {
			if tk.unhealthy.kind == causeUnhealthy {
				replacedUnhealthy++
			}
		}
		replacedUnhealthy = min(replacedUnhealthy, replacing)
		if replacing > 0 {
			if over := s.activeTasks(svc) + need - svc.desired*maximumPercent(svc)/100; over > 0 {
				n := min(over, len(unhealthy))
				s.stopUnhealthy(c, svc, unhealthy[:n], t)
				unhealthy = unhealthy[n:]
			}
		}
		s.launch(c, svc, primary, need, replacedUnhealthy, t)
	case need < 0:
		s.stopTasks(c, svc, pickToStop(live, -need), t)
	}
	// Unhealthy tasks keep running only while the primary lacks healthy tasks: "If the
	// replacement task has a health status of HEALTHY, the service scheduler stops the unhealthy
	// task."
	if len(unhealthy) > 0 {
		healthy := 0
		for _, tk := range live {
			if s.serving(tk, t) {
				healthy++
			}
		}
		if keep := max(0, svc.desired-healthy); len(unhealthy) > keep {
			s.stopUnhealthy(c, svc, unhealthy[:len(unhealthy)-keep], t)
		}
	}

	// Older deployments keep only as many tasks as the primary still lacks healthy ones (RUNNING,
	// and behind a load balancer or with container health checks, reported healthy); their
	// unhealthy tasks are stopped.
	allowed := max(0, svc.desired-s.servingCount(svc, primary, t))
	kept := svc.deployments[:1]
	for _, d := range svc.deployments[1:] {
		var alive, notStopped, bad []*task
		for _, tk := range svc.tasks {
			if tk.dep == d && tk.lastStatus != "STOPPED" {
				notStopped = append(notStopped, tk)
				switch {
				case tk.desiredStatus != "RUNNING":
				case tk.unhealthy != nil:
					bad = append(bad, tk)
				default:
					alive = append(alive, tk)
				}
			}
		}
		s.stopUnhealthy(c, svc, bad, t)
		if len(alive) > allowed {
			s.stopTasks(c, svc, pickToStop(alive, len(alive)-allowed), t)
			alive = alive[:allowed]
		}
		allowed -= len(alive)
		d.desired = len(alive)
		if len(notStopped) > 0 {
			kept = append(kept, d)
		}
	}
	svc.deployments = kept

	s.trimStopped(svc)
	running, pending := svc.counts()
	stopping, deactivating, unhealthyLeft := false, false, false
	for _, tk := range svc.tasks {
		switch {
		case tk.desiredStatus == "STOPPED" && tk.lastStatus == "RUNNING":
			stopping = true
		case tk.lastStatus == "DEACTIVATING":
			deactivating = true
		case tk.unhealthy != nil && tk.lastStatus != "STOPPED":
			unhealthyLeft = true
		}
	}
	// A deleted service is INACTIVE once all its tasks are STOPPING or STOPPED: "After all tasks
	// have transitioned to either STOPPING or STOPPED status, the service status moves from
	// DRAINING to INACTIVE" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html).
	if svc.status == "DRAINING" && running == 0 && pending == 0 && !deactivating {
		svc.status = "INACTIVE"
	}
	// A task that is draining does not keep the service from a steady state (AWS reports the
	// steady state while the last deregistered targets still drain); tasks still to be judged
	// healthy and unhealthy tasks still running do.
	healthy := !anyGated(primary) || s.servingCount(svc, primary, t) == svc.desired
	if svc.status == "ACTIVE" && len(svc.deployments) == 1 && running == svc.desired && pending == 0 && !stopping && !unhealthyLeft && healthy {
		if !svc.steady {
			svc.steady = true
			if primary.rollout == "IN_PROGRESS" {
				primary.rollout = "COMPLETED"
				primary.rolloutWhy = fmt.Sprintf("ECS deployment %s completed.", primary.id)
				s.addEvent(svc, t, fmt.Sprintf("(service %s) (deployment %s) deployment completed.", svc.name, primary.id))
			}
			s.addEvent(svc, t, fmt.Sprintf("(service %s) has reached a steady state.", svc.name))
		}
	} else {
		svc.steady = false
	}
	s.record(c, svc, t, running, pending)
}

// activeTasks counts the service's tasks that are to run: PENDING or RUNNING with desired status
// RUNNING, which maximumPercent bounds.
func (s *Server) activeTasks(svc *service) int {
	n := 0
	for _, tk := range svc.tasks {
		if tk.desiredStatus == "RUNNING" && (tk.lastStatus == "PENDING" || tk.lastStatus == "RUNNING") {
			n++
		}
	}
	return n
}

// maximumPercent is the service's deploymentConfiguration.maximumPercent, 200 by default.
func maximumPercent(svc *service) int {
	if v, ok := svc.deploymentConfig["maximumPercent"].(float64); ok {
		return int(v)
	}
	return 200
}

// servingCount counts a deployment's tasks that count as healthy for the scheduler.
func (s *Server) servingCount(svc *service, d *deployment, t time.Time) int {
	n := 0
	for _, tk := range svc.tasks {
		if tk.dep == d && s.serving(tk, t) {
			n++
		}
	}
	return n
}

// anyGated tells whether the deployment's tasks wait for health checks.
func anyGated(d *deployment) bool {
	return len(d.lbs) > 0 || d.taskDef.hasHealthCheck()
}

// pickToStop chooses n tasks to stop: pending ones first, then the newest running ones.
func pickToStop(tasks []*task, n int) []*task {
	var out []*task
	for i := len(tasks) - 1; i >= 0 && len(out) < n; i-- {
		if tasks[i].lastStatus == "PENDING" {
			out = append(out, tasks[i])
		}
	}
	for i := len(tasks) - 1; i >= 0 && len(out) < n; i-- {
		if tasks[i].lastStatus != "PENDING" {
			out = append(out, tasks[i])
		}
	}
	return out
}

// startTask starts a task of deployment d at t, in Availability Zone az when one is given.
func (s *Server) startTask(c *cluster, svc *service, d *deployment, az string, t time.Time) *task {
	id := randomHex(16)
	tk := &task{
		arn: fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", arnRegion(c.arn), s.opts.AccountID, c.name, id),
		id:  id, svc: svc, dep: d, taskDef: d.taskDef,
		lastStatus: "PENDING", desiredStatus: "RUNNING", createdAt: t,
		capacityProvider: s.pickCapacityProvider(svc),
	}
	s.place(c, svc, tk, az)
	svc.tasks = append(svc.tasks, tk)
	due := t.Add(s.opts.StartDelay + behaviorOf(d.taskDef).slowStart)
	s.schedule(&qEvent{at: due, kind: evTaskStarted, task: tk, gen: tk.gen, svc: svc, c: c})
	return tk
}

// launch starts n tasks of deployment d; replacing of them replace unhealthy tasks.
func (s *Server) launch(c *cluster, svc *service, d *deployment, n, replacing int, t time.Time) {
	started := make([]*task, 0, n)
	for range n {
		started = append(started, s.startTask(c, svc, d, "", t))
	}
	svc.steady = false
	msg := fmt.Sprintf("(service %s) has started %d tasks: %s.", svc.name, n, fmtTaskList(started))
	if replacing > 0 {
		// The launch event of a replacement names it (observed ECS service events).
		msg += fmt.Sprintf(" Amazon ECS replaced %d tasks due to an unhealthy status.", replacing)
	}
	s.addEvent(svc, t, msg)
}

// stopped is a task being stopped and the target groups it was deregistered from.
type stopped struct {
	tk  *task
	tgs []*targetGroup
}

// stopTasks stops tasks the scheduler no longer needs.
func (s *Server) stopTasks(c *cluster, svc *service, tasks []*task, t time.Time) {
	if len(tasks) == 0 {
		return
	}
	var drained []stopped
	for _, tk := range tasks {
		reason := fmt.Sprintf("Scaling activity initiated by (deployment %s)", tk.dep.id)
		if tgs := s.beginStop(c, svc, tk, t, reason); len(tgs) > 0 {
			drained = append(drained, stopped{tk, tgs})
		}
	}
	svc.steady = false
	s.addEvent(svc, t, fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", svc.name, len(tasks), fmtTaskList(tasks)))
	s.drainEvents(svc, drained, t)
}

// stopUnhealthy stops tasks that ECS has replaced (found unhealthy, retiring, or moved to another
// Availability Zone), with the events and stopped reason ECS gives them.
func (s *Server) stopUnhealthy(c *cluster, svc *service, tasks []*task, t time.Time) {
	if len(tasks) == 0 {
		return
	}
	var drained []stopped
	var plain, rebalanced []*task
	for _, tk := range tasks {
		cause := tk.unhealthy
		if cause.event != "" {
			s.addEvent(svc, t, cause.event)
		}
		// A task that "fails any of its defined health checks and is stopped" is a failed task of
		// its deployment (failedTasks,
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html); a retired or rebalanced one
		// is not.
		if cause.kind == causeUnhealthy && !tk.dep.everRunning {
			tk.dep.failedTasks++
			s.circuitBreaker(svc, tk.dep, t)
		}
		if tgs := s.beginStop(c, svc, tk, t, cause.reason); len(tgs) > 0 {
			drained = append(drained, stopped{tk, tgs})
		}
		if cause.kind == causeRebalance {
			rebalanced = append(rebalanced, tk)
		} else {
			plain = append(plain, tk)
		}
	}
	svc.steady = false
	if len(plain) > 0 {
		s.addEvent(svc, t, fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", svc.name, len(plain), fmtTaskList(plain)))
	}
	for _, g := range byZone(rebalanced) {
		s.addEvent(svc, t, fmt.Sprintf("(service %s) has stopped %d running tasks in %s due to AZ rebalancing: %s.", svc.name, len(g.tasks), g.az, fmtTaskList(g.tasks)))
	}
	s.drainEvents(svc, drained, t)
	if len(rebalanced) > 0 {
		s.rebalanceDone(c, svc, t)
	}
}

// trimStopped forgets the oldest stopped tasks beyond maxStoppedKept, as ECS forgets stopped
// tasks after about an hour.
func (s *Server) trimStopped(svc *service) {
	stopped := 0
	for _, tk := range svc.tasks {
		if tk.lastStatus == "STOPPED" {
			stopped++
		}
	}
	if stopped <= maxStoppedKept {
		return
	}
	drop := stopped - maxStoppedKept
	kept := svc.tasks[:0]
	for _, tk := range svc.tasks {
		if tk.lastStatus == "STOPPED" && drop > 0 {
			drop--
			continue
		}
		kept = append(kept, tk)
	}
	svc.tasks = kept
}

func (s *Server) addEvent(svc *service, t time.Time, msg string) {
	e := event{id: randomUUID(), createdAt: t, message: msg}
	svc.events = append([]event{e}, svc.events...)
	if len(svc.events) > maxEvents {
		svc.events = svc.events[:maxEvents]
	}
}

// record appends a timeline entry when the service's counts, status or healthy targets changed.
func (s *Server) record(c *cluster, svc *service, t time.Time, running, pending int) {
	healthy := s.healthyTargets(svc, t)
	snap := countSnapshot{desired: svc.desired, running: running, pending: pending, status: svc.status, healthy: fmt.Sprint(healthy)}
	if snap == svc.lastRecorded && len(s.timeline) > 0 {
		return
	}
	svc.lastRecorded = snap
	s.timeline = append(s.timeline, TimelineEntry{
		Time: t, Cluster: c.name, Service: svc.name, Status: svc.status,
		Desired: svc.desired, Running: running, Pending: pending, HealthyTargets: healthy,
	})
}

// healthyTargets counts, for each target group of the service's deployments, the service's targets
// the group reports healthy at t; nil for a service without load balancers.
func (s *Server) healthyTargets(svc *service, t time.Time) map[string]int {
	var out map[string]int
	for _, d := range svc.deployments {
		for _, r := range d.lbs {
			if out == nil {
				out = map[string]int{}
			}
			out[r.targetGroupArn] += 0
		}
	}
	for _, tk := range svc.tasks {
		for _, tgt := range tk.targets {
			if tgt == nil {
				continue
			}
			if out == nil {
				out = map[string]int{}
			}
			if tgt.health.at(t).state == tsHealthy && !tgt.gone(t) {
				out[tgt.tg.arn]++
			} else {
				out[tgt.tg.arn] += 0
			}
		}
	}
	return out
}

func (s *Server) newDeployment(t time.Time, td *taskDefinition, desired int) *deployment {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	id := fmt.Sprintf("ecs-svc/%019d", n.Int64()+1e18)
	return &deployment{
		id: id, status: "PRIMARY", taskDef: td, desired: desired, createdAt: t, updatedAt: t,
		rollout: "IN_PROGRESS", rolloutWhy: fmt.Sprintf("ECS deployment %s in progress.", id),
	}
}

func arnRegion(arn string) string {
	// arn:aws:ecs:<region>:<account>:...
	if parts := strings.Split(arn, ":"); len(parts) > 3 {
		return parts[3]
	}
	return defaultRegion
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newRequestID() string { return randomUUID() }

// randInt returns a random number in [0, n).
func randInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

func randomUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
