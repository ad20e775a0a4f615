package ecslocal

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Tasks that ECS stops and replaces on its own, without a call of the service's owner: Fargate
// Spot interruptions, Fargate task retirement and Availability Zone rebalancing. The control API
// says when they happen; what follows is ECS's.

// The kinds of Interrupt.
const (
	// InterruptSpot is a Fargate Spot interruption: "When AWS needs the capacity back, your tasks
	// are interrupted with a two-minute warning" (AWS Fargate capacity providers,
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html).
	InterruptSpot = "spot"
	// InterruptRetirement is Fargate task retirement: "When a revision is retired, all tasks
	// running on that revision are stopped", and for service tasks "the Amazon ECS scheduler
	// automatically replaces" them (Task retirement and maintenance for AWS Fargate on Amazon
	// ECS, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-maintenance.html).
	InterruptRetirement = "retirement"
)

const (
	// A Fargate Spot task during its two-minute warning has desired status STOPPED, stop code
	// TerminationNotice and this stopped reason (the task state change event of "Handling
	// Fargate Spot termination notices", AWS Fargate capacity providers,
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html);
	// once STOPPED its stop code is SpotInterruption (stopCode,
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html).
	reasonSpot           = "Your Spot Task was interrupted."
	stopCodeNotice       = "TerminationNotice"
	stopCodeSpot         = "SpotInterruption"
	spotCapacityProvider = "FARGATE_SPOT"
	spotWarning          = 2 * time.Minute
	// "When a task is stopped in either scenario, you can run describe-tasks. The stoppedReason
	// in the response is ECS is performing maintenance on the underlying infrastructure hosting
	// the task" (task retirement FAQ). AWS does not document its stop code; ecslocal gives it
	// ServiceSchedulerInitiated, as the scheduler stops it.
	reasonRetirement = "ECS is performing maintenance on the underlying infrastructure hosting the task"
)

// Interrupt makes ECS stop count RUNNING tasks of a service on its own, the oldest first, and
// returns their ARNs; the service scheduler replaces them.
//   - kind InterruptSpot: tasks placed with the FARGATE_SPOT capacity provider get the two-minute
//     warning: desired status STOPPED, stop code TerminationNotice, stopped reason "Your Spot
//     Task was interrupted."; they are deregistered from their target groups at once (the
//     deregistration delay should be shorter than the warning, "How do I handle Spot
//     termination notices in AWS Fargate Spot tasks?", AWS knowledge center) and are STOPPED,
//     stop code SpotInterruption, when they have drained and stopped or when the two minutes
//     (scaled by the time scale) are over, whichever comes first. The scheduler starts their
//     replacements at once ("has started N tasks"); ECS writes no service event of the
//     interruption itself ("these events aren't reported in the Amazon ECS console").
//   - kind InterruptRetirement: Fargate tasks are retired as the scheduler replaces any task:
//     "a new task is started first before a task is stopped" when maximumPercent allows it; once
//     the replacement is healthy the old task stops ("has stopped N running tasks") with stopped
//     reason "ECS is performing maintenance on the underlying infrastructure hosting the task".
func (s *Server) Interrupt(clusterName, serviceName string, count int, kind string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advanceLocked(now)
	c, svc, err := s.activeServiceLocked(clusterName, serviceName)
	if err != nil {
		return nil, err
	}
	if count < 1 {
		return nil, fmt.Errorf("count must be at least 1, not %d", count)
	}
	var candidates []*task
	for _, tk := range svc.tasks {
		if tk.lastStatus != "RUNNING" || tk.desiredStatus != "RUNNING" || tk.unhealthy != nil {
			continue
		}
		switch kind {
		case InterruptSpot:
			if tk.capacityProvider == spotCapacityProvider {
				candidates = append(candidates, tk)
			}
		case InterruptRetirement:
			candidates = append(candidates, tk)
		default:
			return nil, fmt.Errorf("kind %q: want %q or %q", kind, InterruptSpot, InterruptRetirement)
		}
	}
	if kind == InterruptRetirement && !svc.fargate() {
		return nil, fmt.Errorf("service %s does not run on Fargate: task retirement is Fargate's", svc.name)
	}
	if len(candidates) < count {
		what := "RUNNING tasks"
		if kind == InterruptSpot {
			what = "RUNNING tasks on capacity provider " + spotCapacityProvider
		}
		return nil, fmt.Errorf("service %s has %d %s, not %d", svc.name, len(candidates), what, count)
	}
	var arns []string
	for _, tk := range candidates[:count] {
		arns = append(arns, tk.arn)
		if kind == InterruptSpot {
			s.spotInterrupt(c, svc, tk, now)
			continue
		}
		tk.unhealthy = &unhealthyCause{at: now, reason: reasonRetirement, kind: causeRetirement}
	}
	svc.steady = false
	s.reconcileLocked(c, svc, now)
	return arns, nil
}

