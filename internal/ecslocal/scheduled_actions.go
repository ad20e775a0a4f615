package ecslocal

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Timezone names resolve wherever ecslocal runs, with or without a zoneinfo database
)

// Application Auto Scaling's scheduled actions and delayed range clamping.
//
// References:
//   - PutScheduledAction (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html)
//   - DescribeScheduledActions (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScheduledActions.html)
//   - DeleteScheduledAction (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScheduledAction.html)
//   - ScheduledAction (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ScheduledAction.html)
//   - ScalableTargetAction (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ScalableTargetAction.html)
//   - "How scheduled scaling for Application Auto Scaling works"
//     (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html)

// clampDelay is how long after a RegisterScalableTarget that leaves the current desired count
// outside the new range the scaling activity that moves it in completes. AWS does this through a
// scaling activity ("Application Auto Scaling also initiates scaling activities when you modify
// the maximum or minimum size of the scalable target", user guide, "Scaling activities for
// Application Auto Scaling",
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html),
// which is not synchronous with the call; AWS documents no duration. ecslocal takes 5 seconds of
// emulated time, scaled by Options.TimeScale like the other AWS durations: long enough that a
// client that reads the desired count right after registering sees the old one (as it can on
// AWS), short enough that tests wait for it cheaply.
const clampDelay = 5 * time.Second

// aasSchedule is the time-driven part of Application Auto Scaling in ecslocal.
type aasSchedule struct {
	actions map[string]*scheduledAction // by resource ID + "/" + name
	clamps  map[string]*pendingClamp    // by resource ID: at most one in progress per target
	// advancing guards advanceScalingLocked against itself: it advances the task scheduler to
	// each due time through advanceLocked, which calls it again.
	advancing bool
}

func newAASSchedule() *aasSchedule {
	return &aasSchedule{actions: map[string]*scheduledAction{}, clamps: map[string]*pendingClamp{}}
}

type scheduledAction struct {
	arn, name, resourceID string
	schedule              string
	timezone              string // as given; "" is UTC
	expr                  *scheduleExpr
	loc                   *time.Location
	start, end            time.Time // zero: none
	minCap, maxCap        *int
	created               time.Time
	anchor                time.Time // rate expressions count from here (see putScheduledAction)
	next                  time.Time // the next occurrence that fires; zero: none
}

// pendingClamp is a RegisterScalableTarget's scaling activity in progress.
type pendingClamp struct {
	at  time.Time
	act *scalingActivity
}

// occurrenceAfter is the action's first occurrence after t, within its StartTime and EndTime for
// a recurring schedule ("When you specify start and end times with a recurring schedule using a
// cron expression or rates, they form the boundaries for when the recurring action starts and
// stops", PutScheduledAction). ok is false when there is none.
func (a *scheduledAction) occurrenceAfter(t time.Time) (time.Time, bool) {
	var next time.Time
	switch a.expr.kind {
	case "at":
		v := a.expr.at
		next = time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, a.loc)
		return next, next.After(t)
	case "rate":
		k := int64(1)
		if t.After(a.anchor) {
			k = int64(t.Sub(a.anchor)/a.expr.every) + 1
		}
		next = a.anchor.Add(time.Duration(k) * a.expr.every)
	case "cron":
		from := t
		if !a.start.IsZero() && a.start.Add(-time.Nanosecond).After(from) {
			from = a.start.Add(-time.Nanosecond)
		}
		var ok bool
		if next, ok = a.expr.cron.next(from, a.loc); !ok {
			return time.Time{}, false
		}
	}
	if !a.end.IsZero() && next.After(a.end) {
		return time.Time{}, false
	}
	return next, true
}

func (a *scheduledAction) plan(after time.Time) {
	a.next = time.Time{}
	if n, ok := a.occurrenceAfter(after); ok {
		a.next = n
	}
}

func scheduledKey(resourceID, name string) string { return resourceID + "/" + name }

// scheduledActionName checks a ScheduledActionName: 1 to 256 characters, no control characters,
// colon, slash or vertical bar, and no leading or trailing space (the pattern of
// ScheduledActionName in the PutScheduledAction API reference,
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html).
func scheduledActionName(name string) *apiError {
	bad := name == "" || len(name) > 256 || strings.TrimSpace(name) != name ||
		strings.ContainsFunc(name, func(r rune) bool {
			return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == ':' || r == '/' || r == '|'
		})
	if bad {
		return errf(codeValidation, "1 validation error detected: Value '%s' at 'scheduledActionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!((^[ ]+.*)|(.*([\\u0000-\\u001f]|[\\u007f-\\u009f]|[:/|])+.*)|(.*[ ]+$))).+", name)
	}
	return nil
}

