package ecslocal

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Health checks are evaluated analytically: what an application answers to a health check is a
// step function of the time since it started (the docker labels ecslocal.elb-health and
// ecslocal.container-health), and the checker's thresholds are fixed, so the whole history of a
// target's or a container's health is known when it starts. simulate computes that history as a
// short list of transitions; the scheduler queues one event at each transition so that ECS reacts
// at the instant a state changes, and describe calls read the state at the current time.

// The docker labels that say how an application answers health checks.
const (
	labelELBHealth       = "ecslocal.elb-health"
	labelContainerHealth = "ecslocal.container-health"
)

type healthKind int

const (
	alwaysHealthy  healthKind = iota // every check passes
	neverHealthy                     // every check fails
	healthyAfter                     // checks fail until `after` has passed since the start, then pass
	unhealthyAfter                   // checks pass until `after` has passed since the start, then fail
	noResponse                       // nothing listens at the target: every check times out
)

// healthBehavior is how an application answers health checks.
type healthBehavior struct {
	kind  healthKind
	after time.Duration
}

// parseHealthBehavior reads a health label: healthy, unhealthy, healthy-after=<duration> or
// unhealthy-after=<duration>. The durations belong to the application, so the server's time
// scale does not apply to them.
func parseHealthBehavior(label, value string) (healthBehavior, error) {
	name, arg, hasArg := strings.Cut(value, "=")
	switch {
	case name == "healthy" && !hasArg:
		return healthBehavior{kind: alwaysHealthy}, nil
	case name == "unhealthy" && !hasArg:
		return healthBehavior{kind: neverHealthy}, nil
	case name == "healthy-after" || name == "unhealthy-after":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return healthBehavior{}, fmt.Errorf("docker label %s=%q: %q is not a duration", label, value, arg)
		}
		k := healthyAfter
		if name == "unhealthy-after" {
			k = unhealthyAfter
		}
		return healthBehavior{kind: k, after: d}, nil
	}
	return healthBehavior{}, fmt.Errorf("docker label %s=%q: want healthy, unhealthy, healthy-after=<duration> or unhealthy-after=<duration>", label, value)
}

// passes tells whether a check off after the start passes.
func (b healthBehavior) passes(off time.Duration) bool {
	switch b.kind {
	case alwaysHealthy:
		return true
	case healthyAfter:
		return off >= b.after
	case unhealthyAfter:
		return off < b.after
	}
	return false
}

// switchAt is the offset from which passes changes its answer, if it ever does.
func (b healthBehavior) switchAt() (time.Duration, bool) {
	if b.kind == healthyAfter || b.kind == unhealthyAfter {
		return b.after, true
	}
	return 0, false
}

// hcRule is a health checker: checks every interval from the start; a target that has not been
// judged yet (initial) is healthy after one passed check; an unhealthy one needs
// healthyFromUnhealthy consecutive passes; unhealthyAfter consecutive counted failures make it
// unhealthy. Failures of checks before countFrom do not count (a container's startPeriod).
type hcRule struct {
	interval             time.Duration
	healthyFromUnhealthy int
	unhealthyAfter       int
	countFrom            time.Duration
}

type hcState int

const (
	hcInitial hcState = iota
	hcHealthy
	hcUnhealthy
)

// hcStep is a state a health checker reaches off after the start. checked tells, for the initial
// state, whether at least one check has been made.
type hcStep struct {
	off     time.Duration
	state   hcState
	checked bool
}

