// Package ecslocal emulates the Amazon ECS and Application Auto Scaling control planes on the
// real AWS JSON 1.1 wire protocol, and Elastic Load Balancing v2 on its query protocol, so that
// the provider, its engine and its tests can run without an AWS account. It is a test double at
// the wire: every client talks to it through the real aws-sdk-go-v2 clients (or the AWS CLI) with
// a custom endpoint, all three services on one address.
//
// Tasks are simulated lazily: every request (and every control call) first advances the world to
// the clock's current time, applying each task transition at the instant it was due. Timestamps
// in responses and in the timeline are therefore the due times, not the times they were observed.
package ecslocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

const (
	svcECS         = "ecs"
	svcAutoScaling = "application-autoscaling"

	ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."
	aasTargetPrefix = "AnyScaleFrontendService."

	// ControlPrefix is the URL path under which the control API lives. AWS operations are all
	// POST / with an X-Amz-Target header, so no AWS request can reach a path under it.
	ControlPrefix = "/_ecslocal/"

	defaultRegion  = "us-east-1"
	defaultAccount = "000000000000"
	maxEvents      = 100
	maxStoppedKept = 100
)

// Options configure a new Server. The zero value is usable: tasks start and stop at once,
// throttling is off and every action is allowed.
type Options struct {
	// Clock defaults to the real clock.
	Clock Clock
	// StartDelay is how long a task stays PENDING before it is RUNNING.
	StartDelay time.Duration
	// StopDelay is how long a task keeps running after the scheduler decides to stop it.
	StopDelay time.Duration
	// Throttling turns on ECS's per-operation token buckets.
	Throttling bool
	// AllowedActions, when non-nil, is the IAM allow-list ("ecs:CreateService",
	// "application-autoscaling:RegisterScalableTarget"); any other action is denied.
	AllowedActions []string
	// Region and AccountID appear in ARNs. They default to us-east-1 and 000000000000; a
	// request signed for another region gets ARNs of that region.
	Region    string
	AccountID string
	// Logger, when set, receives one line per call.
	Logger *log.Logger
	// TimeScale multiplies every duration AWS defines: target groups' health check intervals and
	// deregistration delays, services' health check grace periods, containers' health check
	// intervals and start periods, and the 5 seconds Application Auto Scaling's activity takes to
	// move a desired count into a newly registered range (0 means 1). 0.01 makes a 30-second
	// health check interval 300 ms. The start and stop delays, the durations of ecslocal's docker
	// labels and the times of scheduled actions (wall-clock times) are not scaled.
	TimeScale float64
	// ConsistencyLag is how long a newly created cluster or service stays invisible to
	// DescribeClusters, ListClusters, DescribeServices and ListServices, and a new cluster to
	// CreateService, UpdateService and DeleteService (ClusterNotFoundException) (0: none). "The Amazon
	// ECS API follows an eventual consistency model ... the result of an API command you run
	// that affects your Amazon ECS resources might not be immediately visible to all subsequent
	// commands you run" (ECS API reference, RunTask and the other Create actions:
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html).
	ConsistencyLag time.Duration
	// FreshAccount makes ecslocal an account whose ECS service-linked role does not exist yet:
	// the first CreateService fails once with InvalidParameterException "Unable to assume the
	// service linked role. Please verify that the ECS service linked role exists.", as ECS
	// answers while it creates the role (ECS developer guide, "Using service-linked roles for
	// Amazon ECS", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html;
	// terraform-provider-aws retries that error in retryServiceCreate,
	// internal/service/ecs/service.go). Reset arms it again.
	FreshAccount bool
}

