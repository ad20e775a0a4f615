package ecslocal

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Call is one AWS API call as ecslocal saw it.
type Call struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Service   string    `json:"service"`   // "ecs", "application-autoscaling" or "elasticloadbalancing"
	Operation string    `json:"operation"` // e.g. "UpdateService"
	Resource  string    `json:"resource,omitempty"`
	Write     bool      `json:"write"`
	ErrorCode string    `json:"errorCode,omitempty"`
}

// Action is the IAM action of the call, e.g. "ecs:UpdateService".
func (c Call) Action() string { return c.Service + ":" + c.Operation }

// TimelineEntry records a service's counts at the instant they changed.
type TimelineEntry struct {
	Time    time.Time `json:"time"`
	Cluster string    `json:"cluster"`
	Service string    `json:"service"`
	Status  string    `json:"status"`
	Desired int       `json:"desired"`
	Running int       `json:"running"`
	Pending int       `json:"pending"`
	// HealthyTargets is, for a service behind load balancers, the number of its tasks' targets
	// each target group (by ARN) reports healthy: what the service serves. Nil for a service
	// without load balancers.
	HealthyTargets map[string]int `json:"healthyTargets,omitempty"`
}

// ServingPoint is the number of healthy targets of a target group at an instant.
type ServingPoint struct {
	Time    time.Time `json:"time"`
	Healthy int       `json:"healthy"`
}

// ServingTimeline sums the healthy targets that all services have in a target group, after each
// timeline entry that changes it; changes at the same instant make one point, with the count they
// leave. Tests use it to check that the serving capacity behind a load balancer never dipped
// while a deployment moved from one service to another.
func ServingTimeline(timeline []TimelineEntry, targetGroupArn string) []ServingPoint {
	last := map[string]int{} // by cluster/service
	var out []ServingPoint
	for _, te := range timeline {
		n, ok := te.HealthyTargets[targetGroupArn]
		key := te.Cluster + "/" + te.Service
		if old, seen := last[key]; !ok && !seen || ok && seen && old == n {
			continue
		}
		last[key] = n
		total := 0
		for _, v := range last {
			total += v
		}
		if len(out) > 0 && out[len(out)-1].Time.Equal(te.Time) {
			out[len(out)-1].Healthy = total
			continue
		}
		out = append(out, ServingPoint{Time: te.Time, Healthy: total})
	}
	return out
}

// Fault makes calls of an operation fail. After Skip matching calls have passed, the next Count
// matching calls fail (Count < 0: every later one) with HTTP status Status (default 400), error
// code Code and Message.
type Fault struct {
	Operation string `json:"operation"` // "UpdateService", "ecs:UpdateService" or "*"
	Skip      int    `json:"skip,omitempty"`
	Count     int    `json:"count"`
	Code      string `json:"code"`
	Message   string `json:"message,omitempty"`
	Status    int    `json:"status,omitempty"`
}

func (f *Fault) matches(service, op string) bool {
	switch f.Operation {
	case "*", op, service + ":" + op:
		return true
	}
	return false
}

// matchFault consumes the first fault that applies to this call.
func (s *Server) matchFault(service, op string) *apiError {
	for _, f := range s.faults {
		if !f.matches(service, op) || f.Count == 0 {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		if f.Count > 0 {
			f.Count--
		}
		status := f.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		msg := f.Message
		if msg == "" {
			msg = "Injected fault."
		}
		return &apiError{Status: status, Code: f.Code, Message: msg}
	}
	return nil
}

// Config is the part of Options that can change while the server runs.
type Config struct {
	StartDelay     Duration `json:"startDelay"`
	StopDelay      Duration `json:"stopDelay"`
	Throttling     bool     `json:"throttling"`
	AllowedActions []string `json:"allowedActions"` // null: everything allowed
	// TimeScale is Options.TimeScale (0 or absent means 1, and a scale of 1 is reported as 0); it
	// applies to durations computed afterwards.
	TimeScale float64 `json:"timeScale,omitempty"`
	// ConsistencyLag is Options.ConsistencyLag; it applies to clusters and services created
	// afterwards.
	ConsistencyLag Duration `json:"consistencyLag,omitempty"`
}

// Duration marshals as a Go duration string ("1.5s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler; it takes "1.5s" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		*d = Duration(time.Duration(x * float64(time.Millisecond)))
	case string:
		p, err := time.ParseDuration(x)
		if err != nil {
			return err
		}
		*d = Duration(p)
	}
	return nil
}