// putScheduledAction is PutScheduledAction: it creates or updates a scheduled action of a
// registered scalable target ("You cannot create a scheduled action until you have registered the
// resource as a scalable target": ObjectNotFoundException otherwise). "To update a scheduled
// action, specify the parameters that you want to change. If you don't specify start and end
// times, the old values are deleted."
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html).
func (s *Server) putScheduledAction(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		targetKey
		ScheduledActionName  string `json:"ScheduledActionName"`
		Schedule             *string
		Timezone             *string
		StartTime            *epoch
		EndTime              *epoch
		ScalableTargetAction *struct {
			MinCapacity *int `json:"MinCapacity"`
			MaxCapacity *int `json:"MaxCapacity"`
		}
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := scheduledActionName(in.ScheduledActionName); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	key := scheduledKey(in.ResourceID, in.ScheduledActionName)
	a := s.sched.actions[key]
	if a == nil {
		if in.Schedule == nil {
			return nil, errf(codeValidation, "Schedule is required when creating a scheduled action.")
		}
		a = &scheduledAction{
			arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledAction:%s:resource/ecs/%s:scheduledActionName/%s",
				rc.region, s.opts.AccountID, randomUUID(), in.ResourceID, in.ScheduledActionName),
			name: in.ScheduledActionName, resourceID: in.ResourceID, created: rc.now, loc: time.UTC,
		}
	}
	upd := *a
	if in.Schedule != nil {
		expr, err := parseSchedule(*in.Schedule)
		if err != nil {
			return nil, err
		}
		upd.schedule, upd.expr = *in.Schedule, expr
	}
	if in.Timezone != nil {
		// "Valid values are the canonical names of the IANA time zones supported by Joda-Time
		// (such as Etc/GMT+9 or Pacific/Tahiti)" (PutScheduledAction, Timezone).
		loc, err := time.LoadLocation(*in.Timezone)
		if err != nil || *in.Timezone == "" || *in.Timezone == "Local" {
			return nil, errf(codeValidation, "Invalid Timezone: %s. Use a canonical IANA time zone name such as Etc/GMT+9 or Pacific/Tahiti.", *in.Timezone)
		}
		upd.timezone, upd.loc = *in.Timezone, loc
	}
	upd.start, upd.end = time.Time{}, time.Time{}
	if in.StartTime != nil {
		upd.start = time.Time(*in.StartTime)
	}
	if in.EndTime != nil {
		upd.end = time.Time(*in.EndTime)
	}
	if !upd.start.IsZero() && !upd.end.IsZero() && !upd.end.After(upd.start) {
		return nil, errf(codeValidation, "EndTime must be after StartTime.")
	}
	if act := in.ScalableTargetAction; act != nil {
		if (act.MinCapacity != nil && *act.MinCapacity < 0) || (act.MaxCapacity != nil && *act.MaxCapacity < 0) {
			return nil, errf(codeValidation, "Minimum and maximum capacity must be greater than or equal to 0.")
		}
		if act.MinCapacity != nil && act.MaxCapacity != nil && *act.MinCapacity > *act.MaxCapacity {
			return nil, errf(codeValidation, "Minimum capacity cannot be greater than maximum capacity.")
		}
		upd.minCap, upd.maxCap = act.MinCapacity, act.MaxCapacity
	}
	if s.targets[in.ResourceID] == nil {
		return nil, in.notFound("registered")
	}
	// A rate counts from the StartTime, else from when its schedule or start time was last set.
	if a.expr == nil || in.Schedule != nil || !upd.start.Equal(a.start) {
		upd.anchor = rc.now
		if !upd.start.IsZero() {
			upd.anchor = upd.start
		}
	}
	upd.plan(rc.now)
	*a = upd
	s.sched.actions[key] = a
	return map[string]any{}, nil
}

