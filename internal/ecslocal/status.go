package ecslocal

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"
)

// Seed is what ecslocal can be started with: clusters to create, task definitions to register
// (each a RegisterTaskDefinition request body, in order) and load balancers to create.
type Seed struct {
	Clusters        []string           `json:"clusters"`
	TaskDefinitions []json.RawMessage  `json:"taskDefinitions"`
	LoadBalancers   []SeedLoadBalancer `json:"loadBalancers,omitempty"`
}

// SeedLoadBalancer is an Application Load Balancer with an HTTP listener on port 80 whose default
// action forwards to its target groups, the first with weight 1 and the others with weight 0,
// so that every one of them has an associated load balancer and can serve an ECS service.
type SeedLoadBalancer struct {
	Name         string            `json:"name"`
	TargetGroups []SeedTargetGroup `json:"targetGroups"`
}

// SeedTargetGroup is an HTTP target group in VPC vpc-ecslocal; unset settings take AWS's
// defaults (target type ip, port 80).
type SeedTargetGroup struct {
	Name                       string `json:"name"`
	Port                       int    `json:"port,omitempty"`
	TargetType                 string `json:"targetType,omitempty"`
	HealthCheckIntervalSeconds int    `json:"healthCheckIntervalSeconds,omitempty"`
	HealthyThresholdCount      int    `json:"healthyThresholdCount,omitempty"`
	UnhealthyThresholdCount    int    `json:"unhealthyThresholdCount,omitempty"`
	DeregistrationDelaySeconds *int   `json:"deregistrationDelaySeconds,omitempty"`
}

// ApplySeed creates the seed's clusters and registers its task definitions, as CreateCluster and
// RegisterTaskDefinition calls would (they do not appear in the call log).
func (s *Server) ApplySeed(sd Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := &reqCtx{now: s.clock.Now(), region: s.opts.Region, seed: true}
	s.advanceLocked(rc.now)
	for _, name := range sd.Clusters {
		body, _ := json.Marshal(map[string]string{"clusterName": name})
		if _, err := s.createCluster(rc, body); err != nil {
			return fmt.Errorf("seeding cluster %q: %s", name, err.Message)
		}
	}
	for i, td := range sd.TaskDefinitions {
		if _, err := s.registerTaskDefinition(rc, td); err != nil {
			return fmt.Errorf("seeding task definition %d: %s", i+1, err.Message)
		}
	}
	for _, lb := range sd.LoadBalancers {
		if err := s.seedLoadBalancer(rc, lb); err != nil {
			return fmt.Errorf("seeding load balancer %q: %s", lb.Name, err.Message)
		}
	}
	return nil
}

// seedLoadBalancer makes a SeedLoadBalancer with the operations a client would call.
func (s *Server) seedLoadBalancer(rc *reqCtx, sl SeedLoadBalancer) *apiError {
	out, err := s.createLoadBalancer(rc, form{"Name": {sl.Name}, "Subnets.member.1": {"subnet-ecslocal-a"}, "Subnets.member.2": {"subnet-ecslocal-b"}})
	if err != nil {
		return err
	}
	lbs, _ := out.(xLoadBalancers)
	lbArn := lbs.LoadBalancers[0].LoadBalancerArn
	listener := form{"LoadBalancerArn": {lbArn}, "Protocol": {"HTTP"}, "Port": {"80"}, "DefaultActions.member.1.Type": {"forward"}}
	for i, st := range sl.TargetGroups {
		q := form{"Name": {st.Name}, "Protocol": {"HTTP"}, "Port": {"80"}, "VpcId": {"vpc-ecslocal"}, "TargetType": {"ip"}}
		if st.Port != 0 {
			q["Port"] = []string{strconv.Itoa(st.Port)}
		}
		if st.TargetType != "" {
			q["TargetType"] = []string{st.TargetType}
		}
		for k, v := range map[string]int{"HealthCheckIntervalSeconds": st.HealthCheckIntervalSeconds, "HealthyThresholdCount": st.HealthyThresholdCount, "UnhealthyThresholdCount": st.UnhealthyThresholdCount} {
			if v != 0 {
				q[k] = []string{strconv.Itoa(v)}
			}
		}
		tgOut, err := s.createTargetGroup(rc, q)
		if err != nil {
			return err
		}
		tgs, _ := tgOut.(xTargetGroups)
		arn := tgs.TargetGroups[0].TargetGroupArn
		if st.DeregistrationDelaySeconds != nil {
			if _, err := s.modifyTargetGroupAttributes(rc, form{"TargetGroupArn": {arn}, "Attributes.member.1.Key": {attrDeregistrationDelay},
				"Attributes.member.1.Value": {strconv.Itoa(*st.DeregistrationDelaySeconds)}}); err != nil {
				return err
			}
		}
		weight := "0"
		if i == 0 {
			weight = "1"
		}
		prefix := fmt.Sprintf("DefaultActions.member.1.ForwardConfig.TargetGroups.member.%d.", i+1)
		listener[prefix+"TargetGroupArn"] = []string{arn}
		listener[prefix+"Weight"] = []string{weight}
	}
	_, err = s.createListener(rc, listener)
	return err
}

