package ecslocal

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// aasOps maps Application Auto Scaling operation names to their handlers.
var aasOps = map[string]handler{
	"RegisterScalableTarget":    (*Server).registerScalableTarget,
	"DeregisterScalableTarget":  (*Server).deregisterScalableTarget,
	"DescribeScalableTargets":   (*Server).describeScalableTargets,
	"PutScalingPolicy":          (*Server).putScalingPolicy,
	"DeleteScalingPolicy":       (*Server).deleteScalingPolicy,
	"DescribeScalingPolicies":   (*Server).describeScalingPolicies,
	"DescribeScalingActivities": (*Server).describeScalingActivities,
	"PutScheduledAction":        (*Server).putScheduledAction,
	"DescribeScheduledActions":  (*Server).describeScheduledActions,
	"DeleteScheduledAction":     (*Server).deleteScheduledAction,
}

const (
	ecsNamespace = "ecs"
	ecsDimension = "ecs:service:DesiredCount"
)

// SuspendedState is Application Auto Scaling's suspension flags of a scalable target.
type SuspendedState struct {
	DynamicScalingInSuspended  *bool `json:"DynamicScalingInSuspended,omitempty"`
	DynamicScalingOutSuspended *bool `json:"DynamicScalingOutSuspended,omitempty"`
	ScheduledScalingSuspended  *bool `json:"ScheduledScalingSuspended,omitempty"`
}

type scalableTarget struct {
	arn        string
	resourceID string
	min, max   int
	roleARN    string
	created    time.Time
	suspended  SuspendedState
	tags       map[string]string
}

type scalingPolicy struct {
	arn        string
	name       string
	resourceID string
	policyType string
	targetCfg  map[string]any
	stepCfg    map[string]any
	predictive map[string]any
	alarms     []map[string]string
	created    time.Time
}

// scalableResourceID is the Application Auto Scaling resource ID of an ECS service.
func scalableResourceID(cluster, service string) string {
	return "service/" + cluster + "/" + service
}

type targetKey struct {
	ServiceNamespace  string `json:"ServiceNamespace"`
	ResourceID        string `json:"ResourceId"`
	ScalableDimension string `json:"ScalableDimension"`
}

// check validates the namespace, resource ID and dimension. ecslocal emulates only ECS services.
func (k targetKey) check() *apiError {
	if k.ServiceNamespace == "" || k.ResourceID == "" || k.ScalableDimension == "" {
		return errf(codeValidation, "ServiceNamespace, ResourceId and ScalableDimension are required.")
	}
	if k.ServiceNamespace != ecsNamespace || k.ScalableDimension != ecsDimension ||
		len(strings.Split(k.ResourceID, "/")) != 3 || !strings.HasPrefix(k.ResourceID, "service/") {
		return errf(codeValidation, "Unsupported service namespace, resource type or scalable dimension")
	}
	return nil
}

func (k targetKey) notFound(verb string) *apiError {
	return errf(codeObjectNotFound, "No scalable target %s for service namespace: %s, resource ID: %s, scalable dimension: %s",
		verb, k.ServiceNamespace, k.ResourceID, k.ScalableDimension)
}

// ecsServiceOf finds the ACTIVE ECS service behind a resource ID "service/<cluster>/<name>".
func (s *Server) ecsServiceOf(resourceID string) (*cluster, *service) {
	parts := strings.Split(resourceID, "/")
	if len(parts) != 3 {
		return nil, nil
	}
	c := s.clusters[parts[1]]
	if c == nil || c.status != "ACTIVE" {
		return nil, nil
	}
	svc := c.services[parts[2]]
	if svc == nil || svc.status != "ACTIVE" {
		return nil, nil
	}
	return c, svc
}

// setDesiredLocked changes a service's desired count the way an UpdateService with only
// desiredCount does.
func (s *Server) setDesiredLocked(c *cluster, svc *service, n int, t time.Time) {
	if svc.desired == n {
		return
	}
	svc.desired = n
	svc.deployments[0].updatedAt = t
	svc.steady = false
	s.reconcileLocked(c, svc, t)
}

