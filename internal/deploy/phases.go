package deploy

import (
	"fmt"
	"time"
)

// Phase is one step of a rollout: the new revision grows to Percent of the desired count, or to
// Count tasks, then the rollout waits BakeTime while still watching for failures.
type Phase struct {
	Percent  int // 1–100, or 0 when Count is set
	Count    int // ≥ 1, or 0 when Percent is set
	BakeTime time.Duration
}

// PhaseCounts are the task counts that a phase brings the two services to.
type PhaseCounts struct {
	New int `json:"new_count"`
	Old int `json:"old_count"`
}

// PhaseWarning says that a phase was ignored because it would have shrunk the new revision.
type PhaseWarning struct {
	Phase int // 1-based
	Count int // the count the phase asked for
	Kept  int // the count it keeps instead
}

func (w PhaseWarning) String() string {
	return fmt.Sprintf("phase %d asks for %d tasks, fewer than an earlier phase's %d; phases only grow the new revision, so it keeps %d tasks",
		w.Phase, w.Count, w.Kept, w.Kept)
}

// LastPhaseError says that the last phase does not bring the new revision to the desired count.
type LastPhaseError struct {
	Phase   int // 1-based index of the last phase
	Count   int
	Desired int
}

func (e *LastPhaseError) Error() string {
	return fmt.Sprintf("the last phase (phase %d) brings the new revision to %d tasks, but the desired count is %d; the last phase must reach it (use percent = 100)",
		e.Phase, e.Count, e.Desired)
}

// DefaultPhases is the rollout used when no phases are configured: one phase at 100 %.
var DefaultPhases = []Phase{{Percent: 100}}

// phaseTarget is the new revision's count that a phase asks for: ceil(desired × percent / 100)
// for a percent, min(count, desired) for a count.
func phaseTarget(p Phase, desired int) int {
	if p.Percent > 0 {
		return ceilDiv(desired*p.Percent, 100)
	}
	return min(p.Count, desired)
}

// PlanPhases computes the counts each phase brings the services to (DESIGN.md §4). desired is the
// new revision's target, prev the old service's pre-setup count P. The new count only grows: a
// phase asking for fewer tasks than an earlier one keeps the earlier count and yields a warning.
// The old service shrinks in inverse proportion, ceil(P × (desired − n) / desired), and is 0
// after the last phase, which must reach desired.
func PlanPhases(desired, prev int, phases []Phase) ([]PhaseCounts, []PhaseWarning, error) {
	if desired < 0 || prev < 0 {
		return nil, nil, fmt.Errorf("counts must not be negative (desired %d, previous %d)", desired, prev)
	}
	if len(phases) == 0 {
		phases = DefaultPhases
	}
	out := make([]PhaseCounts, len(phases))
	var warnings []PhaseWarning
	reached := 0
	for i, p := range phases {
		n := phaseTarget(p, desired)
		if n < reached {
			warnings = append(warnings, PhaseWarning{Phase: i + 1, Count: n, Kept: reached})
			n = reached
		}
		reached = n
		old := 0
		if desired > 0 && i < len(phases)-1 {
			old = ceilDiv(prev*(desired-n), desired)
		}
		out[i] = PhaseCounts{New: n, Old: old}
	}
	if last := phaseTarget(phases[len(phases)-1], desired); last < desired {
		return nil, warnings, &LastPhaseError{Phase: len(phases), Count: last, Desired: desired}
	}
	return out, warnings, nil
}

func ceilDiv(a, b int) int {
	return (a + b - 1) / b
}