// TargetGroupArn returns the ARN of the target group of that name.
func (s *Server) TargetGroupArn(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tg := range s.elb.tgs {
		if tg.name == name {
			return tg.arn, true
		}
	}
	return "", false
}

// LoadSeedFile reads a Seed from a JSON file.
func LoadSeedFile(path string) (Seed, error) {
	var sd Seed
	b, err := os.ReadFile(path)
	if err != nil {
		return sd, err
	}
	if err := json.Unmarshal(b, &sd); err != nil {
		return sd, fmt.Errorf("parsing seed file %s: %w", path, err)
	}
	return sd, nil
}

// ServiceStatus is one service in a StatusReport.
type ServiceStatus struct {
	Cluster        string            `json:"cluster"`
	Name           string            `json:"name"`
	Status         string            `json:"status"`
	TaskDefinition string            `json:"taskDefinition"` // family:revision
	Desired        int               `json:"desired"`
	Running        int               `json:"running"`
	Pending        int               `json:"pending"`
	Tags           map[string]string `json:"tags"`
	AutoScaling    *AutoScalingState `json:"autoScaling,omitempty"`
	// TargetGroups counts, for a service behind load balancers, its tasks' targets in each target
	// group by state.
	TargetGroups []ServiceTargets `json:"targetGroups,omitempty"`
}

// TargetCounts counts targets by Elastic Load Balancing state.
type TargetCounts struct {
	Healthy   int `json:"healthy"`
	Initial   int `json:"initial"`
	Unhealthy int `json:"unhealthy"`
	Draining  int `json:"draining"`
	Unused    int `json:"unused"`
}

func (c *TargetCounts) add(state string) {
	switch state {
	case tsHealthy:
		c.Healthy++
	case tsInitial:
		c.Initial++
	case tsUnhealthy:
		c.Unhealthy++
	case tsDraining:
		c.Draining++
	case tsUnused:
		c.Unused++
	}
}

// ServiceTargets are a service's targets in one target group.
type ServiceTargets struct {
	TargetGroupArn string `json:"targetGroupArn"`
	Name           string `json:"name"`
	TargetCounts
}

// TargetGroupStatus is a target group with all its registered targets.
type TargetGroupStatus struct {
	Arn           string   `json:"arn"`
	Name          string   `json:"name"`
	TargetType    string   `json:"targetType"`
	Protocol      string   `json:"protocol"`
	Port          int      `json:"port"`
	LoadBalancers []string `json:"loadBalancers"` // names of the load balancers that forward to it
	TargetCounts
}

// AutoScalingState is the scalable target registered for a service, if any.
type AutoScalingState struct {
	Min      int      `json:"min"`
	Max      int      `json:"max"`
	Policies []string `json:"policies"`
	// ScheduledActions names the target's scheduled actions, sorted.
	ScheduledActions []string `json:"scheduledActions"`
	// Suspended lists what is suspended, of "in", "out" and "scheduled" (SuspendedState's
	// DynamicScalingInSuspended, DynamicScalingOutSuspended and ScheduledScalingSuspended).
	Suspended []string `json:"suspended"`
}