// simulate returns the states a checker following r goes through for an application behaving as
// b, the first being the initial state at offset 0. It is linear in the number of transitions:
// runs of checks with the same outcome are applied at once.
func simulate(r hcRule, b healthBehavior) []hcStep {
	const forever = 1 << 40
	interval := max(r.interval, time.Millisecond)
	// checkAt is the first check made at or after off (check k is made k intervals after the
	// start).
	checkAt := func(off time.Duration) int {
		if off <= interval {
			return 1
		}
		return int((off + interval - 1) / interval)
	}
	// Runs of checks start at these indexes: the first check on its own, then wherever the answer
	// or the counting of failures changes.
	starts := []int{1, 2}
	if d, ok := b.switchAt(); ok {
		starts = append(starts, checkAt(d))
	}
	if r.countFrom > 0 {
		starts = append(starts, checkAt(r.countFrom))
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)

	steps := []hcStep{{off: 0, state: hcInitial}}
	state, passes, fails := hcInitial, 0, 0
	to := func(k int, s hcState) {
		state = s
		steps = append(steps, hcStep{off: time.Duration(k) * interval, state: s, checked: true})
	}
	for i, a := range starts {
		n := forever
		if i+1 < len(starts) {
			n = starts[i+1] - a
		}
		off := time.Duration(a) * interval
		if b.passes(off) {
			fails = 0
			need := 0
			switch state {
			case hcInitial:
				need = 1
			case hcUnhealthy:
				need = max(1, r.healthyFromUnhealthy-passes)
			}
			if need > 0 && need <= n {
				to(a+need-1, hcHealthy)
			}
			passes = min(passes+n, forever)
		} else {
			passes = 0
			if off >= r.countFrom {
				if state != hcUnhealthy {
					if need := max(1, r.unhealthyAfter-fails); need <= n {
						to(a+need-1, hcUnhealthy)
					}
				}
				fails = min(fails+n, forever)
			}
		}
		if a == 1 && state == hcInitial {
			steps = append(steps, hcStep{off: interval, state: hcInitial, checked: true})
		}
	}
	return steps
}

// healthStep is a state of a target or container at an instant: one of ELB's target states or
// ECS's container health statuses, with ELB's reason code and description.
type healthStep struct {
	at                  time.Time
	state               string
	reason, description string
}

// track is the history of a health state, oldest first.
type track []healthStep

// at returns the state at time t: the latest step at or before t (the first one before it
// starts).
func (tr track) at(t time.Time) healthStep {
	if len(tr) == 0 {
		return healthStep{}
	}
	cur := tr[0]
	for _, s := range tr[1:] {
		if s.at.After(t) {
			break
		}
		cur = s
	}
	return cur
}

// cut drops the steps after t, so that a new step can take over at t.
func (tr track) cut(t time.Time) track {
	out := tr[:0:0]
	for _, s := range tr {
		if !s.at.After(t) {
			out = append(out, s)
		}
	}
	return out
}

// ELB target states, reason codes and descriptions, as DescribeTargetHealth reports them: the
// TargetHealth reference (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html)
// and the table of descriptions in "Health checks for Application Load Balancer target groups"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
const (
	tsInitial   = "initial"
	tsHealthy   = "healthy"
	tsUnhealthy = "unhealthy"
	tsUnused    = "unused"
	tsDraining  = "draining"

	reasonRegistration   = "Elb.RegistrationInProgress"
	reasonInitialChecks  = "Elb.InitialHealthChecking"
	reasonCodeMismatch   = "Target.ResponseCodeMismatch"
	reasonTimeout        = "Target.Timeout"
	reasonFailedChecks   = "Target.FailedHealthChecks"
	reasonNotRegistered  = "Target.NotRegistered"
	reasonNotInUse       = "Target.NotInUse"
	reasonDeregistration = "Target.DeregistrationInProgress"

	descRegistration   = "Target registration is in progress"
	descInitialChecks  = "Initial health checks in progress"
	descTimeout        = "Request timed out"
	descFailedChecks   = "Health checks failed"
	descNotRegistered  = "Target is not registered to the target group"
	descNotInUse       = "Target group is not configured to receive traffic from the load balancer"
	descDeregistration = "Target deregistration is in progress"

	// An application labelled unhealthy answers its HTTP health checks with this code.
	unhealthyHTTPCode = 502
)

// ECS container and task health statuses (the HealthCheck reference,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html).
const (
	healthUnknown   = "UNKNOWN"
	healthHealthy   = "HEALTHY"
	healthUnhealthy = "UNHEALTHY"
)