// describeScheduledActions is DescribeScheduledActions: the scheduled actions of a namespace,
// filtered by ResourceId, ScalableDimension (which needs a resource ID) and ScheduledActionNames,
// in pages of MaxResults (1–50, default 50).
func (s *Server) describeScheduledActions(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ServiceNamespace     string   `json:"ServiceNamespace"`
		ResourceID           string   `json:"ResourceId"`
		ScalableDimension    string   `json:"ScalableDimension"`
		ScheduledActionNames []string `json:"ScheduledActionNames"`
		MaxResults           *int     `json:"MaxResults"`
		NextToken            string   `json:"NextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ServiceNamespace == "" {
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if in.ScalableDimension != "" && in.ResourceID == "" {
		return nil, errf(codeValidation, "If you specify a scalable dimension, you must also specify a resource ID.")
	}
	var all []map[string]any
	if in.ServiceNamespace == ecsNamespace && (in.ScalableDimension == "" || in.ScalableDimension == ecsDimension) {
		for _, key := range sortedKeys(s.sched.actions) {
			a := s.sched.actions[key]
			if in.ResourceID != "" && a.resourceID != in.ResourceID {
				continue
			}
			if len(in.ScheduledActionNames) > 0 && !slices.Contains(in.ScheduledActionNames, a.name) {
				continue
			}
			all = append(all, a.json())
		}
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 50, 50, codeValidation, codeInvalidNextToken)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"ScheduledActions": nonNil(page)}, "NextToken", next), nil
}

// json is the action as a ScheduledAction of the API reference
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ScheduledAction.html);
// absent members are left out.
func (a *scheduledAction) json() map[string]any {
	target := map[string]any{}
	if a.minCap != nil {
		target["MinCapacity"] = *a.minCap
	}
	if a.maxCap != nil {
		target["MaxCapacity"] = *a.maxCap
	}
	m := map[string]any{
		"ScheduledActionName": a.name, "ScheduledActionARN": a.arn, "ServiceNamespace": ecsNamespace,
		"Schedule": a.schedule, "ResourceId": a.resourceID, "ScalableDimension": ecsDimension,
		"ScalableTargetAction": target, "CreationTime": ts(a.created),
	}
	if a.timezone != "" {
		m["Timezone"] = a.timezone
	}
	if !a.start.IsZero() {
		m["StartTime"] = ts(a.start)
	}
	if !a.end.IsZero() {
		m["EndTime"] = ts(a.end)
	}
	return m
}

// deleteScheduledAction is DeleteScheduledAction; a missing action is an
// ObjectNotFoundException.
func (s *Server) deleteScheduledAction(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		targetKey
		ScheduledActionName string `json:"ScheduledActionName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := scheduledActionName(in.ScheduledActionName); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	key := scheduledKey(in.ResourceID, in.ScheduledActionName)
	if s.sched.actions[key] == nil {
		return nil, errf(codeObjectNotFound, "No scheduled action found for service namespace: %s, resource ID: %s, scalable dimension: %s, scheduled action name: %s",
			in.ServiceNamespace, in.ResourceID, in.ScalableDimension, in.ScheduledActionName)
	}
	delete(s.sched.actions, key)
	return map[string]any{}, nil
}

// deregisterScheduledLocked forgets a deregistered target's scheduled actions ("If a scalable
// target is deregistered, the scalable target is no longer available to run scheduled actions.
// Any scheduled actions that were specified for the scalable target are deleted",
// PutScheduledAction) and its range change still in progress, whose activity never happens.
func (s *Server) deregisterScheduledLocked(resourceID string) {
	for k, a := range s.sched.actions {
		if a.resourceID == resourceID {
			delete(s.sched.actions, k)
		}
	}
	if p := s.sched.clamps[resourceID]; p != nil {
		s.activities = slices.DeleteFunc(s.activities, func(a *scalingActivity) bool { return a == p.act })
		delete(s.sched.clamps, resourceID)
	}
}

// clampLaterLocked starts the scaling activity that moves a service's desired count into its
// target's range after RegisterScalableTarget changed it; it completes clampDelay later. An
// activity still in progress for the target is replaced; none is started, and one in progress is
// dropped, when the count already is within the range.
func (s *Server) clampLaterLocked(tg *scalableTarget, desired int, now time.Time) {
	if p := s.sched.clamps[tg.resourceID]; p != nil {
		s.activities = slices.DeleteFunc(s.activities, func(a *scalingActivity) bool { return a == p.act })
		delete(s.sched.clamps, tg.resourceID)
	}
	n := min(max(desired, tg.min), tg.max)
	if n == desired {
		return
	}
	cause := fmt.Sprintf("minimum capacity was set to %d", tg.min)
	if n < desired {
		cause = fmt.Sprintf("maximum capacity was set to %d", tg.max)
	}
	act := &scalingActivity{
		id: randomUUID(), resourceID: tg.resourceID, cause: cause, start: now,
		description: fmt.Sprintf("Setting desired count to %d.", n), status: "InProgress",
	}
	s.addActivity(act)
	s.sched.clamps[tg.resourceID] = &pendingClamp{at: now.Add(s.scaled(clampDelay)), act: act}
}

// finishClampLocked completes a range change's scaling activity at `at`: the desired count moves
// into the target's range as it is then.
func (s *Server) finishClampLocked(resourceID string, p *pendingClamp, at time.Time) {
	delete(s.sched.clamps, resourceID)
	tg := s.targets[resourceID]
	c, svc := s.ecsServiceOf(resourceID)
	if tg == nil || svc == nil {
		return
	}
	n := min(max(svc.desired, tg.min), tg.max)
	p.act.description = fmt.Sprintf("Setting desired count to %d.", n)
	p.act.statusMessage = fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", n)
	p.act.status, p.act.end = "", at
	s.setDesiredLocked(c, svc, n, at)
}