// Server is an in-memory ECS, Application Auto Scaling and Elastic Load Balancing v2 endpoint. It
// implements http.Handler,
// and its exported methods are the Go control surface (the same as the HTTP control API).
type Server struct {
	mu       sync.Mutex
	clock    Clock
	opts     Options
	allowed  map[string]bool
	clusters map[string]*cluster // by name
	taskDefs map[string][]*taskDefinition
	targets  map[string]*scalableTarget // by resource ID
	elb      *elbState
	ipSeq    int                       // the last private IPv4 address given to a task, as a number
	policies map[string]*scalingPolicy // by resource ID + "/" + policy name
	queue    eventQueue
	buckets  map[string]*bucket
	faults   []*Fault
	calls    []Call
	timeline []TimelineEntry
	seq      int64
	// linkedRole: Application Auto Scaling's ECS service-linked role exists in the account
	// (the first RegisterScalableTarget creates it).
	linkedRole bool
	// ecsRoleMissing: ECS's own service-linked role does not exist yet (Options.FreshAccount);
	// the first CreateService fails once and creates it.
	ecsRoleMissing bool
	// zones numbers the subnets ecslocal has seen, in the order it saw them: subnet number n is
	// in Availability Zone <region><'a'+n%6>.
	zones map[string]int
	// activities are Application Auto Scaling's scaling activities, oldest first.
	activities []*scalingActivity
	// cw is CloudWatch: alarms and metrics (cloudwatch.go).
	cw *cwState
	// sched holds Application Auto Scaling's scheduled actions and range changes in progress.
	sched *aasSchedule
}

// New returns a Server ready to serve requests.
func New(opts Options) *Server {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Region == "" {
		opts.Region = defaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = defaultAccount
	}
	s := &Server{clock: opts.Clock, opts: opts}
	s.resetLocked()
	s.setAllowedLocked(opts.AllowedActions)
	return s
}

func (s *Server) resetLocked() {
	s.clusters = map[string]*cluster{}
	s.taskDefs = map[string][]*taskDefinition{}
	s.targets = map[string]*scalableTarget{}
	s.elb = newELBState()
	s.ipSeq = 10<<8 + 9
	s.policies = map[string]*scalingPolicy{}
	s.queue = eventQueue{}
	s.buckets = map[string]*bucket{}
	s.faults = nil
	s.calls = nil
	s.timeline = nil
	s.linkedRole = false
	s.ecsRoleMissing = s.opts.FreshAccount
	s.zones = map[string]int{}
	s.activities = nil
	s.cw = newCWState()
	s.sched = newAASSchedule()
}

// handler is one AWS operation: it decodes its own input from body and returns the output.
type handler func(s *Server, rc *reqCtx, body []byte) (any, *apiError)

// reqCtx carries what a handler needs besides the body: the time of the call and the region the
// request was signed for.
type reqCtx struct {
	now    time.Time
	region string
	// seed: the call comes from ApplySeed, whose resources exist before any client looks.
	seed bool
}

// visibleFrom is when a resource created by this call becomes visible to Describe and List
// calls: at once for seeded resources, after Options.ConsistencyLag for created ones.
func (s *Server) visibleFrom(rc *reqCtx) time.Time {
	if rc.seed {
		return rc.now
	}
	return rc.now.Add(s.opts.ConsistencyLag)
}