// spotInterrupt gives a Fargate Spot task its two-minute warning at t.
func (s *Server) spotInterrupt(c *cluster, svc *service, tk *task, t time.Time) {
	tgs := s.beginStop(c, svc, tk, t, reasonSpot)
	tk.stopCode, tk.finalStopCode = stopCodeNotice, stopCodeSpot
	if len(tgs) > 0 {
		s.drainEvents(svc, []stopped{{tk, tgs}}, t)
	}
	s.schedule(&qEvent{at: t.Add(s.scaled(spotWarning)), kind: evTaskReclaimed, task: tk, gen: tk.gen, svc: svc, c: c})
}

// Rebalancing is what Rebalance set in motion: the tasks it started and those it stops once the
// new ones are healthy.
type Rebalancing struct {
	Started  []string `json:"started"`
	Stopping []string `json:"stopping"`
}

// Rebalance makes ECS rebalance count tasks of a service across Availability Zones, as
// "Balancing an Amazon ECS service across Availability Zones"
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html)
// describes: ECS "starts monitoring a service after it reaches the steady state", then "Starts
// tasks in Availability Zones with the fewest number of running tasks" and "Stops the tasks in
// Availability Zones with the largest number of running tasks" once the new ones are healthy.
// The service must have availabilityZoneRebalancing ENABLED, be in a steady state, run awsvpc
// tasks in subnets of at least two zones, and leave room under maximumPercent for count more
// tasks. Its events are those of "Amazon ECS Availability Zone service rebalancing service event
// messages": "(service web) is not AZ balanced with 2 tasks in us-east-1a, 0 tasks in us-east-1b.
// AZ Rebalancing in progress." (only when the service is not balanced: ecslocal does not model
// the disruption that unbalances one, so a caller may ask it to move tasks of a balanced one),
// "(service web) has started 1 tasks in us-east-1b to AZ Rebalance: (task …).", "(service web)
// has stopped 1 running tasks in us-east-1a due to AZ rebalancing: (task …)." and, once the
// counts differ by at most one, "(service web) is AZ balanced with 1 tasks in us-east-1a, 1
// tasks in us-east-1b." (the forms of observed ECS events).
func (s *Server) Rebalance(clusterName, serviceName string, count int) (Rebalancing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advanceLocked(now)
	var out Rebalancing
	c, svc, err := s.activeServiceLocked(clusterName, serviceName)
	if err != nil {
		return out, err
	}
	switch {
	case count < 1:
		return out, fmt.Errorf("count must be at least 1, not %d", count)
	case svc.azRebalancing != azRebalancingEnabled:
		return out, fmt.Errorf("service %s has availabilityZoneRebalancing %s", svc.name, svc.azRebalancing)
	case !svc.steady:
		return out, fmt.Errorf("service %s has not reached a steady state: ECS rebalances a service in a steady state", svc.name)
	case svc.networkMode(svc.taskDef) != "awsvpc":
		return out, fmt.Errorf("service %s does not run awsvpc tasks: ecslocal places only awsvpc tasks in Availability Zones (their subnets')", svc.name)
	case s.activeTasks(svc)+count > svc.desired*maximumPercent(svc)/100:
		return out, fmt.Errorf("service %s: maximumPercent %d leaves no room for %d more tasks", svc.name, maximumPercent(svc), count)
	}
	zones := s.serviceZones(c, svc)
	if len(zones) < 2 {
		return out, fmt.Errorf("service %s runs in one Availability Zone (%s): there is nothing to rebalance", svc.name, zones[0])
	}
	counts := s.zoneCounts(c, svc)
	before := fmtZoneCounts(counts, zones)
	balanced := isBalanced(counts)
	// Plan the moves: each from the zone with the most tasks to the one with the fewest.
	type move struct {
		tk     *task
		toZone string
	}
	var moves []move
	for range count {
		from, to := "", ""
		for _, z := range zones {
			if from == "" || counts[z] > counts[from] {
				from = z
			}
		}
		for _, z := range zones {
			if z != from && (to == "" || counts[z] < counts[to]) {
				to = z
			}
		}
		var pick *task
		for _, tk := range svc.tasks {
			if tk.az == from && tk.lastStatus == "RUNNING" && tk.desiredStatus == "RUNNING" && tk.unhealthy == nil &&
				!slices.ContainsFunc(moves, func(m move) bool { return m.tk == tk }) {
				pick = tk
				break
			}
		}
		if pick == nil {
			return out, fmt.Errorf("service %s has no more RUNNING tasks in %s to move", svc.name, from)
		}
		moves = append(moves, move{pick, to})
		counts[from]--
		counts[to]++
	}
	if !balanced {
		s.addEvent(svc, now, fmt.Sprintf("(service %s) is not AZ balanced with %s. AZ Rebalancing in progress.", svc.name, before))
	}
	var started []*task
	for _, m := range moves {
		// AWS does not document the stopped reason of a task that rebalancing stops; ecslocal
		// gives it the one the scheduler gives the tasks it stops.
		m.tk.unhealthy = &unhealthyCause{at: now, reason: fmt.Sprintf("Scaling activity initiated by (deployment %s)", m.tk.dep.id), kind: causeRebalance}
		out.Stopping = append(out.Stopping, m.tk.arn)
		tk := s.startTask(c, svc, svc.deployments[0], m.toZone, now)
		started = append(started, tk)
		out.Started = append(out.Started, tk.arn)
	}
	for _, g := range byZone(started) {
		s.addEvent(svc, now, fmt.Sprintf("(service %s) has started %d tasks in %s to AZ Rebalance: %s.", svc.name, len(g.tasks), g.az, fmtTaskList(g.tasks)))
	}
	svc.steady = false
	s.reconcileLocked(c, svc, now)
	return out, nil
}