func (s *Server) registerScalableTarget(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		targetKey
		MinCapacity    *int              `json:"MinCapacity"`
		MaxCapacity    *int              `json:"MaxCapacity"`
		RoleARN        string            `json:"RoleARN"`
		SuspendedState *SuspendedState   `json:"SuspendedState"`
		Tags           map[string]string `json:"Tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	_, svc := s.ecsServiceOf(in.ResourceID)
	if svc == nil {
		return nil, errf(codeValidation, "ECS service doesn't exist: %s", in.ResourceID)
	}
	tg := s.targets[in.ResourceID]
	isNew := tg == nil
	if isNew {
		// MinCapacity and MaxCapacity: "This parameter is required if you are registering a
		// scalable target" (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html);
		// a missing parameter is a ValidationException, the operation's error for bad input.
		if in.MinCapacity == nil || in.MaxCapacity == nil {
			return nil, errf(codeValidation, "MinCapacity and MaxCapacity are required when registering a new scalable target.")
		}
		tg = &scalableTarget{
			arn:        fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", rc.region, s.opts.AccountID, randomHex(18)),
			resourceID: in.ResourceID, created: rc.now, tags: in.Tags,
			roleARN: fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService", s.opts.AccountID),
		}
	} else if in.Tags != nil {
		return nil, errf(codeValidation, "The scalable target that you tried to tag already exists. To update tags on an existing scalable target, use the TagResource API.")
	}
	newMin, newMax := tg.min, tg.max
	if in.MinCapacity != nil {
		newMin = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		newMax = *in.MaxCapacity
	}
	if newMin < 0 || newMax < 0 {
		return nil, errf(codeValidation, "Minimum and maximum capacity must be greater than or equal to 0.")
	}
	if newMin > newMax {
		return nil, errf(codeValidation, "Minimum capacity cannot be greater than maximum capacity.")
	}
	tg.min, tg.max = newMin, newMax
	if in.RoleARN != "" {
		tg.roleARN = in.RoleARN
	}
	// A SuspendedState given replaces the target's: each of its members defaults to false ("The
	// default is false", SuspendedState API reference,
	// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_SuspendedState.html;
	// "Setting it to false (default) resumes the specified scaling activities",
	// RegisterScalableTarget, SuspendedState). An omitted SuspendedState leaves it as it was ("Any
	// parameters that you don't specify are not changed by this update request",
	// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
	if in.SuspendedState != nil {
		tg.suspended = SuspendedState{
			DynamicScalingInSuspended:  boolPtr(isTrue(in.SuspendedState.DynamicScalingInSuspended)),
			DynamicScalingOutSuspended: boolPtr(isTrue(in.SuspendedState.DynamicScalingOutSuspended)),
			ScheduledScalingSuspended:  boolPtr(isTrue(in.SuspendedState.ScheduledScalingSuspended)),
		}
	}
	s.targets[in.ResourceID] = tg
	// Registering a target, or changing its range, moves the current capacity into the range, as
	// a scaling activity: Application Auto Scaling "also initiates scaling activities when you
	// modify the maximum or minimum size of the scalable target" ("Scaling activities for
	// Application Auto Scaling",
	// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html),
	// and a new registration "changes the resource's current capacity to a value that is inside of
	// this range" (RegisterScalableTarget API reference). An update that names neither capacity
	// (a suspension, say) modifies no range and starts no activity: "Any parameters that you
	// don't specify are not changed by this update request". The activity is InProgress until it
	// completes clampDelay later (scheduled_actions.go).
	if isNew || in.MinCapacity != nil || in.MaxCapacity != nil {
		s.clampLaterLocked(tg, svc.desired, rc.now)
	}
	return map[string]any{"ScalableTargetARN": tg.arn}, nil
}

// deregisterTargetLocked removes a scalable target, its policies and its scheduled actions; it
// reports whether there was one.
func (s *Server) deregisterTargetLocked(resourceID string) bool {
	if s.targets[resourceID] == nil {
		return false
	}
	delete(s.targets, resourceID)
	s.deregisterScheduledLocked(resourceID)
	for k, p := range s.policies {
		if p.resourceID == resourceID {
			delete(s.policies, k)
		}
	}
	return true
}

// deregisterScalableTarget is DeregisterScalableTarget
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html):
// "Deregistering a scalable target deletes the scaling policies and the scheduled actions that
// are associated with it". A target that is not registered is ObjectNotFoundException, one of the
// operation's Errors: "For any operation that deletes or deregisters a resource, this exception
// is thrown if the resource cannot be found." The message is the form AWS answers ("No scalable
// target registered for service namespace: ecs, resource ID: service/…, scalable dimension:
// ecs:service:DesiredCount").
func (s *Server) deregisterScalableTarget(rc *reqCtx, body []byte) (any, *apiError) {
	var in targetKey
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if !s.deregisterTargetLocked(in.ResourceID) {
		return nil, in.notFound("registered")
	}
	return map[string]any{}, nil
}

type scalableTargetJSON struct {
	ServiceNamespace  string         `json:"ServiceNamespace"`
	ResourceID        string         `json:"ResourceId"`
	ScalableDimension string         `json:"ScalableDimension"`
	MinCapacity       int            `json:"MinCapacity"`
	MaxCapacity       int            `json:"MaxCapacity"`
	RoleARN           string         `json:"RoleARN"`
	CreationTime      *epoch         `json:"CreationTime"`
	SuspendedState    SuspendedState `json:"SuspendedState"`
	ScalableTargetARN string         `json:"ScalableTargetARN"`
}

func (s *Server) describeScalableTargets(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ServiceNamespace  string   `json:"ServiceNamespace"`
		ResourceIDs       []string `json:"ResourceIds"`
		ScalableDimension string   `json:"ScalableDimension"`
		MaxResults        *int     `json:"MaxResults"`
		NextToken         string   `json:"NextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ServiceNamespace == "" {
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if in.ScalableDimension != "" && len(in.ResourceIDs) == 0 {
		return nil, errf(codeValidation, "If you specify a scalable dimension, you must also specify a resource ID.")
	}
	var all []scalableTargetJSON
	if in.ServiceNamespace == ecsNamespace && (in.ScalableDimension == "" || in.ScalableDimension == ecsDimension) {
		for _, id := range sortedKeys(s.targets) {
			if len(in.ResourceIDs) > 0 && !slices.Contains(in.ResourceIDs, id) {
				continue
			}
			tg := s.targets[id]
			all = append(all, scalableTargetJSON{
				ServiceNamespace: ecsNamespace, ResourceID: id, ScalableDimension: ecsDimension,
				MinCapacity: tg.min, MaxCapacity: tg.max, RoleARN: tg.roleARN,
				CreationTime: ts(tg.created), SuspendedState: tg.suspendedJSON(), ScalableTargetARN: tg.arn,
			})
		}
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 50, 50, codeValidation, codeInvalidNextToken)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"ScalableTargets": nonNil(page)}, "NextToken", next), nil
}