// visible tells whether a resource visible from `from` shows at now.
func visible(from, now time.Time) bool { return !now.Before(from) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.serveControl(w, r)
		return
	}
	if s.serveCloudWatch(w, r) {
		return
	}
	if isQueryRequest(r) {
		s.serveQuery(w, r)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	service, op, h := lookupOperation(target)
	if h == nil {
		svc := svcECS
		if strings.HasPrefix(target, aasTargetPrefix) {
			svc = svcAutoScaling
		}
		writeError(w, svc, errf(codeUnknownOperation, "Unknown operation %s", target))
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, service, &apiError{Status: http.StatusMethodNotAllowed, Code: codeSerialization, Message: "only POST is supported"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		writeError(w, service, errf(codeSerialization, "reading request body: %v", err))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}

	out, aerr := s.dispatch(r, service, op, resourceOf(body), func() []string { return s.impliedActionsLocked(service, op, body) }, false,
		func(rc *reqCtx) (any, *apiError) { return h(s, rc, body) })
	if aerr != nil {
		writeError(w, service, aerr)
	} else {
		writeJSON(w, out)
	}
}

// dispatch serves one AWS call under the server's lock, the same way for every protocol: it
// brings the world up to now, applies the gate in the order AWS does (IAM, with the actions
// implied computed under the lock; throttling; injected faults), runs the operation, records the
// call and logs it. query gives the common errors their awsQuery spellings (AccessDenied with
// HTTP 403, Throttling), as Elastic Load Balancing's and CloudWatch's query APIs spell them
// ("Common errors" of each API reference, e.g.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
func (s *Server) dispatch(r *http.Request, service, op, resource string, implied func() []string, query bool, run func(*reqCtx) (any, *apiError)) (any, *apiError) {
	start := time.Now()
	s.mu.Lock()
	now := s.clock.Now()
	s.advanceLocked(now)
	rc := &reqCtx{now: now, region: s.regionOf(r)}
	call := Call{Seq: s.nextSeq(), Time: now, Service: service, Operation: op, Resource: resource, Write: isWrite(op)}
	var out any
	aerr := s.gateLocked(service, op, implied(), now)
	switch {
	case aerr != nil && query && aerr.Code == codeAccessDenied:
		aerr = &apiError{Status: http.StatusForbidden, Code: "AccessDenied", Message: aerr.Message}
	case aerr != nil && query && aerr.Code == codeThrottling:
		aerr = &apiError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}
	case aerr == nil:
		out, aerr = run(rc)
	}
	if aerr == nil && service == svcAutoScaling && op == "RegisterScalableTarget" {
		s.linkedRole = true
	}
	if aerr != nil {
		call.ErrorCode = aerr.Code
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	if s.opts.Logger != nil {
		status := "ok"
		if aerr != nil {
			status = aerr.Code
		}
		s.opts.Logger.Printf("%s:%s %s %s %s", service, op, resource, status, time.Since(start).Round(time.Microsecond))
	}
	return out, aerr
}

// gateLocked applies, in the order AWS does, IAM authorization (of the call's own action, then
// of the actions AWS authorizes as part of it), throttling and then any injected fault.
func (s *Server) gateLocked(service, op string, implied []string, now time.Time) *apiError {
	if s.allowed != nil {
		for _, action := range append([]string{service + ":" + op}, implied...) {
			if !s.allowed[action] {
				return errf(codeAccessDenied, "User: arn:aws:iam::%s:user/ecslocal is not authorized to perform: %s because no identity-based policy allows the %s action", s.opts.AccountID, action, action)
			}
		}
	}
	if s.opts.Throttling && !s.takeToken(service, op, now) {
		return errf(codeThrottling, "Rate exceeded")
	}
	return s.matchFault(service, op)
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/`)

// regionOf reads the region from the request's SigV4 credential scope, so ARNs carry the region
// the client is configured for.
func (s *Server) regionOf(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return s.opts.Region
}

// scaled applies the time scale to a duration AWS defines.
func (s *Server) scaled(d time.Duration) time.Duration {
	if f := s.opts.TimeScale; f > 0 && f != 1 {
		return time.Duration(float64(d) * f)
	}
	return d
}

func (s *Server) nextSeq() int64 {
	s.seq++
	return s.seq
}

// resourceOf names what a call is about, for the call log: the service, task definition,
// cluster or Application Auto Scaling resource ID in the request.
func resourceOf(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	for _, k := range []string{"service", "serviceName", "resourceArn", "ResourceId", "taskDefinition", "family", "familyPrefix"} {
		if v, ok := m[k].(string); ok {
			return v
		}
	}
	for _, k := range []string{"services", "ResourceIds", "clusters"} {
		if v, ok := m[k].([]any); ok {
			parts := make([]string, 0, len(v))
			for _, p := range v {
				parts = append(parts, fmt.Sprint(p))
			}
			return strings.Join(parts, ",")
		}
	}
	if v, ok := m["cluster"].(string); ok {
		return v
	}
	if v, ok := m["clusterName"].(string); ok {
		return v
	}
	return ""
}

// isWrite tells whether an operation changes anything.
func isWrite(op string) bool {
	for _, p := range []string{"Create", "Update", "Delete", "Register", "Deregister", "Put", "Tag", "Untag", "Modify", "Add", "Remove", "Set"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func lookupOperation(target string) (service, op string, h handler) {
	switch {
	case strings.HasPrefix(target, ecsTargetPrefix):
		op = strings.TrimPrefix(target, ecsTargetPrefix)
		return svcECS, op, ecsOps[op]
	case strings.HasPrefix(target, aasTargetPrefix):
		op = strings.TrimPrefix(target, aasTargetPrefix)
		return svcAutoScaling, op, aasOps[op]
	}
	return "", "", nil
}

// decode unmarshals a request body into v, turning JSON errors into a SerializationException.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return errf(codeSerialization, "Unable to parse request body: %v", err)
	}
	return nil
}