// rebalanceDone writes, once rebalancing has stopped its last task and the service's zones
// differ by at most one task, that the service is AZ balanced.
func (s *Server) rebalanceDone(c *cluster, svc *service, t time.Time) {
	for _, tk := range svc.tasks {
		if tk.unhealthy != nil && tk.unhealthy.kind == causeRebalance && tk.desiredStatus == "RUNNING" {
			return // more to stop
		}
	}
	zones := s.serviceZones(c, svc)
	if counts := s.zoneCounts(c, svc); isBalanced(counts) {
		s.addEvent(svc, t, fmt.Sprintf("(service %s) is AZ balanced with %s.", svc.name, fmtZoneCounts(counts, zones)))
	}
}

func isBalanced(counts map[string]int) bool {
	lo, hi := -1, -1
	for _, n := range counts {
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return hi-lo <= 1
}

// fmtZoneCounts renders zone counts as ECS's rebalancing events do: "3 tasks in eu-central-1a, 1
// tasks in eu-central-1c, 1 tasks in eu-central-1b", most tasks first.
func fmtZoneCounts(counts map[string]int, zones []string) string {
	order := slices.Clone(zones)
	slices.SortStableFunc(order, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(order))
	for _, z := range order {
		parts = append(parts, fmt.Sprintf("%d tasks in %s", counts[z], z))
	}
	return strings.Join(parts, ", ")
}

type zoneGroup struct {
	az    string
	tasks []*task
}

// byZone groups tasks by Availability Zone, in the order the zones first appear.
func byZone(tasks []*task) []zoneGroup {
	var out []zoneGroup
	for _, tk := range tasks {
		i := slices.IndexFunc(out, func(g zoneGroup) bool { return g.az == tk.az })
		if i < 0 {
			out = append(out, zoneGroup{az: tk.az})
			i = len(out) - 1
		}
		out[i].tasks = append(out[i].tasks, tk)
	}
	return out
}

// pickCapacityProvider chooses the capacity provider of a new task of the service from its
// capacity provider strategy: "The base value designates how many tasks, at a minimum, to run on
// the specified capacity provider", and "The weight value designates the relative percentage of
// the total number of tasks launched that should use the specified capacity provider"
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html). A provider
// below its base gets the task; otherwise the one whose tasks beyond its base are fewest for its
// weight. "" when the service has a launch type.
func (s *Server) pickCapacityProvider(svc *service) string {
	if len(svc.capacityProviders) == 0 {
		return ""
	}
	running := map[string]int{}
	for _, tk := range svc.tasks {
		if tk.desiredStatus == "RUNNING" && tk.lastStatus != "STOPPED" {
			running[tk.capacityProvider]++
		}
	}
	num := func(m map[string]any, k string) int {
		v, _ := m[k].(float64)
		return int(v)
	}
	best, bestScore := "", 0.0
	for _, item := range svc.capacityProviders {
		name, _ := item["capacityProvider"].(string)
		base, weight := num(item, "base"), num(item, "weight")
		if running[name] < base {
			return name
		}
		if weight <= 0 {
			continue
		}
		if score := float64(running[name]-base+1) / float64(weight); best == "" || score < bestScore {
			best, bestScore = name, score
		}
	}
	if best == "" {
		best, _ = svc.capacityProviders[0]["capacityProvider"].(string)
	}
	return best
}

// activeServiceLocked finds an ACTIVE service for the control calls.
func (s *Server) activeServiceLocked(clusterName, serviceName string) (*cluster, *service, error) {
	c, aerr := s.findCluster(clusterName)
	if aerr != nil {
		return nil, nil, fmt.Errorf("cluster %q: %s", clusterName, aerr.Message)
	}
	svc := c.services[serviceName]
	if svc == nil || svc.status != "ACTIVE" {
		return nil, nil, fmt.Errorf("no ACTIVE service %q in cluster %q", serviceName, clusterName)
	}
	return c, svc, nil
}