// Configure changes the delays, throttling, allow-list, time scale and consistency lag. Delays
// apply to tasks started or stopped afterwards, the lag to clusters and services created
// afterwards.
func (s *Server) Configure(c Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	s.opts.StartDelay = time.Duration(c.StartDelay)
	s.opts.StopDelay = time.Duration(c.StopDelay)
	s.opts.Throttling = c.Throttling
	s.opts.TimeScale = c.TimeScale
	s.opts.ConsistencyLag = time.Duration(c.ConsistencyLag)
	s.setAllowedLocked(c.AllowedActions)
}

// CurrentConfig returns the running configuration.
func (s *Server) CurrentConfig() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Config{StartDelay: Duration(s.opts.StartDelay), StopDelay: Duration(s.opts.StopDelay), Throttling: s.opts.Throttling, ConsistencyLag: Duration(s.opts.ConsistencyLag)}
	if s.opts.TimeScale > 0 && s.opts.TimeScale != 1 {
		c.TimeScale = s.opts.TimeScale
	}
	if s.allowed != nil {
		c.AllowedActions = []string{}
		for a := range s.allowed {
			c.AllowedActions = append(c.AllowedActions, a)
		}
		sort.Strings(c.AllowedActions)
	}
	return c
}

// SetAllowedActions sets the IAM allow-list; nil allows everything.
func (s *Server) SetAllowedActions(actions []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setAllowedLocked(actions)
}

func (s *Server) setAllowedLocked(actions []string) {
	if actions == nil {
		s.allowed = nil
		return
	}
	s.allowed = map[string]bool{}
	for _, a := range actions {
		s.allowed[a] = true
	}
}

// SetThrottling turns ECS's token buckets on or off. Turning it on starts every bucket full.
func (s *Server) SetThrottling(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Throttling = on
	s.buckets = map[string]*bucket{}
}

// InjectFault adds a fault; faults are consulted in the order they were added.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls returns the call log in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// LastCall returns the latest call in the log, and false when the log is empty. Unlike Calls it
// copies nothing, so a test harness can look at every call as it is served.
func (s *Server) LastCall() (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		return Call{}, false
	}
	return s.calls[len(s.calls)-1], true
}

// CallCounts returns the number of calls per action ("ecs:DescribeServices").
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return countCalls(s.calls)
}

func countCalls(calls []Call) map[string]int {
	m := map[string]int{}
	for _, c := range calls {
		m[c.Action()]++
	}
	return m
}

// Timeline returns every recorded change of a service's counts, in time order. It first advances
// the world to now.
func (s *Server) Timeline() []TimelineEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	return append([]TimelineEntry(nil), s.timeline...)
}

// ClearObservations empties the call log and the timeline but keeps the world.
func (s *Server) ClearObservations() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.timeline = nil
}