func (s *Server) putScalingPolicy(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		targetKey
		PolicyName                               string         `json:"PolicyName"`
		PolicyType                               string         `json:"PolicyType"`
		TargetTrackingScalingPolicyConfiguration map[string]any `json:"TargetTrackingScalingPolicyConfiguration"`
		StepScalingPolicyConfiguration           map[string]any `json:"StepScalingPolicyConfiguration"`
		PredictiveScalingPolicyConfiguration     map[string]any `json:"PredictiveScalingPolicyConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.PolicyName == "" || len(in.PolicyName) > 256 || strings.ContainsAny(in.PolicyName, ":/") {
		return nil, errf(codeValidation, "PolicyName must be 1 to 256 characters and contain no colon or slash.")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if s.targets[in.ResourceID] == nil {
		return nil, in.notFound("registered")
	}
	if in.PolicyType == "" {
		in.PolicyType = "StepScaling"
	}
	switch in.PolicyType {
	case "TargetTrackingScaling":
		tt := in.TargetTrackingScalingPolicyConfiguration
		if tt == nil {
			return nil, errf(codeValidation, "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.")
		}
		if _, ok := tt["TargetValue"].(float64); !ok {
			return nil, errf(codeValidation, "TargetValue is required.")
		}
		_, predefined := tt["PredefinedMetricSpecification"]
		_, custom := tt["CustomizedMetricSpecification"]
		if predefined == custom {
			return nil, errf(codeValidation, "Exactly one of PredefinedMetricSpecification or CustomizedMetricSpecification must be specified.")
		}
		if p, ok := tt["PredefinedMetricSpecification"].(map[string]any); ok {
			switch p["PredefinedMetricType"] {
			case "ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget",
				"ECSServiceAverageCPUUtilizationHighResolution", "ECSServiceAverageMemoryUtilizationHighResolution":
			default:
				return nil, errf(codeValidation, "Unsupported PredefinedMetricType %v for an ECS service.", p["PredefinedMetricType"])
			}
		}
	case "StepScaling":
		if in.StepScalingPolicyConfiguration == nil {
			return nil, errf(codeValidation, "StepScalingPolicyConfiguration is required for a StepScaling policy.")
		}
	case "PredictiveScaling":
		if err := checkPredictive(in.PredictiveScalingPolicyConfiguration); err != nil {
			return nil, err
		}
	default:
		return nil, errf(codeValidation, "Unsupported policy type %s.", in.PolicyType)
	}
	key := in.ResourceID + "/" + in.PolicyName
	p := s.policies[key]
	if p == nil {
		id := randomUUID()
		p = &scalingPolicy{
			arn: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:resource/ecs/%s:policyName/%s",
				rc.region, s.opts.AccountID, id, in.ResourceID, in.PolicyName),
			name: in.PolicyName, resourceID: in.ResourceID, created: rc.now,
		}
		if in.PolicyType == "TargetTrackingScaling" {
			for _, kind := range []string{"AlarmHigh", "AlarmLow"} {
				name := fmt.Sprintf("TargetTracking-%s-%s-%s", in.ResourceID, kind, randomUUID())
				p.alarms = append(p.alarms, map[string]string{
					"AlarmName": name,
					"AlarmARN":  fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", rc.region, s.opts.AccountID, name),
				})
			}
		}
		s.policies[key] = p
	}
	p.policyType = in.PolicyType
	p.targetCfg = in.TargetTrackingScalingPolicyConfiguration
	p.stepCfg = in.StepScalingPolicyConfiguration
	p.predictive = nil
	if in.PolicyType == "PredictiveScaling" {
		p.predictive = in.PredictiveScalingPolicyConfiguration
	}
	out := map[string]any{"PolicyARN": p.arn}
	if p.alarms != nil {
		out["Alarms"] = p.alarms
	} else if p.predictive != nil {
		// The user guide's predictive policy example answers "Alarms": [] ("Create a predictive
		// scaling policy for Application Auto Scaling",
		// https://docs.aws.amazon.com/autoscaling/application/userguide/aas-create-predictive-scaling-policy.html).
		out["Alarms"] = []map[string]string{}
	}
	return out, nil
}

func (s *Server) deleteScalingPolicy(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		targetKey
		PolicyName string `json:"PolicyName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	key := in.ResourceID + "/" + in.PolicyName
	if s.policies[key] == nil {
		return nil, errf(codeObjectNotFound, "No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
			in.ServiceNamespace, in.ResourceID, in.ScalableDimension, in.PolicyName)
	}
	delete(s.policies, key)
	return map[string]any{}, nil
}

