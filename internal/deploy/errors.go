package deploy

import (
	"fmt"
	"strings"
)

// InputError is a problem with the configuration found before anything was changed: a missing
// cluster or task definition, a task definition of another family, a missing desired count.
type InputError struct {
	Field   string // the configuration argument at fault, e.g. "task_definition"
	Message string
	Err     error
}

func (e *InputError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *InputError) Unwrap() error { return e.Err }

// LiveCount is a service's counts as last seen.
type LiveCount struct {
	Service string
	Desired int
	Running int
}

func (l LiveCount) String() string {
	return fmt.Sprintf("%s: desired %d, running %d", l.Service, l.Desired, l.Running)
}

// RolloutError reports a rollout that failed: where, why, with ECS's evidence, which rollback
// steps ran and what is in production now.
type RolloutError struct {
	Revision int
	Service  string // the new revision's service
	Phase    int    // 1-based; 0 when it failed in setup or finish
	Stage    string // what the engine was doing, e.g. "waiting for web__8 to 2 running tasks"
	Failure  *PhaseFailure
	// RollbackSteps lists what the rollback did, in order ("R2: …", "R1: …").
	RollbackSteps []string
	RolledBack    bool  // the rollback completed
	RollbackErr   error // why the rollback did not complete
	// Production is the service serving now and its count, e.g. "web__7 at 8 tasks".
	Production string
	Live       []LiveCount // live counts when the rollback failed
	Created    bool        // the failed revision was a first deployment and was deleted
}

func (e *RolloutError) Unwrap() error { return e.Failure }

// Error renders the whole report; the first line is a summary.
func (e *RolloutError) Error() string {
	var b strings.Builder
	where := "during setup"
	if e.Phase > 0 {
		where = fmt.Sprintf("in phase %d", e.Phase)
	}
	fmt.Fprintf(&b, "revision %d (%s) failed %s while %s: %s", e.Revision, e.Service, where, e.Stage, e.Failure.Message)
	for _, ev := range e.Failure.Evidence {
		b.WriteString("\n  " + ev)
	}
	if len(e.RollbackSteps) > 0 {
		b.WriteString("\nrollback:")
		for _, s := range e.RollbackSteps {
			b.WriteString("\n  " + s)
		}
	}
	switch {
	case e.RollbackErr != nil:
		fmt.Fprintf(&b, "\nthe rollback did not complete: %v", e.RollbackErr)
		if len(e.Live) > 0 {
			b.WriteString("\nlive now:")
			for _, l := range e.Live {
				b.WriteString("\n  " + l.String())
			}
		}
		b.WriteString("\nno production capacity was removed beyond what is listed above; applying again resumes safely from the recorded production service")
	case e.Created:
		fmt.Fprintf(&b, "\nthe new service %s was scaled to 0 and deleted; nothing is in production", e.Service)
	case e.RolledBack:
		fmt.Fprintf(&b, "\nin production now: %s", e.Production)
	}
	return b.String()
}