// StatusReport is a snapshot of every cluster's services and every target group, for people,
// demos and tests.
type StatusReport struct {
	Services     []ServiceStatus     `json:"services"`
	TargetGroups []TargetGroupStatus `json:"targetGroups,omitempty"`
}

// Status returns every ACTIVE and DRAINING service with its counts, tags and auto scaling.
func (s *Server) Status() StatusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(s.clock.Now())
	now := s.clock.Now()
	rep := StatusReport{Services: []ServiceStatus{}}
	for _, cname := range sortedKeys(s.clusters) {
		c := s.clusters[cname]
		for _, name := range c.order {
			svc := c.services[name]
			if svc.status == "INACTIVE" {
				continue
			}
			running, pending := svc.counts()
			st := ServiceStatus{
				Cluster: cname, Name: name, Status: svc.status,
				TaskDefinition: svc.taskDef.family + ":" + strconv.Itoa(svc.taskDef.revision),
				Desired:        svc.desired, Running: running, Pending: pending, Tags: map[string]string{},
			}
			for _, t := range svc.tags {
				st.Tags[t.Key] = t.Value
			}
			id := scalableResourceID(cname, name)
			if tg := s.targets[id]; tg != nil {
				st.AutoScaling = &AutoScalingState{Min: tg.min, Max: tg.max, Policies: []string{}}
				for _, p := range s.policies {
					if p.resourceID == id {
						st.AutoScaling.Policies = append(st.AutoScaling.Policies, p.name)
					}
				}
				slices.Sort(st.AutoScaling.Policies)
				st.AutoScaling.ScheduledActions = []string{}
				for _, a := range s.sched.actions {
					if a.resourceID == id {
						st.AutoScaling.ScheduledActions = append(st.AutoScaling.ScheduledActions, a.name)
					}
				}
				slices.Sort(st.AutoScaling.ScheduledActions)
				st.AutoScaling.Suspended = []string{}
				for _, k := range []struct {
					name string
					on   *bool
				}{{"in", tg.suspended.DynamicScalingInSuspended}, {"out", tg.suspended.DynamicScalingOutSuspended}, {"scheduled", tg.suspended.ScheduledScalingSuspended}} {
					if isTrue(k.on) {
						st.AutoScaling.Suspended = append(st.AutoScaling.Suspended, k.name)
					}
				}
			}
			st.TargetGroups = s.serviceTargets(svc, now)
			rep.Services = append(rep.Services, st)
		}
	}
	for _, tg := range s.elb.tgs {
		ts := TargetGroupStatus{Arn: tg.arn, Name: tg.name, TargetType: tg.targetType, Protocol: tg.protocol, Port: tg.port, LoadBalancers: []string{}}
		for _, lb := range tg.lbs {
			ts.LoadBalancers = append(ts.LoadBalancers, lb.name)
		}
		for _, t := range tg.targets {
			if !t.gone(now) {
				ts.add(t.health.at(now).state)
			}
		}
		rep.TargetGroups = append(rep.TargetGroups, ts)
	}
	return rep
}

// serviceTargets counts a service's registered targets by target group and state.
func (s *Server) serviceTargets(svc *service, now time.Time) []ServiceTargets {
	var out []ServiceTargets
	find := func(tg string) *ServiceTargets {
		for i := range out {
			if out[i].TargetGroupArn == tg {
				return &out[i]
			}
		}
		name := lastSegment(tg)
		if g := s.elb.tg(tg); g != nil {
			name = g.name
		}
		out = append(out, ServiceTargets{TargetGroupArn: tg, Name: name})
		return &out[len(out)-1]
	}
	for _, d := range svc.deployments {
		for _, r := range d.lbs {
			find(r.targetGroupArn)
		}
	}
	for _, tk := range svc.tasks {
		for _, t := range tk.targets {
			if t != nil && !t.gone(now) {
				find(t.tg.arn).add(t.health.at(now).state)
			}
		}
	}
	return out
}