func (s *Server) describeScalingPolicies(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ServiceNamespace  string   `json:"ServiceNamespace"`
		ResourceID        string   `json:"ResourceId"`
		ScalableDimension string   `json:"ScalableDimension"`
		PolicyNames       []string `json:"PolicyNames"`
		MaxResults        *int     `json:"MaxResults"`
		NextToken         string   `json:"NextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ServiceNamespace == "" {
		return nil, errf(codeValidation, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	var all []map[string]any
	if in.ServiceNamespace == ecsNamespace && (in.ScalableDimension == "" || in.ScalableDimension == ecsDimension) {
		for _, key := range sortedKeys(s.policies) {
			p := s.policies[key]
			if in.ResourceID != "" && p.resourceID != in.ResourceID {
				continue
			}
			if len(in.PolicyNames) > 0 && !slices.Contains(in.PolicyNames, p.name) {
				continue
			}
			m := map[string]any{
				"PolicyARN": p.arn, "PolicyName": p.name, "ServiceNamespace": ecsNamespace,
				"ResourceId": p.resourceID, "ScalableDimension": ecsDimension,
				"PolicyType": p.policyType, "CreationTime": ts(p.created),
				"Alarms": nonNil(p.alarms),
			}
			if p.targetCfg != nil {
				m["TargetTrackingScalingPolicyConfiguration"] = p.targetCfg
			}
			if p.stepCfg != nil {
				m["StepScalingPolicyConfiguration"] = p.stepCfg
			}
			if p.predictive != nil {
				m["PredictiveScalingPolicyConfiguration"] = p.predictive
			}
			all = append(all, m)
		}
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 10, 10, codeValidation, codeInvalidNextToken)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"ScalingPolicies": nonNil(page)}, "NextToken", next), nil
}

// AutoScale does what an Application Auto Scaling activity would: it sets the service's desired
// count, clamped to the registered target's range. It fails if no scalable target is
// registered for the service, or if dynamic scaling in that direction is suspended.
func (s *Server) AutoScale(clusterName, serviceName string, desired int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advanceLocked(now)
	id := scalableResourceID(clusterName, serviceName)
	tg := s.targets[id]
	if tg == nil {
		return 0, fmt.Errorf("no scalable target is registered for %s", id)
	}
	c, svc := s.ecsServiceOf(id)
	if svc == nil {
		return 0, fmt.Errorf("service %s is not ACTIVE", id)
	}
	n := min(max(desired, tg.min), tg.max)
	if (n > svc.desired && isTrue(tg.suspended.DynamicScalingOutSuspended)) ||
		(n < svc.desired && isTrue(tg.suspended.DynamicScalingInSuspended)) {
		return svc.desired, fmt.Errorf("dynamic scaling of %s is suspended in that direction", id)
	}
	if n != svc.desired {
		s.recordActivity(id, n, s.autoScaleCause(id, n > svc.desired), now)
	}
	s.setDesiredLocked(c, svc, n, now)
	return n, nil
}

// autoScaleCause is the cause of an AutoScale activity: a target tracking policy's alarm, in the
// form of the DescribeScalingActivities example of the API reference
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html):
// "monitor alarm web-app-cpu-lt-25 in state ALARM triggered policy web-app-cpu-lt-25", high to
// scale out and low to scale in. Without such a policy the activity says that ecslocal's control started it:
// no AWS cause fits.
func (s *Server) autoScaleCause(resourceID string, out bool) string {
	for _, key := range sortedKeys(s.policies) {
		p := s.policies[key]
		if p.resourceID != resourceID || len(p.alarms) != 2 {
			continue
		}
		alarm := p.alarms[1]["AlarmName"]
		if out {
			alarm = p.alarms[0]["AlarmName"]
		}
		return fmt.Sprintf("monitor alarm %s in state ALARM triggered policy %s", alarm, p.name)
	}
	return "ecslocal AutoScale control call"
}

// scalingActivity is one of Application Auto Scaling's scaling activities (ScalingActivity API
// reference, https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ScalingActivity.html).
// Most complete at once; a RegisterScalableTarget's range change is InProgress for a while
// (clampDelay).
type scalingActivity struct {
	id, resourceID, description, cause, statusMessage string
	start, end                                        time.Time
	// status is the StatusCode ("Pending | InProgress | Successful | Overridden | Unfulfilled |
	// Failed"); "" is Successful.
	status string
}

// maxActivities bounds the activities kept ("You can look up scaling activities from the last
// six weeks": ecslocal keeps the newest ones instead).
const maxActivities = 1000

// recordActivity records that Application Auto Scaling set a service's desired count to n.
func (s *Server) recordActivity(resourceID string, n int, cause string, at time.Time) {
	s.addActivity(&scalingActivity{
		id: randomUUID(), resourceID: resourceID, cause: cause, start: at, end: at,
		description:   fmt.Sprintf("Setting desired count to %d.", n),
		statusMessage: fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", n),
	})
}

// addActivity records a scaling activity, keeping the newest maxActivities.
func (s *Server) addActivity(a *scalingActivity) {
	s.activities = append(s.activities, a)
	if len(s.activities) > maxActivities {
		s.activities = s.activities[len(s.activities)-maxActivities:]
	}
}

// describeScalingActivities is DescribeScalingActivities
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html):
// the activities of a namespace, filtered by ResourceId and ScalableDimension (a dimension needs a
// resource ID, as for DescribeScalableTargets), newest first, in pages of MaxResults (1–50,
// default 50) with a NextToken; a bad token is an InvalidNextTokenException. ecslocal records no
// not-scaled activities, so IncludeNotScaledActivities adds none.
func (s *Server) describeScalingActivities(rc *reqCtx, body []byte) (any, *apiError) {
	var in struct {
		ServiceNamespace           string `json:"ServiceNamespace"`
		ResourceID                 string `json:"ResourceId"`
		ScalableDimension          string `json:"ScalableDimension"`
		IncludeNotScaledActivities bool   `json:"IncludeNotScaledActivities"`
		MaxResults                 *int   `json:"MaxResults"`
		NextToken                  string `json:"NextToken"`
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
	all := []map[string]any{}
	if in.ServiceNamespace == ecsNamespace && (in.ScalableDimension == "" || in.ScalableDimension == ecsDimension) {
		for i := len(s.activities) - 1; i >= 0; i-- {
			a := s.activities[i]
			if in.ResourceID != "" && a.resourceID != in.ResourceID {
				continue
			}
			m := map[string]any{
				"ActivityId": a.id, "ServiceNamespace": ecsNamespace, "ResourceId": a.resourceID,
				"ScalableDimension": ecsDimension, "Description": a.description, "Cause": a.cause,
				"StartTime": ts(a.start), "StatusCode": cmp.Or(a.status, "Successful"),
			}
			if !a.end.IsZero() {
				m["EndTime"] = ts(a.end)
			}
			if a.statusMessage != "" {
				m["StatusMessage"] = a.statusMessage
			}
			all = append(all, m)
		}
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 50, 50, codeValidation, codeInvalidNextToken)
	if err != nil {
		return nil, err
	}
	return withNextToken(map[string]any{"ScalingActivities": nonNil(page)}, "NextToken", next), nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func boolPtr(b bool) *bool { return &b }

// suspendedJSON is the target's SuspendedState with every member present, false by default.
func (tg *scalableTarget) suspendedJSON() SuspendedState {
	return SuspendedState{
		DynamicScalingInSuspended:  boolPtr(isTrue(tg.suspended.DynamicScalingInSuspended)),
		DynamicScalingOutSuspended: boolPtr(isTrue(tg.suspended.DynamicScalingOutSuspended)),
		ScheduledScalingSuspended:  boolPtr(isTrue(tg.suspended.ScheduledScalingSuspended)),
	}
}

// checkPredictive validates a PredictiveScalingPolicyConfiguration as its API reference requires
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredictiveScalingPolicyConfiguration.html):
// MetricSpecifications is required and "we currently only support a single metric
// specification"; each PredictiveScalingMetricSpecification needs its TargetValue
// (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredictiveScalingMetricSpecification.html);
// Mode is ForecastOnly or ForecastAndScale and MaxCapacityBreachBehavior HonorMaxCapacity or
// IncreaseMaxCapacity. "Predictive scaling is supported on Amazon ECS services", the only
// resources ecslocal has. The configuration is kept and described as given.
func checkPredictive(cfg map[string]any) *apiError {
	if cfg == nil {
		return errf(codeValidation, "PredictiveScalingPolicyConfiguration is required for a PredictiveScaling policy.")
	}
	specs, _ := cfg["MetricSpecifications"].([]any)
	if len(specs) == 0 {
		return errf(codeValidation, "MetricSpecifications is required.")
	}
	if len(specs) > 1 {
		return errf(codeValidation, "Only one metric specification is supported.")
	}
	for _, sp := range specs {
		m, _ := sp.(map[string]any)
		if _, ok := m["TargetValue"].(float64); !ok {
			return errf(codeValidation, "TargetValue is required.")
		}
	}
	if mode, ok := cfg["Mode"]; ok && mode != "ForecastOnly" && mode != "ForecastAndScale" {
		return errf(codeValidation, "1 validation error detected: Value '%v' at 'predictiveScalingPolicyConfiguration.mode' failed to satisfy constraint: Member must satisfy enum value set: [ForecastOnly, ForecastAndScale]", mode)
	}
	if b, ok := cfg["MaxCapacityBreachBehavior"]; ok && b != "HonorMaxCapacity" && b != "IncreaseMaxCapacity" {
		return errf(codeValidation, "1 validation error detected: Value '%v' at 'predictiveScalingPolicyConfiguration.maxCapacityBreachBehavior' failed to satisfy constraint: Member must satisfy enum value set: [HonorMaxCapacity, IncreaseMaxCapacity]", b)
	}
	return nil
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