// fireLocked runs a scheduled action at `at`: "A scheduled action sets the MinCapacity and
// MaxCapacity to what is specified by the scheduled action at the date and time specified", and
// then "If current capacity is less than the specified minimum capacity, Application Auto Scaling
// scales out ... If current capacity is greater than the specified maximum capacity, Application
// Auto Scaling scales in" ("How scheduled scaling for Application Auto Scaling works"). It does
// nothing while the target's ScheduledScalingSuspended is true ("Set the value to true if you
// don't want Application Auto Scaling to add or remove capacity by initiating scheduled
// actions", SuspendedState,
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_SuspendedState.html).
// The activity's cause has the form of the user guide's scheduled scaling examples
// ("scheduled action name <name> was triggered").
func (s *Server) fireLocked(a *scheduledAction, at time.Time) {
	tg := s.targets[a.resourceID]
	if tg == nil || isTrue(tg.suspended.ScheduledScalingSuspended) {
		return
	}
	newMin, newMax := tg.min, tg.max
	if a.minCap != nil {
		newMin = *a.minCap
	}
	if a.maxCap != nil {
		newMax = *a.maxCap
	}
	cause := fmt.Sprintf("scheduled action name %s was triggered", a.name)
	rangeText := fmt.Sprintf("min capacity to %d and max capacity to %d", newMin, newMax)
	if newMin > newMax {
		// "In some cases, however, you must include both sizes to ensure that the new minimum
		// capacity is not greater than the maximum capacity" (same page): the action fails.
		s.addActivity(&scalingActivity{
			id: randomUUID(), resourceID: a.resourceID, cause: cause, start: at, end: at, status: "Failed",
			description:   "Setting " + rangeText,
			statusMessage: "Minimum capacity cannot be greater than maximum capacity.",
		})
		return
	}
	changed := newMin != tg.min || newMax != tg.max
	tg.min, tg.max = newMin, newMax
	if c, svc := s.ecsServiceOf(a.resourceID); svc != nil {
		if n := min(max(svc.desired, newMin), newMax); n != svc.desired {
			s.recordActivity(a.resourceID, n, cause, at)
			s.setDesiredLocked(c, svc, n, at)
			return
		}
	}
	if changed {
		s.addActivity(&scalingActivity{
			id: randomUUID(), resourceID: a.resourceID, cause: cause, start: at, end: at,
			description: "Setting " + rangeText, statusMessage: "Successfully set " + rangeText,
		})
	}
}

// advanceScalingLocked applies, in time order up to now, the range changes in progress that are
// due and the scheduled actions' occurrences, advancing the task scheduler to each one's instant
// first. A recurring action whose several occurrences passed with nothing else due between them
// fires once, at the first: the later ones would find the range and the count already as they
// set them.
func (s *Server) advanceScalingLocked(now time.Time) {
	st := s.sched
	if st.advancing {
		return
	}
	st.advancing = true
	defer func() { st.advancing = false }()
	for {
		at, clampID, action := st.nextDue(nil)
		if at.IsZero() || at.After(now) {
			return
		}
		s.advanceLocked(at)
		if action == nil {
			s.finishClampLocked(clampID, st.clamps[clampID], at)
			continue
		}
		s.fireLocked(action, at)
		action.plan(at)
		if other, _, _ := st.nextDue(action); !action.next.IsZero() && !action.next.After(now) &&
			(other.IsZero() || action.next.Before(other)) {
			bound := now
			if !other.IsZero() && other.Add(-time.Nanosecond).Before(now) {
				bound = other.Add(-time.Nanosecond)
			}
			action.plan(bound)
		}
	}
}

// nextDue is the earliest due time of a range change in progress (clampID) or of a scheduled
// action's next occurrence (action), leaving out the action `except`; zero when nothing is due.
// Ties go to range changes, then to actions in name order.
func (st *aasSchedule) nextDue(except *scheduledAction) (at time.Time, clampID string, action *scheduledAction) {
	for _, id := range sortedKeys(st.clamps) {
		if p := st.clamps[id]; at.IsZero() || p.at.Before(at) {
			at, clampID = p.at, id
		}
	}
	for _, key := range sortedKeys(st.actions) {
		a := st.actions[key]
		if a == except || a.next.IsZero() {
			continue
		}
		if at.IsZero() || a.next.Before(at) {
			at, clampID, action = a.next, "", a
		}
	}
	return at, clampID, action
}