// Reset forgets everything: clusters, task definitions, services, scaling and its activities,
// faults, calls and the timeline. Delays, throttling and the allow-list are kept; with
// Options.FreshAccount the account is fresh again (its first CreateService fails once).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// serveControl serves the JSON control API:
//
//	GET  /_ecslocal/status     services with their counts, tags and scaling (StatusReport)
//	GET  /_ecslocal/calls      {"counts": {...}, "calls": [...]}
//	GET  /_ecslocal/timeline   [...]
//	GET  /_ecslocal/config     Config;  POST /_ecslocal/config  Config
//	POST /_ecslocal/faults     Fault;   DELETE /_ecslocal/faults
//	POST /_ecslocal/seed       Seed
//	POST /_ecslocal/autoscale  {"cluster","service","desiredCount"}: what a scaling activity would do
//	POST /_ecslocal/interrupt  {"cluster","service","count","kind"}: ECS stops tasks on its own
//	                           (kind "spot" or "retirement", see Interrupt); {"tasks": [...]}
//	POST /_ecslocal/rebalance  {"cluster","service","count"}: Availability Zone rebalancing
//	                           (see Rebalance); {"started": [...], "stopping": [...]}
//	GET  /_ecslocal/alarms     CloudWatch alarms' states (AlarmState)
//	POST /_ecslocal/metric     MetricValue: one metric value, as PutMetricData would store it
//	POST /_ecslocal/reset;     POST /_ecslocal/clear-observations
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, ControlPrefix)
	reply := func(v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		if v == nil {
			v = map[string]bool{"ok": true}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	decodeBody := func(v any) error { return json.NewDecoder(r.Body).Decode(v) }
	switch r.Method + " " + path {
	case "GET status":
		reply(s.Status(), nil)
	case "GET calls":
		calls := s.Calls()
		reply(map[string]any{"counts": countCalls(calls), "calls": calls}, nil)
	case "GET timeline":
		reply(s.Timeline(), nil)
	case "GET config":
		reply(s.CurrentConfig(), nil)
	case "POST config":
		var c Config
		if err := decodeBody(&c); err != nil {
			reply(nil, err)
			return
		}
		s.Configure(c)
		reply(s.CurrentConfig(), nil)
	case "POST faults":
		var f Fault
		if err := decodeBody(&f); err != nil {
			reply(nil, err)
			return
		}
		s.InjectFault(f)
		reply(nil, nil)
	case "DELETE faults":
		s.ClearFaults()
		reply(nil, nil)
	case "POST seed":
		var sd Seed
		if err := decodeBody(&sd); err != nil {
			reply(nil, err)
			return
		}
		reply(nil, s.ApplySeed(sd))
	case "POST autoscale":
		var a struct {
			Cluster      string `json:"cluster"`
			Service      string `json:"service"`
			DesiredCount int    `json:"desiredCount"`
		}
		if err := decodeBody(&a); err != nil {
			reply(nil, err)
			return
		}
		n, err := s.AutoScale(a.Cluster, a.Service, a.DesiredCount)
		reply(map[string]int{"desiredCount": n}, err)
	case "POST interrupt":
		var a struct {
			Cluster string `json:"cluster"`
			Service string `json:"service"`
			Count   int    `json:"count"`
			Kind    string `json:"kind"`
		}
		if err := decodeBody(&a); err != nil {
			reply(nil, err)
			return
		}
		tasks, err := s.Interrupt(a.Cluster, a.Service, a.Count, a.Kind)
		reply(map[string][]string{"tasks": tasks}, err)
	case "POST rebalance":
		var a struct {
			Cluster string `json:"cluster"`
			Service string `json:"service"`
			Count   int    `json:"count"`
		}
		if err := decodeBody(&a); err != nil {
			reply(nil, err)
			return
		}
		r, err := s.Rebalance(a.Cluster, a.Service, a.Count)
		reply(r, err)
	case "GET alarms":
		reply(s.Alarms(), nil)
	case "POST metric":
		var m MetricValue
		if err := decodeBody(&m); err != nil {
			reply(nil, err)
			return
		}
		reply(nil, s.PutMetric(m))
	case "POST reset":
		s.Reset()
		reply(nil, nil)
	case "POST clear-observations":
		s.ClearObservations()
		reply(nil, nil)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": errNotFound(r.Method + " " + r.URL.Path).Error()})
	}
}

type errNotFound string

func (e errNotFound) Error() string { return "no control endpoint " + string(e) }
